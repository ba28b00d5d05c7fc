"""How built-in functions are declared: a FEEL signature string plus a plain Python function.

``@builtin("substring(string: string, start position: number, length?: number)")`` gives the
FEEL name (spaces allowed), the parameter names for named arguments, and the parameter types.
The wrapper checks types before the Python function runs, so each built-in is written for
well-typed input only and FEEL's rule "wrong type or null argument → null" holds everywhere.
Following the spec, a non-list argument where a list is expected is wrapped in a list, and a
singleton list where a single value is expected is unwrapped.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Any

from liucheng.errors import ExpressionError

from .values import MAX_ITEMS, FeelFunction, Range, YearsMonthsDuration

BUILTINS: dict[str, FeelFunction] = {}

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (Decimal,),
    "boolean": (bool,),
    "list": (list,),
    "context": (dict,),
    "function": (FeelFunction,),
    "date": (dt.date, dt.datetime),
    "datetime": (dt.datetime,),
    "time": (dt.time,),
    "duration": (dt.timedelta, YearsMonthsDuration),
    "range": (Range,),
}


def _parse_signature(sig: str) -> tuple[str, list[tuple[str, str, bool]]]:
    name, _, rest = sig.partition("(")
    params: list[tuple[str, str, bool]] = []
    for part in filter(None, (p.strip() for p in rest.rstrip(")").split(","))):
        pname, _, ptype = part.partition(":")
        optional = pname.endswith("?")
        params.append((pname.rstrip("?").strip(), ptype.strip() or "any", optional))
    return name.strip(), params


def builtin(
    sig: str, *, varargs: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a built-in under the FEEL name and parameters that ``sig`` spells."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        name, params = _parse_signature(sig)
        checks = [(_TYPES.get(t), t == "list") for _, t, _ in params]

        @functools.wraps(fn)
        def call(*args: Any) -> Any:
            if not varargs:
                fixed = list(args)
                for i, (types, wants_list) in enumerate(checks[: len(fixed)]):
                    v = fixed[i]
                    if types is None:
                        continue
                    if wants_list:
                        if type(v) is not list:
                            if v is None:
                                return None
                            fixed[i] = [v]
                        continue
                    if type(v) is list and len(v) == 1:
                        v = fixed[i] = v[0]
                    if not isinstance(v, types) or (types[0] is Decimal and type(v) is bool):
                        return None
                args = tuple(fixed)
            try:
                return fn(*args)
            except (DecimalException, ValueError, OverflowError, ArithmeticError):
                return None

        required = sum(1 for _, _, opt in params if not opt)
        BUILTINS[name] = FeelFunction(name, tuple(p for p, _, _ in params), required, call, varargs)
        return fn

    return register


def bounded(value: Any) -> Any:
    """Refuse lists and strings past :data:`MAX_ITEMS`, the guard against memory exhaustion."""
    if (type(value) is list or type(value) is str) and len(value) > MAX_ITEMS:
        raise ExpressionError("result too large: more than 1,000,000 items or characters")
    return value


def spread(args: tuple[Any, ...]) -> list[Any] | None:
    """``min(1, 2)`` and ``min([1, 2])`` mean the same: the list form or the arguments."""
    if len(args) == 1 and type(args[0]) is list:
        return list(args[0])
    if len(args) == 1 and args[0] is None:
        return None
    return list(args)
