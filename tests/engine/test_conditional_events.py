"""Conditional events: asked again whenever the case's variables change (a task completion, a
handler result, an operator's update), at an intermediate catch, a boundary event and the
start of an event subprocess."""

from __future__ import annotations

from collections.abc import Callable

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds
from .steps import PERSIST, open_nodes, pause, task_at

Deploy = Callable[..., Engine]


@PERSIST
def test_waits_until_the_condition_holds(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_conditional_events")
    case = engine.start("repair_order", {"parts_arrived": False, "cost": 100, "status": "open"})
    assert case.active == ("parts_here",)
    pause(engine, case.id, persist)
    case = engine.set_variables(case.id, {"cost": 200})  # a change, but not the one awaited
    assert case.active == ("parts_here",)
    case = engine.set_variables(case.id, {"parts_arrived": True})
    assert open_nodes(engine, case.id) == ["repair"]
    assert kinds(engine, case.id, HistoryKind.CONDITION_MET) == ["parts_here"]


def test_passes_at_once_when_the_condition_already_holds(deploy: Deploy) -> None:
    engine = deploy("test_conditional_events")
    case = engine.start("repair_order", {"parts_arrived": True, "cost": 0, "status": "open"})
    assert open_nodes(engine, case.id) == ["repair"]


@PERSIST
def test_non_interrupting_boundary_opens_a_review(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_conditional_events")
    case = engine.start("repair_order", {"parts_arrived": True, "cost": 0, "status": "open"})
    pause(engine, case.id, persist)
    case = engine.set_variables(case.id, {"cost": 8000})
    assert open_nodes(engine, case.id) == ["manager_review", "repair"]
    engine.complete(task_at(engine, case.id, "manager_review").id)
    case = engine.complete(task_at(engine, case.id, "repair").id)
    assert case.state is InstanceState.COMPLETED


@PERSIST
def test_conditional_event_subprocess_interrupts(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_conditional_events")
    case = engine.start("repair_order", {"parts_arrived": True, "cost": 0, "status": "open"})
    pause(engine, case.id, persist)
    # A task completion that sets the variable triggers it as well.
    case = engine.complete(task_at(engine, case.id, "repair").id, {"status": "cancelled"})
    assert case.state is InstanceState.COMPLETED
    case = engine.start("repair_order", {"parts_arrived": True, "cost": 0, "status": "open"})
    case = engine.set_variables(case.id, {"status": "cancelled"})
    assert case.state is InstanceState.COMPLETED
    assert engine.tasks(instance=case.id) == []
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["repair"]
    assert engine.path(case.id)[-3:] == ["cancelled", "stopped", "on_cancel"]
