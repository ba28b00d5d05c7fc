"""Numeric built-ins; all arithmetic goes through the 34-digit FEEL context ``CTX``."""

from __future__ import annotations

import datetime as dt
import re
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any

from .registry import builtin
from .values import CTX, YearsMonthsDuration

_MAX_SCALE = 6176


def _round(n: Decimal, scale: Decimal | None, mode: str) -> Decimal | None:
    s = int(scale) if scale is not None else 0
    if (scale is not None and s != scale) or not -_MAX_SCALE <= s <= _MAX_SCALE:
        return None
    return n.quantize(Decimal(1).scaleb(-s), rounding=mode, context=CTX)


@builtin("decimal(n: number, scale: number)")
def decimal_(n: Decimal, scale: Decimal) -> Decimal | None:
    return _round(n, scale, ROUND_HALF_EVEN)


@builtin("floor(n: number, scale?: number)")
def floor(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_FLOOR)


@builtin("ceiling(n: number, scale?: number)")
def ceiling(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_CEILING)


@builtin("round up(n: number, scale?: number)")
def round_up(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_UP)


@builtin("round down(n: number, scale?: number)")
def round_down(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_DOWN)


@builtin("round half up(n: number, scale?: number)")
def round_half_up(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_HALF_UP)


@builtin("round half down(n: number, scale?: number)")
def round_half_down(n: Decimal, scale: Decimal | None = None) -> Decimal | None:
    return _round(n, scale, ROUND_HALF_DOWN)


@builtin("abs(n: any)")
def abs_(n: Any) -> Any:
    if type(n) is Decimal:
        return CTX.abs(n)
    if type(n) is dt.timedelta:
        return abs(n)
    if type(n) is YearsMonthsDuration:
        return YearsMonthsDuration(abs(n.months))
    return None


@builtin("modulo(dividend: number, divisor: number)")
def modulo(a: Decimal, b: Decimal) -> Decimal | None:
    if b == 0:
        return None
    q = CTX.divide(a, b).to_integral_value(rounding=ROUND_FLOOR)
    return CTX.subtract(a, CTX.multiply(b, q))


@builtin("sqrt(number: number)")
def sqrt(n: Decimal) -> Decimal | None:
    return None if n < 0 else CTX.sqrt(n)


@builtin("log(number: number)")
def log(n: Decimal) -> Decimal | None:
    return None if n <= 0 else CTX.ln(n)


@builtin("exp(number: number)")
def exp(n: Decimal) -> Decimal:
    return CTX.exp(n)


def _integer(n: Decimal) -> int | None:
    return int(n) if n == n.to_integral_value() else None


@builtin("odd(number: number)")
def odd(n: Decimal) -> bool | None:
    i = _integer(n)
    return None if i is None else i % 2 == 1


@builtin("even(number: number)")
def even(n: Decimal) -> bool | None:
    i = _integer(n)
    return None if i is None else i % 2 == 0


_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")


@builtin("number(from: string, grouping separator?: string, decimal separator?: string)")
def number(text: str, grouping: str | None = None, decimal_sep: str | None = None) -> Any:
    if len(text) > 1000:
        return None
    if grouping is not None:
        if grouping not in (" ", ",", ".", ""):
            return None
        text = text.replace(grouping, "")
    if decimal_sep is not None:
        if decimal_sep not in (".", ",") or decimal_sep == grouping:
            return None
        text = text.replace(decimal_sep, ".")
    return CTX.create_decimal(text) if _NUMBER.fullmatch(text) else None
