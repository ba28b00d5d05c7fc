"""The names every expression and script can use without defining them.

Each builtin is a guarded wrapper: sizes are checked before work (``range``, ``int``,
``round``), lazy iterators are replaced by lists so no hidden work survives the call
(``reversed``, ``zip``, ``enumerate``), ``key=`` arguments must be one of our own callables, and
``datetime.now()`` reads the engine's clock rather than the machine's, so timers and scripts agree
on what "now" is and tests can move time.  Missing on purpose: getattr, setattr, type, vars,
dir, globals, locals, open, eval, exec, compile, __import__, input, iter, next, format.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar, Token
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
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

# --- the clock -------------------------------------------------------------------------------
from liucheng.expr.clock import CLOCK

from .attributes import check_strftime
from .callables import SafeFunction, SafeType, unwrap_key
from .limits import (
    MAX_ROUND_DIGITS,
    LimitError,
    check_int,
    check_len,
    guard_decimal_size,
)

Clock = Callable[[], datetime]


_clock: ContextVar[Clock] = CLOCK  # shared with FEEL: see liucheng/expr/clock.py


def set_clock(clock: Clock) -> Token[Clock]:
    """Make ``datetime.now()`` in scripts return ``clock()`` in the current context.

    The engine sets its own clock before evaluating; pass the returned token to ``reset_clock``.
    A context variable (not a global) keeps two engines in one process, or two threads, apart.
    """
    return _clock.set(clock)


def reset_clock(token: Token[Clock]) -> None:
    """Undo a ``set_clock``."""
    _clock.reset(token)


@contextlib.contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    """``with using_clock(lambda: fixed): ...`` — set the clock for a block."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


def _now(tz: tzinfo | None = None) -> datetime:
    """The engine's current time, always timezone-aware (naive clocks are taken as UTC)."""
    current = _clock.get()()
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    return current.astimezone(tz) if tz is not None else current


def _utcnow() -> datetime:
    return _now(UTC)


def _today() -> date:
    return _now().date()


def _strptime(text: str, fmt: str) -> datetime:
    check_strftime(fmt)
    return datetime.strptime(text, fmt)


# --- guarded builtins ------------------------------------------------------------------------


def _range(*args: int) -> range:
    r = range(*args)
    check_len(len(r), "range()")
    return r


def _int(value: Any = 0, *args: Any) -> int:
    if isinstance(value, (str, bytes)) and len(value) > 1300:
        raise LimitError("int() of a string longer than 1300 characters")
    if isinstance(value, Decimal):
        guard_decimal_size(value, "int()")
    result: int = check_int(int(value, *args))
    return result


def _str(*args: Any) -> str:
    result = str(*args)
    check_len(len(result), "str() result")
    return result


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise LimitError(f"round() ndigits must be within ±{MAX_ROUND_DIGITS}")
    return round(number, ndigits)


_SUMMABLE = (int, float, Decimal, timedelta)


def _sum(items: Iterable[Any], start: Any = 0) -> Any:
    """Numbers and durations only: ``sum(lists, [])`` is quadratic and would dodge the limits."""
    if not isinstance(start, _SUMMABLE):
        raise TypeError("sum() adds numbers or timedeltas only; use a comprehension for lists")
    total: Any = start
    for item in items:
        if not isinstance(item, _SUMMABLE):
            raise TypeError(f"sum() cannot add {type(item).__name__}")
        total = check_int(total + item)
    return total


def _min(*args: Any, key: Any = None, **kwargs: Any) -> Any:
    return min(*args, key=unwrap_key(key), **kwargs)


def _max(*args: Any, key: Any = None, **kwargs: Any) -> Any:
    return max(*args, key=unwrap_key(key), **kwargs)


def _sorted(items: Iterable[Any], *, key: Any = None, reverse: bool = False) -> list[Any]:
    return sorted(items, key=unwrap_key(key), reverse=reverse)


def _reversed(items: Any) -> list[Any]:
    return list(reversed(items))


def _enumerate(items: Iterable[Any], start: int = 0) -> list[tuple[int, Any]]:
    return list(enumerate(items, start))


def _zip(*iterables: Iterable[Any], strict: bool = False) -> list[tuple[Any, ...]]:
    return list(zip(*iterables, strict=strict))


def _isinstance(value: Any, kind: Any) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    real: list[type] = []
    for k in kinds:
        if not isinstance(k, SafeType):
            raise TypeError("isinstance() needs a built-in type such as int, str or datetime")
        real.extend(k.real if isinstance(k.real, tuple) else (k.real,))
    return isinstance(value, tuple(real))


def _print(*args: Any, **kwargs: Any) -> None:
    """Accepted so SpiffWorkflow scripts with debugging prints still run; writes nothing."""


def _chr(code: int) -> str:
    return chr(code)


def _collection(kind: type) -> Callable[..., Any]:
    def build(*args: Any, **kwargs: Any) -> Any:
        result = kind(*args, **kwargs)
        check_len(len(result), f"{kind.__name__}()")
        return result

    return build


def _type(
    name: str, real: type | tuple[type, ...], fn: Callable[..., Any], **attrs: Any
) -> SafeType:
    return SafeType(name, real, fn, attrs)


def _fn(name: str, fn: Callable[..., Any]) -> SafeFunction:
    return SafeFunction(name, fn)


_datetime_attrs: dict[str, Any] = {
    "now": _fn("now", _now),
    "today": _fn("today", _now),
    "utcnow": _fn("utcnow", _utcnow),
    "fromisoformat": _fn("fromisoformat", datetime.fromisoformat),
    "combine": _fn("combine", datetime.combine),
    "strptime": _fn("strptime", _strptime),
    "min": datetime.min,
    "max": datetime.max,
}

BUILTINS: dict[str, Any] = {
    "True": True,
    "False": False,
    "None": None,
    "len": _fn("len", len),
    "abs": _fn("abs", abs),
    "min": _fn("min", _min),
    "max": _fn("max", _max),
    "sum": _fn("sum", _sum),
    "round": _fn("round", _round),
    "sorted": _fn("sorted", _sorted),
    "reversed": _fn("reversed", _reversed),
    "range": _type("range", range, _range),
    "enumerate": _fn("enumerate", _enumerate),
    "zip": _fn("zip", _zip),
    "any": _fn("any", any),
    "all": _fn("all", all),
    "divmod": _fn("divmod", divmod),
    "chr": _fn("chr", _chr),
    "ord": _fn("ord", ord),
    "isinstance": _fn("isinstance", _isinstance),
    "print": _fn("print", _print),
    "int": _type("int", int, _int),
    "float": _type("float", float, float),
    "str": _type("str", str, _str),
    "bool": _type("bool", bool, bool),
    "list": _type("list", list, _collection(list)),
    "tuple": _type("tuple", tuple, _collection(tuple)),
    "dict": _type("dict", dict, _collection(dict)),
    "set": _type("set", set, _collection(set)),
    "frozenset": _type("frozenset", frozenset, _collection(frozenset)),
    "Decimal": _type("Decimal", Decimal, Decimal),
    "datetime": _type("datetime", datetime, datetime, **_datetime_attrs),
    "date": _type(
        "date",
        date,
        date,
        today=_fn("today", _today),
        fromisoformat=_fn("fromisoformat", date.fromisoformat),
        min=date.min,
        max=date.max,
    ),
    "time": _type("time", time, time, fromisoformat=_fn("fromisoformat", time.fromisoformat)),
    "timedelta": _type(
        "timedelta",
        timedelta,
        timedelta,
        min=timedelta.min,
        max=timedelta.max,
        resolution=timedelta.resolution,
    ),
    "timezone": _type("timezone", (timezone, tzinfo), timezone, utc=UTC),
    "ROUND_HALF_UP": ROUND_HALF_UP,
    "ROUND_HALF_EVEN": ROUND_HALF_EVEN,
    "ROUND_HALF_DOWN": ROUND_HALF_DOWN,
    "ROUND_UP": ROUND_UP,
    "ROUND_DOWN": ROUND_DOWN,
    "ROUND_CEILING": ROUND_CEILING,
    "ROUND_FLOOR": ROUND_FLOOR,
}
"""Name -> value; variables of the same name take precedence, as globals shadow builtins."""
