"""The durable benchmark's two scale cases, on a SQLite file.

**Timers due at once.**  ``n`` cases (100,000 in the full run) each wait on a one-hour timer
(``models/timer_wait.bpmn``), all started at the same frozen instant, so all fall due together.
How the cases get into the database is not what is measured: one case is started through the
engine, and its rows (``instances``, ``subscriptions``, ``history``) are then copied ``n - 1``
times in a few large inserts, with the case id replaced — the rows the engine itself would have
written for each case.  The clock then moves one hour on and ``Engine.run_due_jobs()`` is timed
until it returns; every case must have fired exactly once and be completed, and no timer may be
left.  The issue's target: 100,000 timers within 60 s.

**Task search by a variable's value.**  ``Engine.tasks`` has no variable filter yet, so this
measures the SQL a store would run for one: open tasks joined to the ``variables`` rows of
their case (process scope), by a variable's name and its text or number value, oldest first, the
first page of 50.  The tables are filled directly with bulk inserts through ``sqlite3``, not
through the engine (a million engine starts would take hours and measure nothing of the
search): ``n`` cases, each with one open task (``security_review``) and three process
variables — ``plate`` (text, unique), ``deposit`` (a number, one value in 1,000) and
``applicant_type`` (text, one value in 3).  Instance rows are minimal (``data`` is ``{}``, the
search never reads it) and tasks have no candidate rows.  The schema's secondary indexes are
dropped for the load and created again afterwards (the same definitions, from
``liucheng.runtime.schema``), the usual way to bulk-load.  No ``ANALYZE`` is run, as the runtime
runs none.  Each kind of lookup is timed ``lookups`` times with random values (p50, p99); the
issue's target is p99 < 100 ms with 1,000,000 tasks.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.sql import Select

from bench.measure import BenchmarkFailed, percentile
from bench.workloads import MODELS
from liucheng import Engine
from liucheng.engine.clock import Clock
from liucheng.engine.codec import dumps as encode_value
from liucheng.engine.state import InstanceState
from liucheng.runtime import SqlStore, schema

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
    setting: str  # the schema's indexes, or with the suggested index; and the query's form
    tasks: int
    latencies: list[float]
    plan: list[str]  # SQLite's EXPLAIN QUERY PLAN lines

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def _value(kind: SearchKind, i: int) -> Any:
    if kind.key == "plate":
        return f"沪A·{i:07d}"
    if kind.key == "deposit":
        return i % 1000
    return APPLICANT_TYPES[i % 3]


def search_query(kind: SearchKind, value: Any, form: str = "join") -> Select[Any]:
    """Open tasks whose case's process-scope variable ``kind.variable`` equals ``value``,
    oldest first, one page: the statement a ``TaskQuery`` variable filter would add.

    ``form="join"`` joins ``variables`` (the planner starts from the variable's index);
    ``form="exists"`` filters tasks with a correlated ``EXISTS`` on the variable's primary key
    (with an index in page order, the planner can walk tasks oldest first and stop at a page).
    """
    t, v = schema.tasks, schema.variables
    column = v.c[kind.column]
    wanted = Decimal(value) if kind.column == "number_value" else value
    matches = and_(
        v.c.instance_id == t.c.instance_id,
        v.c.scope == 0,
        v.c.name == kind.variable,
        column == wanted,
    )
    query = select(t.c.id, t.c.instance_id, t.c.node, t.c.created)
    query = query.where(exists().where(matches)) if form == "exists" else query.join(v, matches)
    return query.order_by(t.c.created, t.c.id).limit(PAGE)


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


def task_search(
    url: str, n: int, lookups: int, *, form: str = "join", seed: int = 1
) -> list[SearchResult]:
    """Time ``lookups`` random lookups of each kind on a database made by ``build_tasks``."""
    rng = random.Random(seed)
    setting = form
    store = SqlStore(url)
    results = []
    try:
        with store.engine.connect() as conn:
            for kind in SEARCHES:
                first = form if form != "adaptive" else _adaptive_form(conn, kind, _value(kind, 0))
                plan = _plan(conn, search_query(kind, _value(kind, 0), first))
                latencies = []
                for _ in range(lookups):
                    i = rng.randrange(n)
                    value = _value(kind, i)
                    started = time.perf_counter()
                    chosen = form if form != "adaptive" else _adaptive_form(conn, kind, value)
                    rows = conn.execute(search_query(kind, value, chosen)).all()
                    latencies.append(time.perf_counter() - started)
                    _check_found(kind, i, n, rows)
                results.append(SearchResult(kind, setting, n, latencies, plan))
            conn.rollback()
    finally:
        store.close()
    return results


def add_suggested_index(url: str) -> None:
    """What the results suggest for the low-selectivity search: an index that gives tasks in
    page order (``tasks (created, id)``), and ``ANALYZE`` so the planner knows that one
    variable value can match a third of all cases.  Not in the schema: measured here only."""
    store = SqlStore(url)
    try:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("CREATE INDEX bench_tasks_created ON tasks (created, id)")
            conn.exec_driver_sql("ANALYZE")
    finally:
        store.close()


ADAPTIVE_LIMIT = 2_000


def _adaptive_form(conn: Any, kind: SearchKind, value: Any) -> str:
    """Count the matching variable rows, up to ``ADAPTIVE_LIMIT``, on the variable's own index
    (cheap): few matches, join from them; many, walk tasks in page order with ``EXISTS``."""
    v = schema.variables
    column = v.c[kind.column]
    wanted = Decimal(value) if kind.column == "number_value" else value
    probe = (
        select(v.c.instance_id)
        .where(v.c.name == kind.variable, column == wanted)
        .limit(ADAPTIVE_LIMIT)
        .subquery()
    )
    many = conn.scalar(select(func.count()).select_from(probe)) >= ADAPTIVE_LIMIT
    return "exists" if many else "join"


def _plan(conn: Any, query: Select[Any]) -> list[str]:
    """SQLite's ``EXPLAIN QUERY PLAN`` for ``query``: which indexes it uses."""
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.params
    args = tuple(
        str(params[name]) if isinstance(params[name], Decimal) else params[name]
        for name in compiled.positiontup or ()
    )
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", args)
    return [str(row[-1]) for row in rows]


def _check_found(kind: SearchKind, i: int, n: int, rows: Sequence[Any]) -> None:
    """The page holds the right tasks: the one case for a plate, else the oldest matches."""
    if kind.key == "plate":
        expected = [f"c{i:09d}"]
    else:
        modulus = 1000 if kind.key == "deposit" else 3
        expected = [f"c{j:09d}" for j in range(i % modulus, n, modulus)][:PAGE]
    found = [row.instance_id for row in rows]
    if found != expected:
        raise BenchmarkFailed(f"task search by {kind.variable}: wrong tasks for case {i}")
