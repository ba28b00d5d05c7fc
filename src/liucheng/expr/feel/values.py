"""FEEL values that Python has no type for, and the conversion of host values into FEEL values.

FEEL numbers are ``Decimal`` computed in a 34-digit context (IEEE 754 decimal128, as the DMN spec
asks), so money never passes through binary floating point.  Variables handed in by Python code
may hold ``int`` or ``float``; :func:`to_feel` converts them at the moment they are read (ints
exactly, floats through their shortest ``repr``) so that ``x > 5`` means the same for ``7`` and
``Decimal("7")``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Clamped, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

#: Arithmetic context of FEEL numbers: 34 significant digits, decimal128 exponent range.
#: Used explicitly (``CTX.add(a, b)``) so no thread-local context of the host can change results.
CTX = Context(
    prec=34,
    Emax=6144,
    Emin=-6143,
    traps=[InvalidOperation, DivisionByZero, Overflow, Clamped],
)

#: Largest list or string an expression may build; a bound on memory, not a FEEL rule.
MAX_ITEMS = 1_000_000


class _Missing:
    """Marker for "no such variable or context entry", which ``is defined`` tells from null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class YearsMonthsDuration:
    """A FEEL years-and-months duration (``P1Y2M``), kept as a signed number of months.

    ``timedelta`` cannot express it: a month has no fixed length, so adding one to a date is a
    calendar operation.
    """

    months: int

    @property
    def years(self) -> int:
        """Whole years, with the sign of the duration (FEEL ``duration.years``)."""
        return int(self.months / 12)

    @property
    def months_part(self) -> int:
        """Months left after whole years, signed (FEEL ``duration.months``)."""
        return self.months - self.years * 12

    def __str__(self) -> str:
        if self.months == 0:
            return "P0M"
        sign = "-" if self.months < 0 else ""
        y, m = divmod(abs(self.months), 12)
        return sign + "P" + (f"{y}Y" if y else "") + (f"{m}M" if m else "")


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range such as ``[1..5)``; either end may be ``None`` for ``< 10`` style ranges."""

    start: Any
    end: Any
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True, eq=False)
class FeelFunction:
    """A callable FEEL value: a built-in or a ``function(a, b) ...`` defined in an expression.

    ``params`` are FEEL parameter names (which may contain spaces) so named arguments work;
    ``required`` is how many leading parameters must be given; ``varargs`` means any number of
    positional arguments is accepted and passed on as they are.
    """

    name: str
    params: tuple[str, ...]
    required: int
    call: Callable[..., Any]
    varargs: bool = False


_PLAIN = frozenset({Decimal, str, bool, type(None)})


def to_feel(value: Any) -> Any:
    """Convert a host value read from variables into a FEEL value (deeply for lists and dicts).

    Anything unknown is passed through unchanged; FEEL operators treat it as an opaque value that
    only equality and ``is defined`` understand, and path access on it yields null.
    """
    t = type(value)
    if t in _PLAIN:
        return value
    if t is int:
        return Decimal(value)
    if t is float:
        return Decimal(repr(value))
    if t is list or t is tuple:
        return [to_feel(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_feel(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(int(value))
    return value


def type_name(value: Any) -> str:
    """FEEL's name for the type of a value, used by ``instance of`` and error messages."""
    t = type(value)
    if value is None:
        return "Null"
    if t is Decimal:
        return "number"
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is dt.date:
        return "date"
    if t is dt.datetime:
        return "date and time"
    if t is dt.time:
        return "time"
    if t is dt.timedelta:
        return "days and time duration"
    if t is YearsMonthsDuration:
        return "years and months duration"
    if t is list:
        return "list"
    if t is dict:
        return "context"
    if t is Range:
        return "range"
    if t is FeelFunction:
        return "function"
    return "Any"
