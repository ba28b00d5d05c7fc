"""External tasks: work a worker outside the engine fetches by topic, locks, and reports on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from liucheng import ConflictError, Engine, HistoryKind, InstanceState, UnknownTaskError

from .conftest import kinds

MINUTE = timedelta(minutes=1)


def _gate(deploy: Callable[..., Engine]) -> tuple[Engine, str]:
    engine = deploy("test_external_tasks")
    case = engine.start("gate", {"plate": "沪A·12345"}, business_key="G-1")
    return engine, case.id


def test_a_worker_fetches_locks_and_completes(deploy: Callable[..., Engine]) -> None:
    engine, case_id = _gate(deploy)
    assert engine.instance(case_id).active == ("open_barrier",)
    [locked] = engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE)
    assert locked.topic == "barrier" and locked.variables == {"plate": "沪A·12345"}
    assert locked.task.business_key == "G-1"
    # Locked: a second worker gets nothing.
    assert engine.fetch_and_lock("barrier", worker="gate-2", lock_for=MINUTE) == []
    with pytest.raises(ConflictError, match="not locked by 'gate-2'"):
        engine.complete_external(locked.id, worker="gate-2")
    case = engine.complete_external(locked.id, worker="gate-1", variables={"opened": True})
    assert case.state is InstanceState.COMPLETED
    assert case.variables["opened"] is True
    assert engine.path(case_id) == ["start", "open_barrier", "passed"]
    assert kinds(engine, case_id, HistoryKind.EXTERNAL_TASK_CREATED) == ["open_barrier"]
    assert kinds(engine, case_id, HistoryKind.EXTERNAL_TASK_COMPLETED) == ["open_barrier"]
    with pytest.raises(ConflictError, match="already finished"):
        engine.complete_external(locked.id, worker="gate-1")
    with pytest.raises(UnknownTaskError):
        engine.complete_external("nonsense.1", worker="gate-1")


def test_an_expired_lock_lets_another_worker_take_the_task(
    deploy: Callable[..., Engine],
) -> None:
    engine, _ = _gate(deploy)
    [first] = engine.fetch_and_lock(["barrier"], worker="gate-1", lock_for=MINUTE)
    engine.clock.advance(minutes=2)  # gate-1 died
    [second] = engine.fetch_and_lock(["barrier"], worker="gate-2", lock_for=MINUTE)
    assert second.id == first.id
    with pytest.raises(ConflictError):
        engine.complete_external(first.id, worker="gate-1")
    assert engine.complete_external(second.id, worker="gate-2").is_ended


def test_failures_back_off_then_raise_an_incident_that_retry_resolves(
    deploy: Callable[..., Engine],
) -> None:
    engine, case_id = _gate(deploy)
    [locked] = engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE)
    engine.fail_external(
        locked.id, worker="gate-1", message="no answer", retries=1, retry_in=5 * MINUTE
    )
    assert engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE) == []
    engine.clock.advance(minutes=5)
    [again] = engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE)
    assert again.task.retries == 1 and again.task.error == "no answer"
    case = engine.fail_external(again.id, worker="gate-1", message="still dead", retries=0)
    assert [i.kind for i in case.incidents] == ["external"]
    assert "still dead" in case.incidents[0].message
    assert engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE) == []
    assert kinds(engine, case_id, HistoryKind.EXTERNAL_TASK_FAILED) == ["open_barrier"] * 2

    engine.retry(case_id)  # the barrier was repaired: offer the work again
    [fresh] = engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE)
    assert engine.complete_external(fresh.id, worker="gate-1").state is InstanceState.COMPLETED


def test_a_business_error_is_caught_by_the_error_boundary(deploy: Callable[..., Engine]) -> None:
    engine, case_id = _gate(deploy)
    [locked] = engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE)
    case = engine.external_bpmn_error(locked.id, worker="gate-1", code="BARRIER_JAMMED")
    assert case.active == ("call_guard",)
    assert [t.node for t in engine.tasks(instance=case_id)] == ["call_guard"]
    assert engine.external_tasks() == []


def test_a_handler_in_this_engine_does_the_work_in_process(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_external_tasks")
    seen: list[Any] = []
    engine.register_service("barrier", lambda v: seen.append(v["plate"]) or {"opened": True})
    case = engine.start("gate", {"plate": "沪B·2"})
    assert case.state is InstanceState.COMPLETED and seen == ["沪B·2"]
    assert engine.fetch_and_lock("barrier", worker="gate-1", lock_for=MINUTE) == []


def test_bad_fetch_arguments_are_refused(deploy: Callable[..., Engine]) -> None:
    engine, _ = _gate(deploy)
    with pytest.raises(Exception, match="positive lock_for"):
        engine.fetch_and_lock("barrier", worker="", lock_for=MINUTE)
    with pytest.raises(Exception, match="positive lock_for"):
        engine.fetch_and_lock("barrier", worker="w", lock_for=timedelta(0))
