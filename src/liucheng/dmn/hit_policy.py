"""Hit policies: which of the matching rules make the result of a decision table, and how.

Single-hit policies give one row (a value, or a dict for several outputs); multiple-hit policies
give a list of rows, or one aggregated value for COLLECT with SUM/MIN/MAX/COUNT.

Readings where the DMN text leaves room (each documented in docs/dmn.md):

* PRIORITY and OUTPUT ORDER rank a row by the position of its output values in each output's
  ``outputValues`` list, comparing outputs left to right; outputs without ``outputValues`` do
  not take part, and ties keep rule order.
* ANY compares rows with FEEL ``=`` (so ``1`` and ``1.0`` agree); any difference is an error.
* COLLECT aggregates with FEEL's own ``sum``/``min``/``max``; COUNT counts the matching rules
  (not distinct values, as Camunda does).  With no match SUM, MIN and MAX give null and COUNT 0.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from liucheng.expr.feel import ops
from liucheng.expr.feel.registry import BUILTINS

from .errors import DmnEvaluationError, DmnParseError, Where


class HitPolicy(enum.Enum):
    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"

    @property
    def single(self) -> bool:
        """Whether the result is one row (not a list)."""
        return self in _SINGLE

    @property
    def ranked(self) -> bool:
        """Whether rows are ordered by output values (which the outputs must then list)."""
        return self in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER)


_SINGLE = frozenset({HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY})


class Aggregation(enum.Enum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


def read_hit_policy(
    hit_policy: str | None, aggregation: str | None, where: Where
) -> tuple[HitPolicy, Aggregation | None]:
    """The table's policy from its XML attributes (default UNIQUE); unknown names are refused."""
    name = " ".join((hit_policy or "UNIQUE").split()).upper()
    try:
        policy = HitPolicy(name)
    except ValueError:
        known = ", ".join(p.value for p in HitPolicy)
        raise DmnParseError(f"unknown hit policy {hit_policy!r} (known: {known})", where) from None
    if aggregation is None or not aggregation.strip():
        return policy, None
    try:
        agg = Aggregation(aggregation.strip().upper())
    except ValueError:
        raise DmnParseError(
            f"unknown aggregation {aggregation!r} (known: SUM, MIN, MAX, COUNT)", where
        ) from None
    if policy is not HitPolicy.COLLECT:
        raise DmnParseError(
            f"aggregation {agg.value} is only allowed with hit policy COLLECT, not {policy.value}",
            where,
        )
    return policy, agg


@dataclass(frozen=True, slots=True)
class Row:
    """One matching rule during evaluation: its place, its value, and its rank when ranked."""

    index: int
    rule_id: str | None
    values: tuple[Any, ...]
    value: Any
    rank: tuple[int, ...] = ()


def select(policy: HitPolicy, rows: Sequence[Row], where: Where) -> list[Row]:
    """The rows that make the result, in result order; raises when the policy is violated."""
    if len(rows) <= 1 or policy in (HitPolicy.FIRST, HitPolicy.RULE_ORDER, HitPolicy.COLLECT):
        return list(rows[:1]) if policy is HitPolicy.FIRST else list(rows)
    if policy is HitPolicy.UNIQUE:
        raise DmnEvaluationError(
            f"hit policy UNIQUE allows one matching rule, but {_rules(rows)} match", where
        )
    if policy is HitPolicy.ANY:
        first = rows[0]
        for other in rows[1:]:
            if ops.eq(first.value, other.value) is not True:
                raise DmnEvaluationError(
                    "hit policy ANY needs matching rules to agree, but "
                    f"{_rules([first, other])} give different outputs",
                    where,
                )
        return [first]
    ordered = sorted(rows, key=lambda r: r.rank)  # stable: ties stay in rule order
    return ordered[:1] if policy is HitPolicy.PRIORITY else ordered


def aggregate(aggregation: Aggregation, values: list[Any]) -> Any:
    """COLLECT with an aggregation: FEEL's ``sum``/``min``/``max``, or the number of matches."""
    if aggregation is Aggregation.COUNT:
        return Decimal(len(values))
    if not values:
        return None
    return BUILTINS[aggregation.value.lower()].call(values)


def _rules(rows: Sequence[Row]) -> str:
    parts = [f"{r.index}" + (f" ({r.rule_id})" if r.rule_id else "") for r in rows]
    if len(parts) == 1:
        return "rule " + parts[0]
    return "rules " + ", ".join(parts[:-1]) + " and " + parts[-1]
