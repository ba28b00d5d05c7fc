"""A case's ``variables`` rows exist exactly while it has open user tasks (migration 0008).

``models/variable_rows.bpmn``: start → task_a → wait (timer, PT1H) → task_b → end.  The case
has a task, then none (waiting for the timer), then one again, then ends; after each step the
rows must be every process variable with its typed value, or none at all, and finding tasks
by a variable must give what the memory store gives.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from liucheng import Clock, Engine, InstanceState
from liucheng.runtime import SqlStore, schema

MODEL = Path(__file__).parent / "models" / "variable_rows.bpmn"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def variable_rows(store: SqlStore, case_id: str) -> dict[str, tuple[Any, ...]]:
    v = schema.variables
    query = sa.select(v.c.name, v.c.text_value, v.c.number_value, v.c.bool_value).where(
        v.c.instance_id == case_id
    )
    with store.engine.connect() as conn:
        return {name: tuple(rest) for name, *rest in conn.execute(query)}


def engine_on(store: SqlStore) -> Engine:
    engine = Engine(store=store, clock=Clock.frozen(START))
    engine.deploy(MODEL)
    return engine


def test_variable_rows_come_and_go_with_the_open_tasks(sql_store: SqlStore) -> None:
    engine = engine_on(sql_store)
    case = engine.start("variable_rows", {"plate": "沪A·00001", "deposit": Decimal("50.00")})
    other = engine.start("variable_rows", {"plate": "沪A·00002", "deposit": Decimal("0")})
    [task_a] = engine.tasks(instance=case.id)

    assert variable_rows(sql_store, case.id) == {
        "plate": ("沪A·00001", None, None),
        "deposit": (None, Decimal("50.00"), None),
    }
    assert engine.tasks(variables={"plate": "沪A·00001"}) == [task_a]

    engine.complete(task_a.id, {"tier": "gold"})  # now it waits for the timer: no task
    assert variable_rows(sql_store, case.id) == {}
    engine.set_variables(case.id, {"note": "while waiting"})
    assert variable_rows(sql_store, case.id) == {}
    assert engine.tasks(variables={"plate": "沪A·00001"}) == []
    assert set(variable_rows(sql_store, other.id)) == {"plate", "deposit"}  # untouched

    engine.clock.advance(hours=1)
    assert engine.run_due_jobs() == 1  # task_b: every variable is findable again
    [task_b] = engine.tasks(instance=case.id)
    assert variable_rows(sql_store, case.id) == {
        "plate": ("沪A·00001", None, None),
        "deposit": (None, Decimal("50.00"), None),
        "tier": ("gold", None, None),
        "note": ("while waiting", None, None),
    }
    assert engine.tasks(variables={"tier": "gold", "deposit": Decimal("50.00")}) == [task_b]

    ended = engine.complete(task_b.id, {"done": True})
    assert ended.state is InstanceState.COMPLETED
    assert variable_rows(sql_store, case.id) == {}
    assert engine.tasks(variables={"tier": "gold"}) == []
    kinds = [(e.kind.value, e.element) for e in engine.history(case.id)]
    assert [element for kind, element in kinds if kind == "element_completed"] == [
        "start",
        "task_a",
        "wait",
        "task_b",
        "end",
    ]
    assert engine.instance(case.id).variables == {
        "plate": "沪A·00001",
        "deposit": Decimal("50.00"),
        "tier": "gold",
        "note": "while waiting",
        "done": True,
    }


def test_a_restored_case_has_rows_only_with_open_tasks(sql_store: SqlStore) -> None:
    """``Engine.load`` of a dump: inserted (no snapshot of its rows) or written over a stored
    case; either way the rows follow the restored case's tasks."""
    engine = engine_on(sql_store)
    case = engine.start("variable_rows", {"plate": "沪A·00003"})
    with_task = engine.dump(case.id)
    [task_a] = engine.tasks(instance=case.id)
    engine.complete(task_a.id, {"tier": "silver"})
    waiting = engine.dump(case.id)

    engine.load(with_task)  # over the stored (waiting) case: its task is back
    assert set(variable_rows(sql_store, case.id)) == {"plate"}
    assert engine.tasks(variables={"plate": "沪A·00003"}) == [task_a]
    engine.load(waiting)
    assert variable_rows(sql_store, case.id) == {}

    elsewhere = SqlStore(sql_store.engine)  # a store that never loaded the case
    try:
        again = engine_on(elsewhere)
        again.load(with_task)
        assert set(variable_rows(sql_store, case.id)) == {"plate"}
        with sql_store.engine.begin() as conn:  # gone entirely: restored by an insert
            conn.execute(sa.delete(schema.instances).where(schema.instances.c.id == case.id))
        again.load(waiting)
        assert variable_rows(sql_store, case.id) == {}
        again.load(with_task)  # over a case stored without rows
        assert set(variable_rows(sql_store, case.id)) == {"plate"}
    finally:
        elsewhere.close()
