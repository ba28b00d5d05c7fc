"""``Engine.jobs``: the timers and jobs waiting to fall due, earliest first, with what each does.

One engine holds a case at an asynchronous service call whose gateway is down, a case whose
user task has an hourly reminder, a case parked after a completed task, and a timer start
event; the list must name each with its due time, element, kind and attempts, on every store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from liucheng import Engine, Job, JobKind, LiuchengError

from .conftest import START


def _down(variables: dict[str, Any]) -> dict[str, Any]:
    raise ConnectionError("gateway down")


def _cases(deploy: Callable[..., Engine]) -> tuple[Engine, str, str, str]:
    engine = deploy("test_async_jobs")
    for name in ("test_boundary_timer_cycle_non_interrupting", "test_async_after"):
        deploy(name)
    engine.register_service("sms", _down)
    sms = engine.start("send_sms").id
    reminders = engine.start("reminders", {"reminders": 0}).id
    after = engine.start("after").id
    engine.complete(engine.tasks(instance=after)[0].id, {"level": 2})
    return engine, sms, reminders, after


def test_every_waiting_timer_and_job_is_listed_earliest_first(
    deploy: Callable[..., Engine],
) -> None:
    engine, sms, reminders, after = _cases(deploy)
    deploy("test_timer_start_cycle")
    assert engine.jobs() == [
        Job(START, JobKind.JOB, "send_sms", "sms", sms, attempts=3),
        Job(START, JobKind.JOB, "after", "approve", after, after=True, attempts=2),
        Job(START + timedelta(hours=1), JobKind.TIMER, "reminders", "hourly", reminders, "R2/PT1H"),
        Job(START + timedelta(hours=1), JobKind.START_TIMER, "hourly_check", "every_hour", None,
            "R3/PT1H"),
    ]  # fmt: skip
    assert engine.jobs(limit=2) == engine.jobs()[:2]


def test_a_failed_call_is_listed_with_its_attempts_until_an_incident_replaces_it(
    deploy: Callable[..., Engine],
) -> None:
    engine, sms, _, after = _cases(deploy)
    # The SMS fails its first attempt; ``after`` goes on, and leaves its end event by a job.
    assert engine.run_due_jobs() == 3
    retry = Job(START + timedelta(minutes=5), JobKind.JOB, "send_sms", "sms", sms)
    assert engine.jobs()[0] == retry._replace(failed=1, attempts=3)
    assert engine.instance(after).is_ended
    for failed in (2, 3):
        engine.clock.advance(minutes=5)
        assert engine.run_due_jobs() == 1
        if failed < 3:
            assert engine.jobs()[0].failed == failed
    assert [job.element for job in engine.jobs()] == ["hourly"]  # the incident holds the SMS
    assert [incident.node for _, incident in engine.incidents(sms)] == ["sms"]


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(deploy: Callable[..., Engine], limit: int) -> None:
    engine, *_ = _cases(deploy)
    with pytest.raises(LiuchengError, match="limit must be at least 1"):
        engine.jobs(limit=limit)


@pytest.mark.parametrize("lock_for", [timedelta(0), timedelta(seconds=-5), 300])
def test_a_claim_that_cannot_last_is_refused_and_nothing_runs(
    deploy: Callable[..., Engine], lock_for: Any
) -> None:
    engine, sms, *_ = _cases(deploy)
    before = engine.jobs()
    with pytest.raises(LiuchengError, match="lock_for must be a positive timedelta"):
        engine.run_due_jobs(lock_for=lock_for)
    assert engine.jobs() == before and before[0].instance_id == sms
