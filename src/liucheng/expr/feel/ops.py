"""The meaning of FEEL's operators for every pair of operand types.

Each function returns the FEEL result, or ``None`` (null) when FEEL does not define the operation
for those operands — adding a string to a number, comparing a date with a number, dividing by
zero, overflowing 34 digits.  These are data problems, not program errors, so by the DMN spec they
are null rather than exceptions; a gateway condition that evaluates to null is simply not true.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, DecimalException
from typing import Any

from liucheng.errors import ExpressionError

from . import temporal
from .values import CTX, MAX_ITEMS, FeelFunction, Range, YearsMonthsDuration

D = Decimal
TD = dt.timedelta
YM = YearsMonthsDuration
DATE = dt.date
DATETIME = dt.datetime
TIME = dt.time
_US = Decimal(1_000_000)


def _td_times(td: dt.timedelta, factor: Decimal) -> dt.timedelta | None:
    us = CTX.multiply(Decimal(td // TD(microseconds=1)), factor)
    try:
        return TD(microseconds=int(us.to_integral_value()))
    except OverflowError:
        return None


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    try:
        if ta is D and tb is D:
            return CTX.add(a, b)
        if ta is str and tb is str:
            if len(a) + len(b) > MAX_ITEMS:
                raise ExpressionError("result too large: string over 1,000,000 characters")
            return a + b
        if ta is TD and tb is TD:
            return a + b
        if ta is YM and tb is YM:
            return YM(a.months + b.months)
        if tb in (DATE, DATETIME, TIME) and ta in (TD, YM):
            a, b, ta, tb = b, a, tb, ta
        if tb is TD:
            if ta is DATETIME:
                return a + b
            if ta is DATE:
                return (DATETIME(a.year, a.month, a.day) + b).date()
            if ta is TIME:
                return temporal.time_plus(a, b)
        if tb is YM and ta in (DATE, DATETIME):
            return temporal.add_months(a, b.months)
    except (DecimalException, OverflowError):
        return None
    return None


def neg(a: Any) -> Any:
    t = type(a)
    if t is D:
        return CTX.minus(a)
    if t is TD:
        return -a
    if t is YM:
        return YM(-a.months)
    return None


def sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    try:
        if ta is D and tb is D:
            return CTX.subtract(a, b)
        if tb is TD or tb is YM:
            if ta in (DATE, DATETIME, TIME, TD, YM):
                return add(a, neg(b))
            return None
        if ta is tb and ta in (DATE, DATETIME, TIME):
            if ta is TIME:
                if (a.utcoffset() is None) != (b.utcoffset() is None):
                    return None
                day = DATE(2000, 1, 1)
                return DATETIME.combine(day, a) - DATETIME.combine(day, b)
            return a - b
    except (DecimalException, OverflowError, TypeError):
        return None
    return None


def mul(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    try:
        if ta is D and tb is D:
            return CTX.multiply(a, b)
        if ta is D and tb in (TD, YM):
            a, b, ta, tb = b, a, tb, ta
        if tb is D:
            if ta is TD:
                return _td_times(a, b)
            if ta is YM:
                return YM(int(CTX.multiply(D(a.months), b).to_integral_value()))
    except (DecimalException, OverflowError):
        return None
    return None


def div(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    try:
        if ta is D and tb is D:
            return CTX.divide(a, b)
        if tb is D and ta is TD:
            return _td_times(a, CTX.divide(1, b))
        if tb is D and ta is YM:
            return YM(int(CTX.divide(D(a.months), b).to_integral_value()))
        if ta is TD and tb is TD:
            return CTX.divide(D(a // TD(microseconds=1)), D(b // TD(microseconds=1)))
        if ta is YM and tb is YM:
            return CTX.divide(D(a.months), D(b.months))
    except (DecimalException, OverflowError):
        return None
    return None


def power(a: Any, b: Any) -> Any:
    if type(a) is D and type(b) is D:
        try:
            return CTX.power(a, b)
        except DecimalException:
            return None
    return None


_ORDERED = (D, str, DATE, DATETIME, TIME, TD, YM)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1, or None when FEEL gives the two values no order (different types, naive vs
    aware date-times, booleans...)."""
    ta = type(a)
    if ta is not type(b) or ta not in _ORDERED:
        return None
    if ta is YM:
        a, b = a.months, b.months
    try:
        return -1 if a < b else (1 if a > b else 0)
    except TypeError:
        return None


def lt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c < 0


def le(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c <= 0


def gt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c > 0


def ge(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c >= 0


def eq(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: null equals only null; values of different types are not comparable (null)."""
    if a is None or b is None:
        return a is b
    ta, tb = type(a), type(b)
    if ta is not tb:
        return None
    if ta is list:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            r = eq(x, y)
            if r is not True:
                return r
        return True
    if ta is dict:
        if a.keys() != b.keys():
            return False
        for k, x in a.items():
            r = eq(x, b[k])
            if r is not True:
                return r
        return True
    if ta is DATETIME and (a.utcoffset() is None) != (b.utcoffset() is None):
        return None
    if ta is FeelFunction:
        return a is b
    try:
        return bool(a == b)
    except TypeError:
        return None


def ne(a: Any, b: Any) -> bool | None:
    r = eq(a, b)
    return None if r is None else not r


def in_range(value: Any, r: Range) -> bool | None:
    """Whether ``value`` lies in the range; null when it cannot be compared with an end."""
    if r.start is not None:
        c = compare(value, r.start)
        if c is None or c < 0 or (c == 0 and not r.start_included):
            return None if c is None else False
    if r.end is not None:
        c = compare(value, r.end)
        if c is None or c > 0 or (c == 0 and not r.end_included):
            return None if c is None else False
    return True


def to_string(value: Any) -> str | None:
    """FEEL ``string(x)``: the canonical text of a value; null for null."""
    t = type(value)
    if value is None:
        return None
    if t is str:
        return str(value)
    if t is D:
        return format_number(value)
    if t is bool:
        return "true" if value else "false"
    if t is DATE:
        return str(value.isoformat())
    if t is DATETIME:
        return temporal.format_date_time(value)
    if t is TIME:
        return temporal.format_time(value)
    if t is TD:
        return temporal.format_duration(value)
    if t is YM:
        return str(value)
    if t is list:
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    if t is dict:
        return "{" + ", ".join(f"{k}: {_inner(v)}" for k, v in value.items()) + "}"
    if t is Range:
        lo = "[" if value.start_included else "("
        hi = "]" if value.end_included else ")"
        return f"{lo}{_inner(value.start)}..{_inner(value.end)}{hi}"
    if t is FeelFunction:
        return f"function {value.name}"
    return None


def _inner(v: Any) -> str:
    if type(v) is str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    s = to_string(v)
    return "null" if s is None else s


def format_number(d: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: ``1.10`` → ``"1.1"``, ``1E+2`` → 100."""
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    return format(d.normalize(CTX), "f")
