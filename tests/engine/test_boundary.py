"""Boundary events on user tasks, service tasks and subprocesses.

An interrupting boundary event cancels its activity (recorded as ELEMENT_CANCELLED) and the
case follows the boundary's path instead; a non-interrupting one leaves the activity waiting and
starts an extra path beside it.  A boundary event's wait ends with its activity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from liucheng import BpmnError, CorrelationError, Engine, HistoryKind, InstanceState

from .conftest import START, kinds, roundtrip


def test_boundary_timer_interrupts_user_task(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_interrupts_user_task")
    case = engine.start("timed_review", {"doc": "D-1"})
    (review,) = engine.tasks(instance=case.id)
    assert engine.next_due() == START + timedelta(hours=1)
    roundtrip(engine, case.id)

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.active == ("escalated_review",)
    assert engine.path(case.id) == ["start", "deadline"]
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["deadline"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["review"]
    assert [t.node for t in engine.tasks(instance=case.id)] == ["escalated_review"]
    with pytest.raises(Exception, match="already completed or cancelled"):
        engine.complete(review.id)
    roundtrip(engine, case.id)

    (escalated,) = engine.tasks(instance=case.id)
    case = engine.complete(escalated.id, {"late": True})
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"doc": "D-1", "late": True}
    assert engine.path(case.id) == ["start", "deadline", "escalated_review", "escalated"]


def test_boundary_timer_removed_when_task_completes_first(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_boundary_timer_interrupts_user_task")
    case = engine.start("timed_review")
    engine.clock.advance(minutes=59)
    assert engine.run_due_jobs() == 0

    (review,) = engine.tasks(instance=case.id)
    case = engine.complete(review.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "review", "reviewed"]
    assert engine.next_due() is None
    engine.clock.advance(hours=5)
    assert engine.run_due_jobs() == 0
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == []
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []


def test_boundary_timer_cycle_non_interrupting(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_cycle_non_interrupting")
    case = engine.start("reminders", {"reminders": 0})
    (task,) = engine.tasks(instance=case.id)
    roundtrip(engine, case.id)

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1
    case = engine.instance(case.id)
    assert case.variables == {"reminders": 1}
    assert case.active == ("fill_form",)  # the task is still there
    assert engine.tasks(instance=case.id) == [task]
    assert engine.path(case.id) == ["start", "hourly", "remind", "reminded"]
    assert engine.next_due() == START + timedelta(hours=2)
    roundtrip(engine, case.id)

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1
    assert engine.instance(case.id).variables == {"reminders": 2}

    # R2: the cycle is used up after two firings.
    assert engine.next_due() is None
    engine.clock.advance(hours=3)
    assert engine.run_due_jobs() == 0
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["hourly", "hourly"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []

    case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"reminders": 2}
    assert engine.path(case.id) == [
        "start",
        "hourly",
        "remind",
        "reminded",
        "hourly",
        "remind",
        "reminded",
        "fill_form",
        "done",
    ]


def test_boundary_timer_cycle_catches_up_in_one_call(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_cycle_non_interrupting")
    case = engine.start("reminders", {"reminders": 0})

    engine.clock.advance(hours=5)

    assert engine.run_due_jobs() == 2
    assert engine.instance(case.id).variables == {"reminders": 2}
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["hourly", "hourly"]
    assert engine.instance(case.id).active == ("fill_form",)


def test_boundary_timer_cycle_stops_when_task_completes(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_cycle_non_interrupting")
    case = engine.start("reminders", {"reminders": 0})
    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.next_due() is None
    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 0
    assert case.variables == {"reminders": 1}


def test_boundary_message_interrupts_user_task(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_message_interrupts_user_task")
    case = engine.start("withdrawable", business_key="W-1")
    roundtrip(engine, case.id)

    case = engine.correlate("application_withdrawn", key="W-1", variables={"reason": "moved"})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"reason": "moved"}
    assert engine.path(case.id) == ["start", "withdrawn", "closed"]
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["withdrawn"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["assess"]
    assert engine.tasks(instance=case.id) == []
    # The other boundary's subscription went with the task.
    with pytest.raises(CorrelationError):
        engine.correlate("note_added", key="W-1")


def test_boundary_message_non_interrupting(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_message_interrupts_user_task")
    case = engine.start("withdrawable", business_key="W-2")
    (task,) = engine.tasks(instance=case.id)

    case = engine.correlate("note_added", key="W-2", variables={"note": "call back"})
    assert case.active == ("assess",)
    assert engine.tasks(instance=case.id) == [task]
    assert case.variables == {"note": "call back"}
    assert engine.path(case.id) == ["start", "note", "log_note", "note_logged"]
    roundtrip(engine, case.id)

    # A non-interrupting message boundary keeps listening while its task waits.
    case = engine.correlate("note_added", key="W-2", variables={"note": "urgent"})
    assert case.variables == {"note": "urgent"}
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["note", "note"]

    case = engine.complete(task.id, {"ok": True})
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["assess", "assessed"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
    with pytest.raises(CorrelationError):
        engine.correlate("note_added", key="W-2")


def test_boundary_timer_interrupts_subprocess(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_interrupts_subprocess")
    case = engine.start("timed_sub", business_key="S-1")
    assert case.active == ("collect", "upload_id", "upload_photo")
    first = next(t for t in engine.tasks(instance=case.id) if t.node == "upload_id")
    case = engine.complete(first.id)
    assert case.active == ("collect", "upload_photo")
    roundtrip(engine, case.id)

    engine.clock.advance(days=2)
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["upload_photo", "collect"]
    assert engine.path(case.id) == [
        "start",
        "collect_start",
        "collect_fork",
        "upload_id",
        "uploaded",
        "collect_deadline",
        "timed_out",
    ]
    assert engine.tasks(instance=case.id) == []
    assert engine.instance(case.id).incidents == ()
    assert engine.dump(case.id)  # no stray scope or token left to serialise


def test_boundary_message_non_interrupting_on_subprocess(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_timer_interrupts_subprocess")
    case = engine.start("timed_sub", business_key="S-2")

    case = engine.correlate("ping", key="S-2", variables={"pings": ["hello"]})

    assert case.active == ("collect", "upload_id", "upload_photo")
    assert case.variables == {"pings": ["hello"], "ping_count": 1}
    assert engine.path(case.id) == [
        "start",
        "collect_start",
        "collect_fork",
        "pinged",
        "count_ping",
        "ping_end",
    ]
    roundtrip(engine, case.id)

    for task in engine.tasks(instance=case.id):
        case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["collect", "collected"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
    assert engine.next_due() is None  # the subprocess's timer went with it


def test_boundary_error_on_service_task(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_error_on_service_task")
    seen: list[dict[str, Any]] = []

    @engine.service("charge-card")
    def charge(variables: dict[str, Any]) -> dict[str, Any]:
        seen.append(variables)
        if variables["card"] == "bad":
            raise BpmnError("CARD_DECLINED", "insufficient funds")
        return {"charged": True}

    good = engine.start("charge", {"card": "good"})
    assert good.state is InstanceState.COMPLETED
    assert engine.path(good.id) == ["start", "charge_card", "charged"]
    assert good.variables == {"card": "good", "charged": True}

    case = engine.start("charge", {"card": "bad"})

    assert seen == [{"card": "good"}, {"card": "bad"}]
    assert case.active == ("ask_other_card",)
    assert case.variables == {"card": "bad"}
    assert engine.path(case.id) == ["start", "declined"]
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["charge_card"]
    thrown = next(e for e in engine.history(case.id) if e.kind is HistoryKind.ERROR_THROWN)
    assert thrown.detail == "CARD_DECLINED"
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["charge_card"]
    assert case.incidents == ()
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "declined", "ask_other_card", "asked"]


def test_boundary_error_on_subprocess_from_inner_service_task(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_boundary_error_on_subprocess_from_inner_service_task")

    def blacklist(variables: dict[str, Any]) -> dict[str, Any]:
        if variables["name"] in ("Mallory",):
            raise BpmnError("BLACKLISTED")
        return {"clean": True}

    engine.register_service("blacklist", blacklist)

    case = engine.start("vetting", {"name": "Mallory"})

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "checks_start", "checks_fork", "refused", "rejected"]
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["check_blacklist"]
    # The sibling interview task inside the subprocess is cancelled with it.
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == [
        "interview",
        "check_blacklist",
        "checks",
    ]
    assert engine.tasks(instance=case.id) == []
    assert case.variables == {"name": "Mallory"}

    clean = engine.start("vetting", {"name": "Alice"})
    assert clean.active == ("checks", "interview")
    roundtrip(engine, clean.id)
    (task,) = engine.tasks(instance=clean.id)
    clean = engine.complete(task.id)
    assert clean.state is InstanceState.COMPLETED
    assert clean.variables == {"name": "Alice", "clean": True}
    assert engine.path(clean.id)[-2:] == ["checks", "vetted"]
    assert kinds(engine, clean.id, HistoryKind.ELEMENT_CANCELLED) == []


def test_boundary_timer_cancels_incident_inside_subprocess(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_boundary_timer_cancels_incident_inside_subprocess")

    def erp(variables: dict[str, Any]) -> None:
        raise RuntimeError("ERP is down")

    engine.register_service("erp", erp)
    case = engine.start("stuck_sub")
    assert [i.node for i in case.incidents] == ["call_erp"]
    assert engine.next_due() == START + timedelta(hours=1)  # the subprocess's timer still runs
    roundtrip(engine, case.id)

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.incidents == ()  # the incident went with the cancelled task
    assert engine.path(case.id) == ["start", "sync_start", "give_up", "gave_up"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["call_erp", "sync"]


def test_boundary_timer_on_subprocess_removes_inner_timers(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_boundary_timer_cancels_incident_inside_subprocess")
    engine.register_service("erp", lambda variables: {"synced": 3})
    case = engine.start("stuck_sub")
    assert case.active == ("check_result", "sync")
    roundtrip(engine, case.id)

    engine.clock.advance(hours=3)  # both timers are due; the subprocess's falls due first
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"synced": 3}
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["give_up"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["check_result", "sync"]
    assert engine.path(case.id) == ["start", "sync_start", "call_erp", "give_up", "gave_up"]
    assert engine.next_due() is None
