"""Helpers for behaviour tests that drive a case from wait state to wait state.

Most behaviour tests run twice (``@PERSIST``): once in memory, once with the case serialised to
JSON and restored at every wait state, as a durable runtime would; both runs must assert the same
path, variables and history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from liucheng import Engine, UserTask
from liucheng.api import Case

from .conftest import roundtrip

PERSIST = pytest.mark.parametrize("persist", [False, True], ids=["in_memory", "roundtrip"])


def pause(engine: Engine, case_id: str, persist: bool) -> None:
    """The case waits here: with ``persist``, store and restore it before going on."""
    if persist:
        roundtrip(engine, case_id)


def task_at(engine: Engine, case_id: str, node: str) -> UserTask:
    """The one open user task of the case at ``node``."""
    found = [t for t in engine.tasks(instance=case_id) if t.node == node]
    assert len(found) == 1, f"expected one open task at {node!r}, found {found}"
    return found[0]


def complete_at(
    engine: Engine,
    case_id: str,
    node: str,
    variables: Mapping[str, Any] | None = None,
    *,
    persist: bool = False,
) -> Case:
    """Complete the open task at ``node`` (restoring the case from JSON first with ``persist``)."""
    pause(engine, case_id, persist)
    return engine.complete(task_at(engine, case_id, node).id, variables)


def open_nodes(engine: Engine, case_id: str) -> list[str]:
    """The nodes of the case's open user tasks, sorted."""
    return sorted(t.node for t in engine.tasks(instance=case_id))


def comparable_history(engine: Engine, case_id: str) -> list[tuple[Any, ...]]:
    """The case's history without ids and times: (kind, element, variables, detail).

    Task ids in ``detail`` start with the case id; it is replaced so two cases compare equal.
    """
    result = []
    for e in engine.history(case_id):
        detail = e.detail.replace(case_id, "<case>") if e.detail else e.detail
        result.append((e.kind, e.element, e.variables, detail))
    return result
