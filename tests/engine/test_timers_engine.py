"""Timers in running processes: timer start events and intermediate timer catch events.

The clock is frozen at ``conftest.START`` (Monday 2 March 2026, 09:00 in Shanghai) and only
moves when a test advances it; ``run_due_jobs`` fires what is due by then.  Boundary timers are
in ``test_boundary.py``; the ISO 8601 arithmetic itself in ``test_timers.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import START, kinds, roundtrip

SH = ZoneInfo("Asia/Shanghai")


def test_timer_start_date(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_timer_start_date")
    assert engine.next_due() == datetime(2026, 3, 2, 10, 0, tzinfo=SH)

    engine.clock.advance(minutes=59)
    assert engine.run_due_jobs() == 0
    assert engine.instances(process="daily_report") == []

    engine.clock.advance(minutes=1)
    assert engine.run_due_jobs() == 1

    (case,) = engine.instances(process="daily_report")
    assert case.state is InstanceState.ACTIVE
    assert case.started == START + timedelta(hours=1)
    assert case.active == ("write_report",)
    assert case.variables == {}
    assert engine.path(case.id) == ["at_ten"]
    assert kinds(engine, case.id, HistoryKind.INSTANCE_STARTED) == [None]

    # A date fires once: nothing is left to start.
    assert engine.next_due() is None
    engine.clock.advance(days=2)
    assert engine.run_due_jobs() == 0
    assert len(engine.instances(process="daily_report")) == 1


def test_timer_start_cycle(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_timer_start_cycle")
    started: list[datetime] = []

    for hour in range(1, 5):
        engine.clock.advance(minutes=30)
        assert engine.run_due_jobs() == 0
        engine.clock.advance(minutes=30)
        assert engine.run_due_jobs() == (1 if hour <= 3 else 0)
        started = sorted(c.started for c in engine.instances(process="hourly_check"))

    # R3: three cases, one an hour, then the cycle stops.
    assert started == [START + timedelta(hours=h) for h in (1, 2, 3)]
    assert engine.next_due() is None
    for case in engine.instances(process="hourly_check"):
        assert case.state is InstanceState.COMPLETED
        assert engine.path(case.id) == ["every_hour", "checked"]


def test_timer_start_cycle_catches_up_in_one_call(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_timer_start_cycle")

    engine.clock.advance(hours=10)

    assert engine.run_due_jobs() == 3
    assert len(engine.instances(process="hourly_check")) == 3
    assert engine.run_due_jobs() == 0


def test_intermediate_timer_duration(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_timer_duration")
    case = engine.start("cool_down")
    assert case.active == ("two_hours",)
    assert engine.next_due() == START + timedelta(hours=2)
    roundtrip(engine, case.id)

    engine.clock.advance(hours=1, minutes=59)
    assert engine.run_due_jobs() == 0
    assert engine.instance(case.id).active == ("two_hours",)
    roundtrip(engine, case.id)

    engine.clock.advance(minutes=1)
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "two_hours", "done"]
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["two_hours"]
    fired = next(e for e in engine.history(case.id) if e.kind is HistoryKind.TIMER_FIRED)
    assert fired.time == START + timedelta(hours=2)
    assert engine.next_due() is None


def test_intermediate_timer_date(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_timer_date")
    case = engine.start("until_thursday")
    # A date without an offset is wall-clock time in the organisation's zone.
    assert engine.next_due() == datetime(2026, 3, 5, 8, 30, tzinfo=SH)
    roundtrip(engine, case.id)

    engine.clock.set(datetime(2026, 3, 5, 8, 29, tzinfo=SH))
    assert engine.run_due_jobs() == 0
    engine.clock.set(datetime(2026, 3, 5, 8, 30, tzinfo=SH))
    assert engine.run_due_jobs() == 1

    assert engine.instance(case.id).state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "thursday_morning", "done"]
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["thursday_morning"]


def test_intermediate_timer_expression(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_timer_expression")
    short = engine.start("computed_wait", {"hours": 1})
    long = engine.start("computed_wait", {"hours": 5})
    roundtrip(engine, long.id)

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1
    assert engine.instance(short.id).state is InstanceState.COMPLETED
    assert engine.instance(long.id).active == ("wait_hours",)

    engine.clock.advance(hours=4)
    assert engine.run_due_jobs() == 1
    case = engine.instance(long.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"hours": 5}
    assert engine.path(long.id) == ["start", "wait_hours", "done"]


def test_intermediate_timer_bad_expression_raises_incident(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_intermediate_timer_expression")

    case = engine.start("computed_wait", {"hours": Decimal("-3")})

    assert case.state is InstanceState.ACTIVE
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["wait_hours"]
    assert [i.node for i in case.incidents] == ["wait_hours"]
    assert engine.next_due() is None

    engine.set_variables(case.id, {"hours": 2})
    case = engine.retry(case.id)
    assert case.incidents == ()
    assert engine.next_due() == START + timedelta(hours=2)
    engine.clock.advance(hours=2)
    assert engine.run_due_jobs() == 1
    assert engine.path(case.id) == ["start", "wait_hours", "done"]


def test_due_timers_fire_earliest_first(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_due_timers_fire_earliest_first")
    case = engine.start("two_timers")
    roundtrip(engine, case.id)

    engine.clock.advance(hours=4)
    assert engine.run_due_jobs() == 2

    assert engine.instance(case.id).state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["fast", "slow"]
    assert engine.path(case.id) == ["start", "fork", "fast", "fast_end", "slow", "slow_end"]
