"""The EL type coercions (Unified EL 2.2, section 1.18), over the values case variables hold.

Java's types map onto ours as: ``Long``/``BigInteger`` → ``int`` (never wraps; bounded by
:data:`~.limits.MAX_INT_BITS`), ``BigDecimal`` → ``Decimal``, ``Double`` → ``float``, ``String`` →
``str``, ``Boolean`` → ``bool``, ``Map`` → ``dict``, ``List``/array → ``list``/``tuple``.  Types are
tested with ``__class__ is``, never ``isinstance``: ``bool`` is a subclass of ``int`` in Python but
not a number in EL, so ``true + 1`` must fail as it does in Java.

Every helper raises a bare ``ExpressionError`` (no text, no position); the compiled closure that
called it adds both, so the message points at the operator that failed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from liucheng.errors import ExpressionError

from .limits import MAX_INT_BITS, MAX_LEN

_INT_TEXT = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_INT_DIGITS = MAX_INT_BITS * 3 // 10 + 1
_MAX_EXPONENT = _MAX_INT_DIGITS
_MAX_DEPTH = 100
_BIG = 1 << MAX_INT_BITS


def describe(value: Any) -> str:
    """How an error message names the type of ``value``."""
    if value is None:
        return "null"
    name = _NAMES.get(value.__class__)
    if name:
        return name
    if isinstance(value, Mapping):
        return "a map"
    return f"a value of type {type(value).__name__}"


_NAMES: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a floating-point number",
    Decimal: "a decimal number",
    str: "a string",
    list: "a list",
    tuple: "a list",
    dict: "a map",
    dt.date: "a date",
    dt.datetime: "a date-time",
    dt.time: "a time",
    dt.timedelta: "a duration",
}


def show(value: Any) -> str:
    """``value`` as an error message quotes it: strings cut short, others by type."""
    cls = value.__class__
    if cls is str:
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if value is None:
        return "null"
    if cls is int and value.bit_length() > 128:
        return "a very large integer"
    if cls in (bool, int, float, Decimal):
        return to_str(value)
    return describe(value)


def fail(message: str) -> ExpressionError:
    return ExpressionError(message)


# -- boolean and string -------------------------------------------------------------------------
def to_bool(value: Any) -> bool:
    """EL 1.18.5: null and "" are false, a string is true when it is "true" in any case."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    if value.__class__ is str:
        return value.lower() == "true"
    raise fail(f"expected a boolean but found {show(value)}")


def to_str(value: Any) -> str:
    """EL 1.18.2, with Java's spelling of values: ``true``, ``3.0``, ``[a, b]``, ``{k=v}``.

    Null is ``""``; dates use ISO 8601.  Lists and maps are written out to at most
    :data:`~.limits.MAX_LEN` characters.
    """
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if cls is bool:
        return "true" if value else "false"
    if cls is int or cls is Decimal:
        return str(value)
    if cls is float:
        return _double_text(value)
    out: list[str] = []
    _write(value, out, [0], 0)
    return "".join(out)


def _write(value: Any, out: list[str], size: list[int], depth: int) -> None:
    """Append the text of ``value``; ``size`` counts characters so far (a one-item box)."""
    if depth > _MAX_DEPTH:
        raise fail(f"value nested more than {_MAX_DEPTH} levels deep cannot be written as text")
    cls = value.__class__
    if cls is list or cls is tuple:
        _emit("[", out, size)
        for i, item in enumerate(value):
            if i:
                _emit(", ", out, size)
            _write(item, out, size, depth + 1)
        _emit("]", out, size)
    elif isinstance(value, Mapping):
        _emit("{", out, size)
        for i, (k, v) in enumerate(value.items()):
            if i:
                _emit(", ", out, size)
            _write(k, out, size, depth + 1)
            _emit("=", out, size)
            _write(v, out, size, depth + 1)
        _emit("}", out, size)
    elif cls in (dt.date, dt.datetime, dt.time):
        _emit(value.isoformat(), out, size)
    elif cls is str:
        _emit(value, out, size)
    elif value is None:
        _emit("null", out, size)
    elif cls in (bool, int, float, Decimal):
        _emit(to_str(value), out, size)
    else:
        _emit(str(value), out, size)


def _emit(text: str, out: list[str], size: list[int]) -> None:
    size[0] += len(text)
    if size[0] > MAX_LEN:
        raise fail(f"text would be longer than {MAX_LEN:,} characters")
    out.append(text)


def _double_text(value: float) -> str:
    """Java's ``Double.toString``: ``3.0``, ``0.001``, ``1.0E7``, ``1.5E-4``."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python writes this range without an exponent, as Java does
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


# -- numbers --------------------------------------------------------------------------------------
def is_number(value: Any) -> bool:
    cls = value.__class__
    return cls is int or cls is Decimal or cls is float


def looks_floating(value: Any) -> bool:
    """EL treats a string holding ``.``, ``e`` or ``E`` as a floating-point operand."""
    return value.__class__ is str and ("." in value or "e" in value or "E" in value)


def _not_a_number(value: Any, kind: str) -> ExpressionError:
    return fail(f"cannot use {show(value)} as {kind}")


def to_int(value: Any) -> int:
    """EL coercion to ``Long``: null and "" are 0, decimals and floats are truncated, a string
    must be an integer; booleans and other types are refused."""
    cls = value.__class__
    if cls is int:
        return value  # type: ignore[no-any-return]
    if value is None or value == "":  # only a str equals ""
        return 0
    if cls is str:
        text = value.strip()
        if len(text) <= _MAX_INT_DIGITS and _INT_TEXT.match(text):
            return int(text)
        if _NUMBER_TEXT.match(text):
            raise fail(
                f"cannot use {show(value)} as an integer; compare or compute with a decimal "
                "literal (such as 1000.0) to work with fractions"
            )
        raise _not_a_number(value, "an integer")
    if cls is Decimal:
        if not value.is_finite() or value.adjusted() > _MAX_EXPONENT:
            raise _not_a_number(value, "an integer")
        return int(value)
    if cls is float:
        if not math.isfinite(value) or abs(value) >= 2.0**MAX_INT_BITS:
            raise _not_a_number(value, "an integer")
        return int(value)
    raise _not_a_number(value, "an integer")


def to_float(value: Any) -> float:
    """EL coercion to ``Double``; the result must be finite."""
    cls = value.__class__
    if cls is float:
        return value  # type: ignore[no-any-return]
    if value is None or value == "":
        return 0.0
    try:
        if cls is int or cls is Decimal:
            result = float(value)
        elif cls is str and len(value) <= 1000 and _NUMBER_TEXT.match(value.strip()):
            result = float(value.strip())
        else:
            raise _not_a_number(value, "a number")
    except OverflowError:
        raise _not_a_number(value, "a floating-point number") from None
    if not math.isfinite(result):
        raise _not_a_number(value, "a floating-point number")
    return result


def to_decimal(value: Any) -> Decimal:
    """EL coercion to ``BigDecimal``; a float converts through its shortest text, so ``0.1``
    becomes ``Decimal("0.1")`` rather than its binary expansion."""
    cls = value.__class__
    if cls is Decimal:
        if not value.is_finite():
            raise _not_a_number(value, "a decimal number")
        return value  # type: ignore[no-any-return]
    if value is None or value == "":
        return Decimal(0)
    if cls is int:
        return Decimal(value)
    if cls is float and math.isfinite(value):
        return Decimal(repr(value))
    if cls is str and len(value) <= 1000 and _NUMBER_TEXT.match(value):
        return Decimal(value)
    raise _not_a_number(value, "a decimal number")


def check_int(value: int) -> int:
    """Refuse an integer result larger than the bound (Java would silently wrap)."""
    if not -_BIG < value < _BIG:
        raise fail(f"integer result is larger than {MAX_INT_BITS} bits")
    return value


def check_float(value: float) -> float:
    """Refuse infinities (Java would produce them); they cannot be stored in a case."""
    if not math.isfinite(value):
        raise fail("floating-point result is out of range")
    return value
