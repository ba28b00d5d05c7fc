"""``Engine.run_due_jobs`` fires many timers in one transaction, each in a savepoint.

A timer that fails is undone alone: the timers fired before it in its batch are committed,
then its error is raised (as when every timer had a transaction of its own); a timer that loses
a race (``ConflictError``) counts nothing and the others fire.  Each test runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine
from liucheng.engine.state import Instance
from liucheng.errors import ConflictError
from liucheng.runtime import SqlStore

MODEL = Path(__file__).parent / "models" / "race_timer.bpmn"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def cases_waiting(store: SqlStore, count: int) -> tuple[Engine, list[str]]:
    engine = Engine(store=store, clock=Clock.frozen(START))
    engine.deploy(MODEL)
    ids = []
    for _ in range(count):
        ids.append(engine.start("race_timer").id)
        engine.clock.advance(minutes=1)  # due one after the other, in this order
    engine.clock.advance(hours=2)
    return engine, ids


def failing_for(
    store: SqlStore, case_id: str, error: Exception, saved: list[str] | None = None
) -> Callable[[Instance], None]:
    """``store.save`` that writes, then fails once for ``case_id`` (undone by the savepoint)."""
    real = store.save
    failed: list[bool] = []

    def save(inst: Instance) -> None:
        real(inst)
        if saved is not None:
            saved.append(inst.id)
        if inst.id == case_id and not failed:
            failed.append(True)
            raise error

    return save


def where(engine: Engine, ids: list[str]) -> list[tuple[str, ...]]:
    return [engine.instance(case_id).active for case_id in ids]


def test_a_failing_timer_is_undone_alone_and_its_error_raised(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, ids = cases_waiting(sql_store, 4)
    monkeypatch.setattr(sql_store, "save", failing_for(sql_store, ids[2], RuntimeError("boom")))

    with pytest.raises(RuntimeError, match="boom"):
        engine.run_due_jobs()

    assert where(engine, ids) == [("after",), ("after",), ("wait",), ("wait",)]
    assert [sql_store.load(case_id).rev for case_id in ids] == [1, 1, 0, 0]  # type: ignore[union-attr]
    monkeypatch.undo()
    assert engine.run_due_jobs() == 2
    assert where(engine, ids) == [("after",)] * 4


def test_a_timer_that_loses_a_race_does_not_stop_the_others(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost timer is undone and the others fire; it is still due, and fires on the next
    pass (in a real race it is gone: the winner fired it)."""
    engine, ids = cases_waiting(sql_store, 4)
    saved: list[str] = []
    lost = ConflictError("someone else was first")
    monkeypatch.setattr(sql_store, "save", failing_for(sql_store, ids[1], lost, saved))

    assert engine.run_due_jobs() == 4

    assert saved == [ids[0], ids[1], ids[2], ids[3], ids[1]]
    assert where(engine, ids) == [("after",)] * 4
    assert [sql_store.load(case_id).rev for case_id in ids] == [1, 1, 1, 1]  # type: ignore[union-attr]


def test_timers_fire_in_batches(sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """More timers than a batch: one transaction (one commit) per batch."""
    import liucheng.api

    monkeypatch.setattr(liucheng.api, "TIMER_BATCH", 3)
    engine, ids = cases_waiting(sql_store, 7)
    commits: list[Any] = []
    sql_store.trace = lambda kind, sql: commits.append(sql) if sql == "COMMIT" else None

    assert engine.run_due_jobs() == 7

    assert len(commits) == 3  # 3 + 3 + 1
    assert where(engine, ids) == [("after",)] * 7
    assert engine.clock.now() - START > timedelta(hours=2)
