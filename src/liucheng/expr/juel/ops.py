"""EL operators (Unified EL 2.2, sections 1.7–1.9) with the coercions of :mod:`.coerce`.

Which numeric type an operation works in is chosen from *both* operands, in the specification's
order: a Decimal operand makes it Decimal (``BigDecimal``); otherwise a float, or a string holding
``.``/``e``/``E``, makes it float (``Double``); otherwise it is integer (``Long``).  So
``"5" == 5`` is true (the string is read as a number), ``"abc" == 5`` is an error (as in Java),
and ``"abc" == "ABC"`` compares text.

Where we differ from Java, deliberately (each is listed in ``docs/juel.md``):

* floating-point *literals* are Decimal, so ``price * 1.1`` on a Decimal price stays exact;
* Decimal ``==`` compares values (Java's ``BigDecimal.equals`` says ``2.0 != 2.00``);
* Decimal ``/`` rounds to 34 significant digits (Java keeps the dividend's scale, so
  ``10 / 4`` on BigDecimals is ``3``); Decimal ``%`` stays Decimal (Java switches to double);
* division or remainder by zero and overflow are errors, not ``Infinity``/``NaN`` or a wrapped
  ``long``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from liucheng.errors import ExpressionError

from .coerce import (
    check_float,
    check_int,
    describe,
    fail,
    looks_floating,
    show,
    to_bool,
    to_decimal,
    to_float,
    to_int,
    to_str,
)
from .limits import DECIMAL, MAX_INT_BITS

Binary = Callable[[Any, Any], Any]

_ORDERED = frozenset({bool, dt.date, dt.datetime, dt.time, dt.timedelta})


def _kind(a: Any, b: Any) -> str:
    """``d`` (Decimal), ``f`` (float) or ``i`` (integer) for ``+ - * %``, as EL 1.7.1 picks."""
    ca, cb = a.__class__, b.__class__
    if ca is Decimal or cb is Decimal:
        return "d"
    if ca is float or cb is float or looks_floating(a) or looks_floating(b):
        return "f"
    return "i"


def _arith_error(symbol: str, a: Any, b: Any, err: ExpressionError) -> ExpressionError:
    if symbol == "+" and (a.__class__ is str or b.__class__ is str):
        return fail(
            f"'+' adds numbers only (EL has no text concatenation) and {show(a)} + {show(b)} "
            "is not a sum; write the text around expressions instead: 'Dear ${name}'"
        )
    return err


def add(a: Any, b: Any) -> Any:
    if a.__class__ is int and b.__class__ is int:
        return check_int(a + b)
    return _numeric("+", a, b, lambda x, y: x + y, DECIMAL.add)


def sub(a: Any, b: Any) -> Any:
    if a.__class__ is int and b.__class__ is int:
        return check_int(a - b)
    return _numeric("-", a, b, lambda x, y: x - y, DECIMAL.subtract)


def mul(a: Any, b: Any) -> Any:
    return _numeric("*", a, b, lambda x, y: x * y, DECIMAL.multiply)


def _numeric(
    symbol: str,
    a: Any,
    b: Any,
    plain: Callable[[Any, Any], Any],
    decimal: Callable[[Decimal, Decimal], Decimal],
) -> Any:
    if a is None and b is None:
        return 0
    try:
        kind = _kind(a, b)
        if kind == "i":
            x, y = to_int(a), to_int(b)
            if symbol == "*" and x.bit_length() + y.bit_length() > MAX_INT_BITS + 1:
                raise fail(f"integer result is larger than {MAX_INT_BITS} bits")
            return check_int(plain(x, y))
        if kind == "f":
            return check_float(plain(to_float(a), to_float(b)))
        return _decimal(decimal, to_decimal(a), to_decimal(b))
    except ExpressionError as err:
        raise _arith_error(symbol, a, b, err) from None


def _decimal(op: Callable[[Decimal, Decimal], Decimal], x: Decimal, y: Decimal) -> Decimal:
    try:
        return op(x, y)
    except ArithmeticError:
        raise fail("decimal result is out of range") from None


def div(a: Any, b: Any) -> Any:
    """``/`` and ``div``: Decimal if either operand is Decimal, otherwise float (as EL's
    ``Double`` division: ``7 / 2`` is ``3.5``)."""
    if a is None and b is None:
        return 0
    if a.__class__ is Decimal or b.__class__ is Decimal:
        x, y = to_decimal(a), to_decimal(b)
        if not y:
            raise fail("division by zero")
        return _decimal(DECIMAL.divide, x, y)
    x2, y2 = to_float(a), to_float(b)
    if not y2:
        raise fail("division by zero")
    return check_float(x2 / y2)


def mod(a: Any, b: Any) -> Any:
    """``%`` and ``mod``: Java's remainder, whose sign follows the dividend (``-7 % 3`` is -1)."""
    if a is None and b is None:
        return 0
    kind = _kind(a, b)
    if kind == "d":
        x, y = to_decimal(a), to_decimal(b)
        if not y:
            raise fail("remainder of division by zero")
        return _decimal(DECIMAL.remainder, x, y)
    if kind == "f":
        xf, yf = to_float(a), to_float(b)
        if not yf:
            raise fail("remainder of division by zero")
        return math.fmod(xf, yf)
    xi, yi = to_int(a), to_int(b)
    if not yi:
        raise fail("remainder of division by zero")
    r = abs(xi) % abs(yi)
    return -r if xi < 0 else r


def neg(a: Any) -> Any:
    """Unary minus: null is 0, a string is read as a number first."""
    cls = a.__class__
    if cls is int or cls is float:
        return -a
    if cls is Decimal:
        return a.copy_negate()
    if a is None:
        return 0
    if cls is str:
        return -to_float(a) if looks_floating(a) else -to_int(a)
    raise fail(f"cannot negate {show(a)}")


# -- comparison -----------------------------------------------------------------------------------
def _ordered(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Both operands coerced to one comparable type (EL 1.8.1), or None when either is null."""
    if a is None or b is None:
        return None
    ca, cb = a.__class__, b.__class__
    if ca is Decimal or cb is Decimal:
        return to_decimal(a), to_decimal(b)
    if ca is float or cb is float:
        return to_float(a), to_float(b)
    if ca is int or cb is int:
        return to_int(a), to_int(b)
    if ca is str or cb is str:
        return to_str(a), to_str(b)
    if ca is cb and ca in _ORDERED:
        return a, b
    raise fail(f"cannot compare {describe(a)} with {describe(b)}")


def _comparison(test: Callable[[Any, Any], bool], reflexive: bool) -> Binary:
    def compare(a: Any, b: Any) -> bool:
        if reflexive and a is b:  # EL 1.8.1: A == B decides <= and >= before any coercion
            return True
        pair = _ordered(a, b)
        if pair is None:
            return False
        try:
            return test(*pair)
        except TypeError:  # e.g. a date-time with a zone against one without
            raise fail(f"cannot compare {describe(a)} with {describe(b)}") from None

    return compare


lt = _comparison(lambda x, y: x < y, False)
gt = _comparison(lambda x, y: x > y, False)
le = _comparison(lambda x, y: x <= y, True)
ge = _comparison(lambda x, y: x >= y, True)


def eq(a: Any, b: Any) -> bool:
    """EL 1.8.2: null equals only null; numbers by value after coercion; a boolean operand
    makes both booleans, then a string operand makes both strings; anything else by value."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    ca, cb = a.__class__, b.__class__
    if ca is cb and (ca is str or ca is int):
        return a == b  # type: ignore[no-any-return]
    if ca is Decimal or cb is Decimal:
        return to_decimal(a) == to_decimal(b)
    if ca is float or cb is float:
        return to_float(a) == to_float(b)
    if ca is int or cb is int:
        return to_int(a) == to_int(b)
    if ca is bool or cb is bool:
        return to_bool(a) == to_bool(b)
    if ca is str or cb is str:
        return to_str(a) == to_str(b)
    try:
        return bool(a == b)
    except TypeError:
        return False


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def empty(a: Any) -> bool:
    """EL 1.10: true for null, an empty string, list or map."""
    if a is None:
        return True
    cls = a.__class__
    if cls is str or cls is list or cls is tuple or cls is dict or isinstance(a, Mapping):
        return len(a) == 0
    return False


def java_equals(a: Any, b: Any) -> bool:
    """``x.equals(y)`` as Java's ``equals``: same type and same value, no coercion
    (``"5".equals(5)`` is false, unlike ``"5" == 5``)."""
    return a.__class__ is b.__class__ and bool(a == b)


BINARY: dict[str, Binary] = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "%": mod,
    "<": lt,
    ">": gt,
    "<=": le,
    ">=": ge,
    "==": eq,
    "!=": ne,
}

__all__ = ["BINARY", "empty", "eq", "java_equals", "neg", "to_bool", "to_str"]
