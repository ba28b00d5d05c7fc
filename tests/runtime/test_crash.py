"""Workers killed with SIGKILL at random moments leave every case whole.

Two worker processes (``crash_worker.py``) work ``crash_line`` cases on one database — start,
complete task A, the service task, fire the ``P0D`` timer, complete task B — as fast as they
can, and the test kills both with SIGKILL at random moments, ``ROUNDS`` times, on a SQLite file
and on PostgreSQL.  A kill lands in the middle of transactions, and between a worker's commit
and its next step.  Afterwards every case must be exactly what some sequence of whole steps
produces (``check_case``), and a fresh engine must be able to take every case to its end: a
step that was cut off left nothing behind, neither a half-written case nor a claimed job that
nobody finishes.

``crash_line``: start → task_a → stamp (service) → wait (timer, P0D) → task_b → end.  Each
whole step is one save, so a case's revision counts its steps, and its history holds each
step's events once.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from liucheng import Engine
from liucheng.engine.serialize import instance_from_json
from liucheng.engine.state import HistoryKind, InstanceState
from liucheng.runtime import SqlStore, history_rows, schema

from .crash_worker import stamp

HERE = Path(__file__).parent
WORKER = HERE / "crash_worker.py"
MODEL = HERE / "models" / "crash_line.bpmn"
ROUNDS = 5
WORKERS = 2

# Where a case waits, and how many steps (saves) took it there.
STEPS_TO = {"task_a": 0, "wait": 1, "task_b": 2, None: 3}
PATH = ["start", "task_a", "stamp", "wait", "task_b", "end"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    store: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return store.engine.url.render_as_string(hide_password=False)


def start_worker(url: str, seed: int, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as err:
        return subprocess.Popen(
            [sys.executable, str(WORKER), url, str(seed)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def wait_ready(worker: subprocess.Popen[str], log: Path) -> None:
    assert worker.stdout is not None
    if worker.stdout.readline().strip() != "ready":
        worker.wait(timeout=10)
        pytest.fail(f"a worker did not start:\n{log.read_text()}")


def kill(worker: subprocess.Popen[str], log: Path) -> None:
    if worker.poll() is not None:  # it stopped by itself: an error the worker did not expect
        pytest.fail(f"worker exited with {worker.returncode} before the kill:\n{log.read_text()}")
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    assert worker.stdout is not None
    worker.stdout.close()


def test_killed_workers_leave_every_case_whole(database_url: str, tmp_path: Path) -> None:
    rng = random.Random()
    deployer = Engine(store=SqlStore(database_url))
    deployer.deploy(MODEL)
    deployer.store.close()  # type: ignore[attr-defined]

    for round_ in range(ROUNDS):
        logs = [tmp_path / f"worker-{round_}-{i}.log" for i in range(WORKERS)]
        workers = [start_worker(database_url, round_ * WORKERS + i, logs[i]) for i in range(2)]
        for worker, log in zip(workers, logs, strict=True):
            wait_ready(worker, log)
        time.sleep(rng.uniform(0.05, 0.5))
        for worker, log in zip(workers, logs, strict=True):
            kill(worker, log)
            time.sleep(rng.uniform(0, 0.05))

    db = sa.create_engine(database_url)
    try:
        found = check_database(db)
    finally:
        db.dispose()
    assert found["cases"] > 0
    assert found["task_a"] + found["wait"] + found["task_b"] + found[None] == found["cases"]

    finish_every_case(database_url)


# -- what the database holds after the kills ------------------------------------------------------
def check_database(db: sa.Engine) -> Counter[Any]:
    """Check every case row and the rows derived from it; count the cases by where they wait."""
    with db.connect() as conn:
        cases = conn.execute(sa.select(schema.instances)).all()
        tasks = rows_by_case(conn, schema.tasks, "id", "node", "token")
        subs = rows_by_case(conn, schema.subscriptions, "sub_id", "kind", "due")
        variables = rows_by_case(conn, schema.variables, "name")
        history = events_by_case(conn)
    ids = {row.id for row in cases}
    for index in (tasks, subs, variables, history):
        assert set(index) <= ids, "rows of a case that does not exist"
    found: Counter[Any] = Counter(cases=len(cases))
    for row in cases:
        where = check_case(
            row, tasks.get(row.id, []), subs.get(row.id, []), variables.get(row.id, [])
        )
        check_history(row, history.get(row.id, []))
        found[where] += 1
    return found


def rows_by_case(conn: sa.Connection, table: sa.Table, *columns: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    query = sa.select(table.c.instance_id, *(table.c[name] for name in columns))
    if table is schema.tasks:
        query = query.order_by(table.c.instance_id, table.c[columns[0]])
    for instance_id, *values in conn.execute(query):
        found.setdefault(instance_id, []).append(tuple(values))
    return found


def events_by_case(conn: sa.Connection) -> dict[str, list[Any]]:
    """Each case's stored events (unpacked from its step rows) as (seq, kind, element, detail)."""
    found: dict[str, list[Any]] = {}
    h = schema.history
    query = sa.select(h.c.instance_id, h.c.first_seq, h.c.last_seq, h.c.time, h.c.events)
    for instance_id, first, last, at, events in conn.execute(
        query.order_by(h.c.instance_id, h.c.first_seq)
    ):
        found.setdefault(instance_id, []).extend(
            (seq, kind, element, detail)
            for seq, _, kind, element, _, _, detail in history_rows.unpack(
                instance_id, first, last, at, events
            )
        )
    return found


def check_case(row: Any, tasks: list[Any], subs: list[Any], variables: list[Any]) -> str | None:
    """The case's JSON loads, agrees with its index rows, and stands at a wait state of
    ``crash_line`` with the revision and variables of the whole steps that took it there."""
    inst = instance_from_json(row.data)
    assert inst.id == row.id and inst.state.value == row.state
    assert sorted(tasks) == sorted((t.id, t.node, t.token) for t in inst.tasks.values())
    assert sorted(subs) == sorted((s.id, s.kind.value, s.due) for s in inst.subscriptions.values())
    # variable rows only while the case has an open task (migration 0008)
    assert sorted(name for (name,) in variables) == (sorted(inst.variables) if inst.tasks else [])
    values = inst.variables
    if inst.state is InstanceState.COMPLETED:
        assert not inst.tokens and not inst.tasks and not inst.subscriptions
        assert inst.ended is not None
        assert values["stamped"] == values["a"] + 1 and "b" in values
        where = None
    else:
        assert inst.state is InstanceState.ACTIVE, row.id
        (token,) = inst.tokens.values()
        where = token.node
        if where in ("task_a", "task_b"):
            (task,) = inst.tasks.values()
            assert (task.node, task.token) == (where, token.id) and not inst.subscriptions
        else:
            assert where == "wait", row.id
            (sub,) = inst.subscriptions.values()
            assert sub.kind.value == "timer" and sub.token == token.id and not inst.tasks
        expected = {"task_a": {"n", "worker"}, "wait": {"n", "worker", "a", "stamped"}}
        assert set(values) == expected.get(where, {"n", "worker", "a", "stamped"}), row.id
        if "a" in values:
            assert values["stamped"] == values["a"] + 1
    assert row.rev == STEPS_TO[where], (row.id, where, row.rev)
    return where


def check_history(row: Any, events: list[Any]) -> None:
    """History rows numbered 1..n with n the case's ``history_base``; each step's events once."""
    assert [seq for seq, *_ in events] == list(range(1, len(events) + 1)), row.id
    assert json.loads(row.data)["history_base"] == len(events), row.id
    kinds = Counter(kind for _, kind, _, _ in events)
    started = Counter(element for _, kind, element, _ in events if kind == "element_started")
    completed = [detail for _, kind, _, detail in events if kind == "task_completed"]
    assert kinds[HistoryKind.INSTANCE_STARTED] == 1
    assert max(started.values()) == 1, (row.id, started)
    assert len(completed) == len(set(completed)) <= 2
    assert kinds[HistoryKind.TIMER_FIRED] <= 1
    assert kinds[HistoryKind.INSTANCE_COMPLETED] == (row.state == "completed")
    assert row.rev == len(completed) + kinds[HistoryKind.TIMER_FIRED], row.id


# -- nothing is stuck ----------------------------------------------------------------------------
def finish_every_case(url: str) -> None:
    """A fresh engine takes every case to its end, each along the whole path once."""
    store = SqlStore(url)
    try:
        engine = Engine(store=store)
        engine.register_service("stamp", stamp)
        for _ in range(4):  # at most: task A, timer, task B, and a look that finds nothing
            engine.run_due_jobs()
            for task in engine.tasks(process="crash_line"):
                engine.complete(task.id, {"a" if task.node == "task_a" else "b": 0})
        cases = engine.instances(process="crash_line")
        assert cases and all(case.state is InstanceState.COMPLETED for case in cases)
        for case in cases:
            assert engine.path(case.id) == PATH, case.id
    finally:
        store.close()
