"""The engine-side names of Camunda, Flowable and Activiti expressions, served from the
variables mapping the evaluator is given — so the engine passes nothing but its variables.

* ``execution.getVariable('x')``, ``getVariableLocal``, ``hasVariable``, ``hasVariableLocal``:
  the most common Camunda/Activiti idiom.  ``execution`` is not an object here: only these four
  calls are recognised, when compiling.  "Local" means the innermost scope when the engine hands
  a ``ChainMap`` of scopes (innermost first, as ``engine.executor`` builds it), else the mapping.
* Flowable's variable functions ``variables:get(x)`` (also ``vars:`` and ``var:``), which, unlike
  a plain ``x``, give null for a variable that does not exist.
* Camunda's ``now()`` and ``dateTime()``: the engine clock (``liucheng.expr.clock``) as an aware
  ``datetime``; ``dateTime().plusDays(2).toDate()`` works through the date methods of ``access``.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

from liucheng.expr.clock import CLOCK

from .access import call_method
from .coerce import fail, to_str
from .ops import empty, eq, ge, gt, le, lt

Env = Mapping[str, Any]


def _local(env: Env) -> Mapping[str, Any]:
    return env.maps[0] if isinstance(env, ChainMap) else env


EXECUTION: dict[str, Callable[[Env, str], Any]] = {
    "getVariable": lambda env, name: env.get(name),
    "getVariableLocal": lambda env, name: _local(env).get(name),
    "hasVariable": lambda env, name: name in env,
    "hasVariableLocal": lambda env, name: name in _local(env),
}
"""``execution.<method>(name)``; each takes the variable's name and reads ``env``."""


def variable_name(value: Any) -> str:
    if value is None:
        raise fail("the variable name is null")
    return to_str(value)


def now() -> Any:
    return CLOCK.get()()


FUNCTIONS: dict[str, Callable[[], Any]] = {"now": now, "dateTime": now}
"""Unprefixed functions: Camunda's clock functions."""


def _contains(value: Any, candidates: tuple[Any, ...], need_all: bool) -> bool:
    if value is None:
        return False
    if value.__class__ is str:
        hits = (to_str(c) in value for c in candidates)
    else:
        hits = (call_method(value, "contains", [c]) for c in candidates)
    return all(hits) if need_all else any(hits)


FlowableFunction = tuple[int, int, Callable[..., Any]]
"""(fewest, most arguments after the name, implementation(value, exists, *arguments))."""

_MANY = 1000
_FLOWABLE_BASE: dict[tuple[str, ...], FlowableFunction] = {
    ("get",): (0, 0, lambda v, present: v),
    ("getOrDefault",): (1, 1, lambda v, present, d: d if v is None else v),
    ("exists",): (0, 0, lambda v, present: present),
    ("isEmpty", "empty"): (0, 0, lambda v, present: empty(v)),
    ("isNotEmpty", "notEmpty"): (0, 0, lambda v, present: not empty(v)),
    ("equals", "eq"): (1, 1, lambda v, present, x: eq(v, x)),
    ("notEquals", "ne"): (1, 1, lambda v, present, x: not eq(v, x)),
    ("lowerThan", "lessThan", "lt"): (1, 1, lambda v, present, x: lt(v, x)),
    ("lowerThanOrEquals", "lessThanOrEquals", "lte"): (1, 1, lambda v, present, x: le(v, x)),
    ("greaterThan", "gt"): (1, 1, lambda v, present, x: gt(v, x)),
    ("greaterThanOrEquals", "gte"): (1, 1, lambda v, present, x: ge(v, x)),
    ("contains",): (1, _MANY, lambda v, present, *xs: _contains(v, xs, True)),
    ("containsAny",): (1, _MANY, lambda v, present, *xs: _contains(v, xs, False)),
}
FLOWABLE: dict[str, FlowableFunction] = {
    name: entry for names, entry in _FLOWABLE_BASE.items() for name in names
}
"""Flowable's ``variables:<name>(variableName, …)``; the variable may be missing."""
