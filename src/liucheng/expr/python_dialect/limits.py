"""The sandbox's bounds on time and memory, and the checks that enforce them *before* work is done.

Why checks come first: ``10**10**10`` or ``"a" * 10**10`` cannot be stopped once CPython has started
computing them (the work happens inside one C call), so every operator that can make a value much
larger than its operands is given a cheap size estimate from the operands and refused when the
estimate is over the limit.  Everything else is paid for from a step budget (one step per
interpreted node, plus one per item of every collection or character of every string built), with
a wall-clock deadline as a second guard for work that the step count under-estimates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MAX_TEXT_CHARS = 100_000
"""Longest expression or script accepted, in characters."""

MAX_AST_DEPTH = 100
"""Deepest nesting of syntax nodes; also bounds the interpreter's Python recursion."""

MAX_STEPS = 1_000_000
"""Step budget of one evaluation (interpreted nodes plus items built)."""

MAX_SECONDS = 2.0
"""Wall-clock budget of one evaluation; checked every ``DEADLINE_CHECK_EVERY`` steps."""

DEADLINE_CHECK_EVERY = 1_000

MAX_INT_BITS = 4096
"""Largest integer a script may create (about 1233 decimal digits)."""

MAX_LEN = 1_000_000
"""Longest string, list, tuple, dict or set a single operation may create."""

MAX_FORMAT_WIDTH = 1000
"""Largest width or precision in an f-string format spec."""

MAX_ROUND_DIGITS = 1000
"""Largest ``ndigits`` magnitude accepted by ``round``."""

MAX_DECIMAL_EXPONENT = 10_000
"""Largest exponent of a Decimal that may be turned into an int or formatted with all its digits."""

SEQUENCE_TYPES: frozenset[type] = frozenset({str, list, tuple, bytes})
"""Types whose ``+`` and ``*`` copy items, so their result length is checked first."""

SIZED_TYPES: frozenset[type] = frozenset({str, list, tuple, bytes, dict, set, frozenset})
"""Types whose length is charged to the step budget when an operation creates one."""

_BIG = 1 << MAX_INT_BITS


class LimitError(Exception):
    """A bound was hit; the interpreter turns it into a ScriptError naming the position."""


def check_len(n: int, what: str = "result") -> None:
    """Refuse a collection or string longer than ``MAX_LEN``."""
    if n > MAX_LEN:
        raise LimitError(f"{what} would have {n:,} items; the limit is {MAX_LEN:,}")


def check_int(value: Any) -> Any:
    """Refuse an int result over ``MAX_INT_BITS`` (used after cheap operations like ``+``)."""
    if value.__class__ is int and not -_BIG < value < _BIG:
        raise LimitError(f"integer result is larger than {MAX_INT_BITS} bits")
    return value


def _int_bits(value: Any) -> int | None:
    """Bit length when ``value`` is an int (bools included), else None."""
    if isinstance(value, int):
        return value.bit_length()
    return None


def _seq_len(value: Any) -> int | None:
    """Length when ``value`` is a str/list/tuple/bytes/bytearray (subclasses too), else None."""
    if isinstance(value, (str, list, tuple, bytes, bytearray)):
        return len(value)
    return None


def guard_add(a: Any, b: Any) -> None:
    """Concatenation may not exceed ``MAX_LEN``; ints grow by at most one bit, checked after."""
    la = _seq_len(a)
    if la is not None:
        lb = _seq_len(b)
        if lb is not None:
            check_len(la + lb)


def guard_mul(a: Any, b: Any) -> None:
    """Check ``a * b`` from the operands: repetition length or product bit length."""
    ba, bb = _int_bits(a), _int_bits(b)
    if ba is not None and bb is not None:
        if ba + bb > MAX_INT_BITS:
            raise LimitError(f"integer result would be larger than {MAX_INT_BITS} bits")
        return
    la = _seq_len(a)
    if la is not None and isinstance(b, int):
        check_len(la * max(b, 0))
        return
    lb = _seq_len(b)
    if lb is not None and isinstance(a, int):
        check_len(lb * max(a, 0))


def guard_pow(a: Any, b: Any) -> None:
    """``int ** int`` is refused when ``bits(a) * b`` is over the limit, before computing."""
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a not in (0, 1, -1):
        if (a.bit_length() - 1) * b > MAX_INT_BITS or b > MAX_INT_BITS:
            raise LimitError(f"integer result would be larger than {MAX_INT_BITS} bits")
    elif isinstance(a, Decimal) and isinstance(b, int) and b.bit_length() > 64:
        raise LimitError("exponent is too large")


def guard_lshift(a: Any, b: Any) -> None:
    """``a << b`` has ``bits(a) + b`` bits."""
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and a
        and b > 0
        and a.bit_length() + b > MAX_INT_BITS
    ):
        raise LimitError(f"integer result would be larger than {MAX_INT_BITS} bits")


def guard_mod(a: Any, b: Any) -> None:
    """``str % x`` is printf-style formatting, refused like ``str.format``."""
    if isinstance(a, (str, bytes, bytearray)):
        raise LimitError("%-formatting of strings is not allowed; use an f-string")


def guard_decimal_size(value: Decimal, what: str) -> None:
    """A Decimal like ``1E+999999999`` is tiny in memory but enormous as an int or as digits."""
    if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise LimitError(f"{what}: the number's exponent is too large")
