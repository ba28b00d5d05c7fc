"""Asynchronous continuations: a job carries the token into the element, and retries it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import MODELS, kinds


class Gateway:
    """An SMS gateway that is down for the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, variables: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("gateway down")
        return {"sms_sent": True}


def _start(deploy: Callable[..., Engine], failures: int) -> tuple[Engine, str, Gateway]:
    engine = deploy("test_async_jobs")
    gateway = Gateway(failures)
    engine.register_service("sms", gateway)
    case = engine.start("send_sms")
    return engine, case.id, gateway


def test_the_step_before_is_committed_and_a_job_goes_on(deploy: Callable[..., Engine]) -> None:
    engine, case_id, gateway = _start(deploy, failures=0)
    waiting = engine.instance(case_id)
    assert waiting.state is InstanceState.ACTIVE and waiting.active == ("sms",)
    assert waiting.variables == {"recorded": True} and gateway.calls == 0
    assert engine.run_due_jobs() == 1
    done = engine.instance(case_id)
    assert done.state is InstanceState.COMPLETED and done.variables["sms_sent"] is True
    assert engine.path(case_id) == ["start", "record", "sms", "end"]
    assert kinds(engine, case_id, HistoryKind.JOB_CREATED) == ["sms"]


def test_a_failing_job_is_retried_after_its_delay(deploy: Callable[..., Engine]) -> None:
    engine, case_id, gateway = _start(deploy, failures=2)
    assert engine.run_due_jobs() == 1  # attempt 1 fails: due again in 5 minutes
    assert gateway.calls == 1
    case = engine.instance(case_id)
    assert case.incidents == () and case.active == ("sms",)
    assert engine.run_due_jobs() == 0  # not due yet
    engine.clock.advance(minutes=5)
    assert engine.run_due_jobs() == 1  # attempt 2 fails
    engine.clock.advance(minutes=5)
    assert engine.run_due_jobs() == 1  # attempt 3 succeeds
    assert engine.instance(case_id).state is InstanceState.COMPLETED
    failed = [e.detail for e in engine.history(case_id) if e.kind is HistoryKind.JOB_FAILED]
    assert failed == [
        "attempt 1 of 3 failed: ConnectionError: gateway down",
        "attempt 2 of 3 failed: ConnectionError: gateway down",
    ]
    # Failed attempts were undone: no incident events, and the element shows as entered once,
    # by the attempt that succeeded.
    assert kinds(engine, case_id, HistoryKind.INCIDENT_RAISED) == []
    assert kinds(engine, case_id, HistoryKind.ELEMENT_STARTED).count("sms") == 1


def test_when_attempts_run_out_an_incident_waits_for_an_operator(
    deploy: Callable[..., Engine],
) -> None:
    engine, case_id, gateway = _start(deploy, failures=5)
    for _ in range(3):
        engine.run_due_jobs()
        engine.clock.advance(minutes=5)
    case = engine.instance(case_id)
    assert gateway.calls == 3
    assert [i.kind for i in case.incidents] == ["service"]
    assert engine.run_due_jobs() == 0  # nothing more is scheduled
    gateway.failures = 0
    assert engine.retry(case_id).state is InstanceState.COMPLETED


def test_an_unbounded_or_malformed_retry_cycle_is_refused_at_deployment(engine: Engine) -> None:
    import pytest

    from liucheng import BpmnValidationError

    template = (MODELS / "test_async_jobs.bpmn").read_text(encoding="utf-8")
    for cycle in ("R/PT5M", "every five minutes"):
        with pytest.raises(BpmnValidationError, match="failedJobRetryTimeCycle"):
            engine.deploy(template.replace("R3/PT5M", cycle).encode())
    assert engine.processes() == []


def test_async_after_commits_the_element_and_a_job_takes_the_flows(engine: Engine) -> None:
    engine.deploy(MODELS / "test_async_after.bpmn")
    case = engine.start("after")
    (task,) = engine.tasks(instance=case.id)
    waiting = engine.complete(task.id, {"level": 2})
    # The approval is done and saved; the case waits for the job before it moves on.
    assert waiting.state is InstanceState.ACTIVE and engine.tasks(instance=case.id) == []
    assert kinds(engine, case.id, HistoryKind.JOB_CREATED) == ["approve"]
    assert engine.path(case.id) == ["start"]
    # The job takes the flows; the end event is async after too, so a second job (due at
    # once, run in the same sweep) ends the case.
    assert engine.run_due_jobs() == 2
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "approve", "route", "issued"]
    assert kinds(engine, case.id, HistoryKind.JOB_CREATED) == ["approve", "issued"]


def test_a_failing_async_after_job_is_retried_then_an_incident(engine: Engine) -> None:
    engine.deploy(MODELS / "test_async_after.bpmn")
    case = engine.start("after")
    (task,) = engine.tasks(instance=case.id)
    engine.complete(task.id, {"level": "high"})  # no flow condition holds for text
    assert engine.run_due_jobs() == 1  # attempt 1 of 2 fails: undone, due in 10 minutes
    case_now = engine.instance(case.id)
    assert case_now.incidents == () and case_now.active == ("approve",)
    engine.clock.advance(minutes=10)
    assert engine.run_due_jobs() == 1  # attempt 2 fails: an incident for an operator
    (incident,) = engine.instance(case.id).incidents
    assert (incident.node, incident.kind) == ("approve", "no_matching_flow")
    failed = [e.detail for e in engine.history(case.id) if e.kind is HistoryKind.JOB_FAILED]
    assert len(failed) == 1 and failed[0].startswith("attempt 1 of 2 failed")
    engine.set_variables(case.id, {"level": 0})
    # The retry leaves the element again, so once more a job takes the flows.
    fixed = engine.retry(case.id)
    assert fixed.state is InstanceState.ACTIVE and fixed.incidents == ()
    assert engine.run_due_jobs() == 1
    assert engine.instance(case.id).state is InstanceState.COMPLETED
    assert engine.path(case.id)[-1] == "refused"
