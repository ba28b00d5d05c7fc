"""Event subprocesses at process and subprocess level, started by messages, timers and errors,
interrupting and not."""

from __future__ import annotations

from collections.abc import Callable

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds
from .steps import PERSIST, open_nodes, pause, task_at

Deploy = Callable[..., Engine]


@PERSIST
def test_interrupting_message_cancels_the_main_flow(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_subprocess")
    case = engine.start("service_order", {"order": "S-1"})
    assert open_nodes(engine, case.id) == ["repair"]
    pause(engine, case.id, persist)
    case = engine.correlate("cancel_order", key="S-1", variables={"reason": "changed mind"})
    assert open_nodes(engine, case.id) == ["refund"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["repair"]
    pause(engine, case.id, persist)
    # The other event subprocesses can no longer start.
    case = engine.complete(task_at(engine, case.id, "refund").id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"order": "S-1", "reason": "changed mind"}
    assert engine.path(case.id) == ["start", "cancel_received", "refund", "cancelled", "on_cancel"]


@PERSIST
def test_non_interrupting_message_runs_alongside(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_subprocess")
    case = engine.start("service_order", {"order": "S-2"})
    engine.correlate("customer_note", key="S-2", variables={"note": "after 5pm"})
    engine.correlate("customer_note", key="S-2", variables={"note": "gate B"})
    assert open_nodes(engine, case.id) == ["read_note", "read_note", "repair"]
    pause(engine, case.id, persist)
    case = engine.complete(task_at(engine, case.id, "repair").id, {"defective": False})
    assert case.state is InstanceState.ACTIVE  # the notes still wait to be read
    for task in engine.tasks(instance=case.id):
        case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id).count("on_note") == 2


@PERSIST
def test_error_event_subprocess_catches_an_error_end(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_subprocess")
    case = engine.start("service_order", {"order": "S-3"})
    pause(engine, case.id, persist)
    case = engine.complete(task_at(engine, case.id, "repair").id, {"defective": True})
    assert open_nodes(engine, case.id) == ["recall"]
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["broken"]
    case = engine.complete(task_at(engine, case.id, "recall").id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-4:] == ["defect_found", "recall", "recalled", "on_defect"]


@PERSIST
def test_timer_event_subprocess_inside_a_subprocess(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_subprocess_in_subprocess")
    case = engine.start("inspection")
    pause(engine, case.id, persist)
    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1
    assert open_nodes(engine, case.id) == ["check", "remind"]
    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 0  # a duration fires once
    pause(engine, case.id, persist)
    engine.complete(task_at(engine, case.id, "check").id)
    # The subprocess waits for its reminder: the event subprocess and its task are open.
    assert engine.instance(case.id).active == ("inspect", "remind", "reminder")
    case = engine.complete(task_at(engine, case.id, "remind").id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["inspect", "end"]


def test_event_subprocess_timer_goes_when_its_subprocess_ends(deploy: Deploy) -> None:
    engine = deploy("test_event_subprocess_in_subprocess")
    case = engine.start("inspection")
    case = engine.complete(task_at(engine, case.id, "check").id)
    assert case.state is InstanceState.COMPLETED
    assert engine.next_due() is None
