"""Repeating timers count from when they were armed, so a monthly cycle keeps its day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from liucheng import Clock, Engine, HistoryKind

from .conftest import MODELS, roundtrip

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_monthly_cycle_armed_on_the_31st_fires_on_each_month_end() -> None:
    engine = Engine(clock=Clock.frozen(datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI)))
    engine.deploy(MODELS / "test_monthly_cycle_keeps_its_day.bpmn")
    case = engine.start("monthly")
    fired_at = []
    for _ in range(4):
        due = engine.next_due()
        if due is None:
            break
        fired_at.append(due.astimezone(SHANGHAI).date().isoformat())
        engine.clock.set(due)
        assert engine.run_due_jobs() == 1
        roundtrip(engine, case.id)  # the armed time survives a dump and load
    assert fired_at == ["2026-02-28", "2026-03-31", "2026-04-30"]
    assert [e.element for e in engine.history(case.id) if e.kind is HistoryKind.TIMER_FIRED] == [
        "remind"
    ] * 3
    assert engine.path(case.id).count("reminded") == 3
    assert [t.node for t in engine.tasks(instance=case.id)] == ["renew"]
