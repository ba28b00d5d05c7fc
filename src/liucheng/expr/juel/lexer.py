"""Split JUEL text into tokens, each carrying its offset in the *whole* attribute text.

Offsets are counted from the start of the text the modeller wrote (``Dear ${name}`` included), so
an error message points at the same character an editor shows.  The lexer reads one expression:
either to the ``}`` that closes a ``${``/``#{`` (template mode, the ``}`` becomes an ``end`` token)
or to the end of the text (a bare expression such as a condition with ``language="juel"``).

Word operators (``and``, ``eq``, ``div``, ``empty``…) come out as ``name`` tokens; the parser
decides what they mean, because after a dot they are ordinary property names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from liucheng.errors import ExpressionError

_SPACE = re.compile(r"\s+")
_NAME = re.compile(r"(?:[^\W\d]|\$)[\w$]*")
_NUMBER = re.compile(
    r"(?P<float>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)|(?P<int>\d+)"
)
_TWO = frozenset({"&&", "||", "==", "!=", "<=", ">="})
_ONE = frozenset("+-*/%!?:.[](),<>")
_REFUSED = {
    "+=": "'+=' (EL 3.0 string concatenation) is not supported; write the text around the "
    "expression instead: 'Dear ${name}'",
    "->": "lambda expressions (EL 3.0) are not supported",
    "=": "'=' assigns in EL 3.0 and is not supported; compare with '==' or 'eq'",
    ";": "';' (EL 3.0 statement separator) is not supported",
    "{": "set and map literals (EL 3.0) are not supported",
    "&": "use '&&' or 'and'",
    "|": "use '||' or 'or'",
}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"'}
_SPECIAL = {"'": re.compile(r"['\\]"), '"': re.compile(r'["\\]')}


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is ``int``, ``float``, ``str``, ``name``, ``op``, ``end`` (the closing brace of
    ``${…}``) or ``eof``; ``value`` is the text (decoded for strings); ``pos`` the offset."""

    kind: str
    value: str
    pos: int


def tokenize(text: str, start: int, *, template: bool) -> list[Token]:
    """Tokens of the expression starting at ``start``, ending with an ``end`` or ``eof`` token.

    In template mode a missing ``}`` is an error naming the ``${`` (two characters before
    ``start``); outside it a ``}`` is an error.
    """
    out: list[Token] = []
    i, n = start, len(text)
    while True:
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            if template:
                opener = text[start - 2 : start]
                raise ExpressionError(
                    f"'{opener}' is never closed by '}}'", text=text, position=start - 2
                )
            out.append(Token("eof", "", n))
            return out
        c = text[i]
        if c == "}":
            if not template:
                raise ExpressionError("unexpected '}'", text=text, position=i)
            out.append(Token("end", "}", i))
            return out
        if c in "'\"":
            value, i2 = _string(text, i)
            out.append(Token("str", value, i))
            i = i2
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(Token("float" if m.group("float") else "int", m.group(), i))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            out.append(Token("name", m.group(), i))
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in _REFUSED:
            raise ExpressionError(_REFUSED[two], text=text, position=i)
        if two in _TWO:
            out.append(Token("op", two, i))
            i += 2
            continue
        if c in _REFUSED:
            raise ExpressionError(_REFUSED[c], text=text, position=i)
        if c in _ONE:
            out.append(Token("op", c, i))
            i += 1
            continue
        raise ExpressionError(f"unexpected character {c!r}", text=text, position=i)


def _string(text: str, start: int) -> tuple[str, int]:
    """Decode the string literal opening at ``start``; return its value and the offset after it.

    EL knows three escapes, ``\\\\``, ``\\'`` and ``\\"``; any other backslash is an error
    (Java's ``\\n`` is not EL), so a typo is not silently kept.
    """
    quote = text[start]
    parts: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        j = _next_special(text, i, quote)
        if j < 0:
            break
        parts.append(text[i:j])
        if text[j] == quote:
            return "".join(parts), j + 1
        escaped = text[j + 1 : j + 2]
        if escaped not in _ESCAPES:
            raise ExpressionError(
                "invalid escape in string: JUEL strings know only \\\\, \\' and \\\"",
                text=text,
                position=j,
            )
        parts.append(_ESCAPES[escaped])
        i = j + 2
    raise ExpressionError("string is never closed", text=text, position=start)


def _next_special(text: str, i: int, quote: str) -> int:
    """Offset of the next quote or backslash at or after ``i``, or -1 (one regex search, so a
    string full of escapes is still read in linear time)."""
    m = _SPECIAL[quote].search(text, i)
    return m.start() if m else -1
