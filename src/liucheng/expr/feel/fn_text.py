"""String built-ins, and the guard that keeps user regular expressions from running for hours.

FEEL uses XPath regular expressions; Python's ``re`` is close enough for the common subset.
Because ``re`` backtracks, a pattern like ``(a+)+$`` can take exponential time.  We refuse
patterns with a quantified group that itself contains a quantifier or alternation, and
backreferences, and we cap pattern and input lengths.  This is a heuristic, documented as such:
other super-linear patterns (``\\d*\\d*\\d*``) are only bounded by the input cap.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from . import ops
from .registry import bounded, builtin

MAX_PATTERN = 500
MAX_REGEX_INPUT = 10_000
_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}


def _dangerous(pattern: str) -> bool:
    """True when a group containing a quantifier or ``|`` is itself repeated without bound."""
    stack: list[bool] = []  # per open group: does it contain a quantifier/alternation?
    closed_risky = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 < n and pattern[i + 1].isdigit() and pattern[i + 1] != "0":
                return True  # backreference
            i += 2
            closed_risky = False
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            closed_risky = False
            continue
        if c == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                return True  # lookarounds, named groups, inline flags: not XPath, refuse
            stack.append(False)
        elif c == ")":
            risky = stack.pop() if stack else False
            if stack and risky:
                stack[-1] = True
            closed_risky = risky
            i += 1
            continue
        elif c in "*+?{|":
            unbounded = c in "*+" or (c == "{" and re.match(r"\{\d*,\}", pattern[i:]) is not None)
            if closed_risky and unbounded:
                return True
            if stack and c != "?":
                stack[-1] = True
        closed_risky = False
        i += 1
    return False


@functools.lru_cache(maxsize=256)
def _compile(pattern: str, flags: str) -> re.Pattern[str] | None:
    if len(pattern) > MAX_PATTERN or _dangerous(pattern):
        return None
    bits = 0
    for f in flags:
        if f not in _FLAGS:
            return None
        bits |= _FLAGS[f]
    try:
        return re.compile(pattern, bits)
    except re.error:
        return None


def regex(pattern: str, flags: str | None, subject: str) -> re.Pattern[str] | None:
    """A compiled, vetted pattern, or None (FEEL null) if it is refused or invalid."""
    if len(subject) > MAX_REGEX_INPUT:
        return None
    return _compile(pattern, flags or "")


@builtin("substring(string: string, start position: number, length?: number)")
def substring(s: str, start: Decimal, length: Decimal | None = None) -> str | None:
    i = int(start)
    if i != start:
        return None
    begin = i - 1 if i > 0 else len(s) + i
    if i == 0 or begin < 0:
        begin = max(begin, 0) if i < 0 else 0
    if length is None:
        return s[begin:]
    if length < 0:
        return None
    return s[begin : begin + int(length)]


@builtin("string length(string: string)")
def string_length(s: str) -> Decimal:
    return Decimal(len(s))


@builtin("upper case(string: string)")
def upper_case(s: str) -> str:
    return s.upper()


@builtin("lower case(string: string)")
def lower_case(s: str) -> str:
    return s.lower()


@builtin("substring before(string: string, match: string)")
def substring_before(s: str, match: str) -> str:
    i = s.find(match)
    return "" if i < 0 else s[:i]


@builtin("substring after(string: string, match: string)")
def substring_after(s: str, match: str) -> str:
    i = s.find(match)
    return "" if i < 0 else s[i + len(match) :]


@builtin("contains(string: string, match: string)")
def contains(s: str, match: str) -> bool:
    return match in s


@builtin("starts with(string: string, match: string)")
def starts_with(s: str, match: str) -> bool:
    return s.startswith(match)


@builtin("ends with(string: string, match: string)")
def ends_with(s: str, match: str) -> bool:
    return s.endswith(match)


@builtin("trim(string: string)")
def trim(s: str) -> str:
    return s.strip()


@builtin("matches(input: string, pattern: string, flags?: string)")
def matches(s: str, pattern: str, flags: str | None = None) -> bool | None:
    rx = regex(pattern, flags, s)
    return None if rx is None else rx.search(s) is not None


def _replacement(template: str) -> str | None:
    """XPath ``$1`` group references → Python ``\\g<1>``; ``\\$`` and ``\\\\`` are literals."""
    out, i = [], 0
    while i < len(template):
        c = template[i]
        if c == "\\":
            nxt = template[i + 1 : i + 2]
            if nxt not in ("\\", "$"):
                return None
            out.append("\\\\" if nxt == "\\" else "$")
            i += 2
        elif c == "$":
            m = re.match(r"\d+", template[i + 1 :])
            if not m:
                return None
            out.append(f"\\g<{m.group()}>")
            i += 1 + len(m.group())
        else:
            out.append(c)
            i += 1
    return "".join(out)


@builtin("replace(input: string, pattern: string, replacement: string, flags?: string)")
def replace(s: str, pattern: str, replacement: str, flags: str | None = None) -> str | None:
    rx = regex(pattern, flags, s)
    template = _replacement(replacement)
    if rx is None or template is None:
        return None
    try:
        out = rx.sub(template, s)
    except (re.error, IndexError):
        return None
    return str(bounded(out))


@builtin("split(string: string, delimiter: string)")
def split(s: str, delimiter: str) -> list[str] | None:
    rx = regex(delimiter, None, s)
    if rx is None or rx.pattern == "":
        return None
    return rx.split(s)


@builtin("extract(string: string, pattern: string)")
def extract(s: str, pattern: str) -> list[str] | None:
    rx = regex(pattern, None, s)
    return None if rx is None else [m.group() for m in rx.finditer(s)]


@builtin("string join(list: list, delimiter?: string)")
def string_join(items: list[Any], delimiter: str | None = None) -> str | None:
    parts = [x for x in items if x is not None]
    if any(type(x) is not str for x in parts):
        return None
    joined = (delimiter or "").join(parts)
    return str(bounded(joined))


@builtin("string(from: any)")
def string(value: Any) -> str | None:
    return ops.to_string(value)
