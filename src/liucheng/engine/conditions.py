"""Conditional start events of processes: which of them hold for a set of variables.

A process whose start event carries a ``conditionalEventDefinition`` starts when something
outside the engine asks (``Engine.evaluate_conditions``, the CLI's ``liucheng conditions``)
with variables that make its condition true, as Camunda 7's ``evaluateStartConditions`` does.
Nothing watches variables between cases: there is no case yet whose variables could change.

The condition sees exactly the variables given (no case exists yet), in the language it is
written in.  A condition that cannot be evaluated (an error, not merely false or null) is an
error of the request, naming the element, rather than silently "not met": a model that cannot
decide should not make a case quietly not start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from liucheng.engine.graph import CompiledProcess
from liucheng.errors import ExpressionError

__all__ = ["conditional_starts"]


def conditional_starts(
    processes: Iterable[CompiledProcess], variables: Mapping[str, Any]
) -> list[tuple[CompiledProcess, str]]:
    """``(process, start event id)`` for each conditional start event whose condition is true
    for ``variables``, in the order of ``processes`` and then of the start events in the file.

    Raises :class:`~liucheng.errors.ExpressionError` naming the element when a condition fails.
    """
    chosen: list[tuple[CompiledProcess, str]] = []
    for proc in processes:
        for node_id in proc.conditional_starts:
            condition = proc.nodes[node_id].when
            assert condition is not None  # compile_process keeps only starts with a condition
            try:
                met = condition(variables)
            except ExpressionError as exc:
                raise exc.at_element(f"{proc.id}/{node_id}") from None
            if met:
                chosen.append((proc, node_id))
    return chosen
