"""Split FEEL text into tokens, each with its offset so every error can point at the culprit.

FEEL names may contain spaces and even keywords (``date and time``, ``index of``).  The lexer
recognises the multi-word *built-in function* names when an opening parenthesis follows, because
only there are they unambiguous; other multi-word names are joined by the parser (adjacent plain
words) or written in backticks (```date of birth```).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from liucheng.errors import ExpressionError

MAX_TEXT = 100_000

#: Built-in function names that contain spaces; longest first so ``round half up`` beats ``round``.
MULTI_WORD_FUNCTIONS = sorted(
    [
        "date and time",
        "years and months duration",
        "string length",
        "upper case",
        "lower case",
        "substring before",
        "substring after",
        "starts with",
        "ends with",
        "string join",
        "list contains",
        "distinct values",
        "index of",
        "insert before",
        "round up",
        "round down",
        "round half up",
        "round half down",
        "day of week",
        "day of year",
        "week of year",
        "month of year",
        "last day of month",
        "get value",
        "get entries",
        "context put",
        "context merge",
        "is defined",
        "get or else",
        "is empty",
    ],
    key=len,
    reverse=True,
)

_MULTI = re.compile(
    "(?:"
    + "|".join(r"\s+".join(map(re.escape, n.split())) for n in MULTI_WORD_FUNCTIONS)
    + r")(?![\w])(?=\s*\()"
)
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.S)
_NAME = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_OPS = ("..", "**", "<=", ">=", "!=")
_SINGLE = set("+-*/=<>()[]{},.:?@")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass(frozen=True, slots=True)
class Token:
    """A token; ``kind``: ``num``, ``str``, ``name``, ``qname`` (backticks), ``op``, ``eof``."""

    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text`` ending with an ``eof`` token; raise ExpressionError if bad."""
    if len(text) > MAX_TEXT:
        raise ExpressionError(
            f"expression longer than {MAX_TEXT} characters", text=text[:80] + "…", position=0
        )
    out: list[Token] = []
    i, n = 0, len(text)
    while True:
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
        if i >= n:
            out.append(Token("eof", "", n))
            return out
        if text.startswith("/*", i):
            raise ExpressionError("unterminated comment", text=text, position=i)
        c = text[i]
        if c == '"':
            s, i2 = _string(text, i)
            out.append(Token("str", s, i))
            i = i2
            continue
        if c == "`":
            j = text.find("`", i + 1)
            if j < 0 or j == i + 1:
                raise ExpressionError("unterminated `name`", text=text, position=i)
            out.append(Token("qname", text[i + 1 : j], i))
            i = j + 1
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(Token("num", m.group(), i))
            i = m.end()
            continue
        m = _MULTI.match(text, i)
        if m:
            out.append(Token("name", " ".join(m.group().split()), i))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            out.append(Token("name", m.group(), i))
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in _OPS:
            out.append(Token("op", two, i))
            i += 2
            continue
        if c in _SINGLE:
            out.append(Token("op", c, i))
            i += 1
            continue
        raise ExpressionError(f"unexpected character {c!r}", text=text, position=i)


def _string(text: str, start: int) -> tuple[str, int]:
    """Read a string literal starting at the opening quote; return its value and the end offset."""
    parts: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(parts), i + 1
        if c == "\\":
            e = text[i + 1 : i + 2]
            if e in _ESCAPES:
                parts.append(_ESCAPES[e])
                i += 2
                continue
            width = 4 if e == "u" else 8 if e == "U" else 0
            digits = text[i + 2 : i + 2 + width]
            if (
                width
                and len(digits) == width
                and all(d in "0123456789abcdefABCDEF" for d in digits)
            ):
                code = int(digits, 16)
                if code <= 0x10FFFF:
                    parts.append(chr(code))
                    i += 2 + width
                    continue
            raise ExpressionError("invalid escape in string", text=text, position=i)
        parts.append(c)
        i += 1
    raise ExpressionError("unterminated string", text=text, position=start)
