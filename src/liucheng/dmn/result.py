"""What an evaluation returns beyond the value, and Camunda 7's ways of storing it.

``DecisionResult.value`` is the DMN answer (single output → the value, several → a dict, a
multiple-hit table → a list).  History wants more — which rules matched — and Camunda 7 process
models want the result shaped by ``camunda:mapDecisionResult``, which works on *entries*: one
dict of output name → value per rule that made the result.  Both are here so the engine only
calls :func:`map_decision_result` and never needs to know about tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DmnEvaluationError, Where


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that matched: its 1-based position in the table, its id, its output values."""

    index: int
    rule_id: str | None
    outputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The outcome of one decision, with the results of the decisions it required.

    ``matched_rules``: every rule that matched, in rule order (for FIRST only the first, since
    evaluation stops there); empty for decisions that are not tables.  ``entries``: the rows
    that form the result, in result order, as Camunda 7 numbers them for
    ``mapDecisionResult`` (a literal expression gives one entry named after its variable; an
    aggregated COLLECT gives one entry holding the aggregate).  ``required``: the results of
    the decisions this one required, in the order the model lists them.
    """

    decision_id: str
    decision_name: str
    value: Any
    matched_rules: tuple[RuleHit, ...] = ()
    entries: tuple[Mapping[str, Any], ...] = ()
    required: tuple[DecisionResult, ...] = field(default=())

    @property
    def matched_rule_ids(self) -> tuple[str, ...]:
        """Ids of the matching rules (``rule <n>`` for a rule written without an id)."""
        return tuple(h.rule_id or f"rule {h.index}" for h in self.matched_rules)


#: The values ``camunda:mapDecisionResult`` may take; ``resultList`` is Camunda's default.
MAP_MODES = ("singleEntry", "singleResult", "collectEntries", "resultList")


def map_decision_result(result: DecisionResult, mode: str | None = None) -> Any:
    """Shape ``result`` as a Camunda 7 business rule task stores it in its ``resultVariable``.

    * ``singleEntry``: the one value of the one entry (null when no rule matched);
    * ``singleResult``: the one entry as a dict (null when no rule matched);
    * ``collectEntries``: a list with the one value of each entry;
    * ``resultList`` (default): a list of every entry as a dict.

    A result that does not fit the mode (two entries for ``singleResult``, an entry with two
    outputs for ``singleEntry``/``collectEntries``) raises DmnEvaluationError, as in Camunda.
    Camunda 8 (``zeebe:calledDecision``) stores ``result.value`` as it is: pass ``"value"``.
    """
    where = Where(path=(f"decision '{result.decision_id}'",))
    entries = result.entries
    mode = mode or "resultList"
    if mode == "value":
        return result.value
    if mode == "resultList":
        return [dict(e) for e in entries]
    if mode == "singleResult":
        _at_most_one(entries, mode, where)
        return dict(entries[0]) if entries else None
    if mode == "singleEntry":
        _at_most_one(entries, mode, where)
        return _single_value(entries[0], mode, where) if entries else None
    if mode == "collectEntries":
        return [_single_value(e, mode, where) for e in entries]
    raise DmnEvaluationError(
        f"unknown mapDecisionResult {mode!r} (known: {', '.join(MAP_MODES)}, value)", where
    )


def _at_most_one(entries: tuple[Mapping[str, Any], ...], mode: str, where: Where) -> None:
    if len(entries) > 1:
        raise DmnEvaluationError(
            f"mapDecisionResult {mode} needs at most one result, but there are {len(entries)}",
            where,
        )


def _single_value(entry: Mapping[str, Any], mode: str, where: Where) -> Any:
    if len(entry) != 1:
        names = ", ".join(entry) or "none"
        raise DmnEvaluationError(
            f"mapDecisionResult {mode} needs one output per result, but there are "
            f"{len(entry)} ({names})",
            where,
        )
    return next(iter(entry.values()))
