"""The durable benchmark's two scale cases, on a SQLite file.

**Timers due at once.**  ``n`` cases (100,000 in the full run) each wait on a one-hour timer
(``models/timer_wait.bpmn``), all started at the same frozen instant, so all fall due together.
How the cases get into the database is not what is measured: one case is started through the
engine, and its rows (``instances``, ``subscriptions``, ``history``) are then copied ``n - 1``
times in a few large inserts, with the case id replaced — the rows the engine itself would have
written for each case.  The clock then moves one hour on and ``Engine.run_due_jobs()`` is timed
until it returns; every case must have fired exactly once and be completed, and no timer may be
left.  The issue's target: 100,000 timers within 60 s.

**Task search by a variable's value.**  What an inbox filtered by a case variable runs:
``SqlStore.tasks(TaskQuery(variables=((name, value),), limit=50))`` — open tasks of cases
whose process variable equals the value, oldest first, the first page of 50 — through the
store's own plan choice (see "Finding tasks by a variable's value" in ``sql_store``).  The
tables are filled directly with bulk inserts through ``sqlite3``, not through the engine (a
million engine starts would take hours and measure nothing of the search): ``n`` cases, each
with one open task (``security_review``) and three process variables — ``plate`` (text,
unique), ``deposit`` (a number, one value in 1,000) and ``applicant_type`` (text, one value in
3).  Instance rows are minimal (``data`` is ``{}``, the search never reads it) and tasks have
no candidate rows.  The schema's secondary indexes are dropped for the load and created again
afterwards (the same definitions, from ``liucheng.runtime.schema``), the usual way to
bulk-load.  No ``ANALYZE`` is run, as the runtime runs none.  Each kind of lookup is timed
``lookups`` times with random values (p50, p99); the issue's target is p99 < 100 ms with
1,000,000 tasks.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench.measure import BenchmarkFailed, percentile
from bench.workloads import MODELS
from liucheng import Engine
from liucheng.engine.clock import Clock
from liucheng.engine.codec import dumps as encode_value
from liucheng.engine.state import InstanceState
from liucheng.runtime import SqlStore, schema
from liucheng.store import TaskQuery

TIMER_START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLONE_BATCH = 10_000
PAGE = 50


# == 1. many timers due at once ==================================================================
@dataclass(frozen=True, slots=True)
class TimerResult:
    timers: int
    seconds: float  # run_due_jobs() until it returned
    setup_seconds: float  # building the cases (not the measured part)

    @property
    def per_second(self) -> float:
        return self.timers / self.seconds


def due_timers(url: str, n: int) -> TimerResult:
    """``n`` cases waiting on timers due at one instant; time ``run_due_jobs`` firing them all."""
    clock = Clock.frozen(TIMER_START)
    store = SqlStore(url, migrate=True)
    try:
        engine = Engine(store=store, clock=clock)
        engine.deploy(MODELS / "timer_wait.bpmn")
        setup_started = time.perf_counter()
        template = engine.start("timer_wait")
        _clone_case(store, template.id, n - 1)
        setup_seconds = time.perf_counter() - setup_started
        clock.advance(hours=1)
        started = time.perf_counter()
        fired = engine.run_due_jobs()
        seconds = time.perf_counter() - started
        with store.engine.connect() as conn:
            completed = conn.scalar(
                select(func.count()).where(
                    schema.instances.c.state == InstanceState.COMPLETED.value
                )
            )
            waiting = conn.scalar(select(func.count()).select_from(schema.subscriptions))
    finally:
        store.close()
    if fired != n or completed != n or waiting != 0:
        raise BenchmarkFailed(
            f"timers: {fired} of {n} fired, {completed} cases completed, {waiting} still waiting"
        )
    return TimerResult(n, seconds, setup_seconds)


def _clone_case(store: SqlStore, case_id: str, copies: int) -> None:
    """Copy one stored case's rows ``copies`` times under new ids (bulk inserts)."""
    tables = (schema.instances, schema.subscriptions, schema.variables, schema.history)
    with store.engine.begin() as conn:
        template: dict[Any, list[dict[str, Any]]] = {}
        for table in tables:
            key = table.c.id if table is schema.instances else table.c.instance_id
            found = conn.execute(select(table).where(key == case_id)).mappings()
            template[table] = [dict(row) for row in found]
        for first in range(0, copies, CLONE_BATCH):
            ids = [f"clone{k:019d}" for k in range(first, min(first + CLONE_BATCH, copies))]
            for table in tables:
                rows = [
                    {
                        column: value.replace(case_id, new) if isinstance(value, str) else value
                        for column, value in row.items()
                    }
                    for new in ids
                    for row in template[table]
                ]
                if rows:
                    conn.execute(insert(table), rows)


# == 2. task search by a variable's value ========================================================
@dataclass(frozen=True, slots=True)
class SearchKind:
    key: str
    title: str
    variable: str
    column: str  # "text_value" or "number_value"


SEARCHES = (
    SearchKind("plate", "text, unique value (plate = …)", "plate", "text_value"),
    SearchKind("deposit", "number, 1 case in 1,000 (deposit = …)", "deposit", "number_value"),
    SearchKind("type", "text, 1 case in 3 (applicant_type = …)", "applicant_type", "text_value"),
)
APPLICANT_TYPES = ("external", "employee", "guest")


@dataclass(frozen=True, slots=True)
class SearchResult:
    kind: SearchKind
    tasks: int
    latencies: list[float]
    plan: list[str]  # the database's plan for the first lookup (``SqlStore.explain_tasks``)

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def _value(kind: SearchKind, i: int) -> Any:
    if kind.key == "plate":
        return f"沪A·{i:07d}"
    if kind.key == "deposit":
        return i % 1000
    return APPLICANT_TYPES[i % 3]


def search_query(kind: SearchKind, value: Any) -> TaskQuery:
    """Open tasks whose case's process variable ``kind.variable`` equals ``value``, oldest
    first, one page."""
    return TaskQuery(variables=((kind.variable, value),), limit=PAGE)


def build_tasks(url: str, n: int) -> float:
    """Create the schema and bulk-load ``n`` cases with one open task each; seconds taken."""
    started = time.perf_counter()
    SqlStore(url, migrate=True).close()
    indexes = [i for table in (schema.tasks, schema.variables) for i in table.indexes]
    path = url.removeprefix("sqlite:///")
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA synchronous=OFF")
        for index in indexes:
            raw.execute(f'DROP INDEX "{index.name}"')
        raw.execute("BEGIN")
        base = datetime(2026, 3, 2, 1, 0)
        due = base + timedelta(days=3)
        for first in range(0, n, 50_000):
            numbers = range(first, min(first + 50_000, n))
            raw.executemany(
                "INSERT INTO instances (id, process_id, version, state, started, rev, data)"
                " VALUES (?, 'pass_application', 1, 'active', ?, 1, '{}')",
                [(f"c{i:09d}", _stamp(base, i)) for i in numbers],
            )
            raw.executemany(
                "INSERT INTO tasks (id, instance_id, token, position, node, name, form_key, due,"
                " priority, process_id, created) VALUES (?, ?, 1, 0, 'security_review',"
                " 'Security office reviews', 'review_form', ?, 50, 'pass_application', ?)",
                [(f"c{i:09d}.1", f"c{i:09d}", _stamp(due, i), _stamp(base, i)) for i in numbers],
            )
            raw.executemany(
                "INSERT INTO variables (instance_id, scope, name, text_value, number_value, json)"
                " VALUES (?, 0, ?, ?, ?, ?)",
                [row for i in numbers for row in _variable_rows(i)],
            )
        raw.execute("COMMIT")
    finally:
        raw.close()
    store = SqlStore(url)
    try:
        for index in indexes:
            index.create(store.engine)
    finally:
        store.close()
    return time.perf_counter() - started


def _stamp(base: datetime, i: int) -> str:
    """``UtcDateTime``'s text form on SQLite: one task a millisecond."""
    return (base + timedelta(milliseconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _variable_rows(i: int) -> list[tuple[Any, ...]]:
    cid = f"c{i:09d}"
    plate, deposit, kind = (_value(k, i) for k in SEARCHES)
    return [
        (cid, "plate", plate, None, encode_value(plate)),
        (cid, "deposit", None, deposit, encode_value(deposit)),
        (cid, "applicant_type", kind, None, encode_value(kind)),
    ]


def task_search(url: str, n: int, lookups: int, *, seed: int = 1) -> list[SearchResult]:
    """Time ``lookups`` random lookups of each kind on a database made by ``build_tasks``."""
    rng = random.Random(seed)
    store = SqlStore(url)
    results = []
    try:
        for kind in SEARCHES:
            plan = store.explain_tasks(search_query(kind, _value(kind, 0)))
            latencies = []
            for _ in range(lookups):
                i = rng.randrange(n)
                query = search_query(kind, _value(kind, i))
                started = time.perf_counter()
                found = store.tasks(query)
                latencies.append(time.perf_counter() - started)
                _check_found(kind, i, n, [task.instance_id for task in found])
            results.append(SearchResult(kind, n, latencies, plan))
    finally:
        store.close()
    return results


def _check_found(kind: SearchKind, i: int, n: int, found: Sequence[str]) -> None:
    """The page holds the right tasks: the one case for a plate, else the oldest matches."""
    if kind.key == "plate":
        expected = [f"c{i:09d}"]
    else:
        modulus = 1000 if kind.key == "deposit" else 3
        expected = [f"c{j:09d}" for j in range(i % modulus, n, modulus)][:PAGE]
    if list(found) != expected:
        raise BenchmarkFailed(f"task search by {kind.variable}: wrong tasks for case {i}")
