"""The floor under the durable benchmark: the same rows, written by the bare database driver.

The issue sets the durable targets in cases per second on "this 2-core machine", and gives for
scale what the bare drivers reach there writing the same rows: sqlite3 about 4,700 cases/s,
psycopg about 200 with one connection and about 450 with four.  The virtual machines these
benchmarks run on differ from one session to the next (a commit's WAL flush has measured from
0.3 to 1.4 ms), so a figure in cases per second alone cannot say whether the code got faster or
the machine did.  This module measures that floor in the same run, so the P1 table can also say
what share of it Liucheng reaches:

1. **Record.**  One access-pass case of each kind (external, employee) runs through Liucheng on
   the benchmark's own database.  After each step (the start, each completion) the case's rows
   are read back with the driver — ``instances``, ``tasks``, ``task_candidates``, ``variables``,
   ``subscriptions``, ``history``, ``external_tasks`` — and compared with the rows before it.
   What was inserted, updated and deleted is that step's ``StepRows``.  A candidate row that
   goes with its task is left to ``ON DELETE CASCADE``, as Liucheng leaves it.
2. **Replay.**  A client replays a recording for each of its cases under a new case id of the
   same length (a task's id contains its case's id, so one text replacement renames both;
   done before the clock starts, as a plain program would have its rows ready).  Each step
   is one transaction on a kept cursor: before a completion, the case's open tasks are read
   (the Liucheng client asks for them too); then one plain statement per table and kind of
   change — ``executemany`` where a step writes several rows — and a commit.  No engine, no
   JSON encoding, no SQLAlchemy, no revision check: what is left is the database's own work for
   those rows and commits, and the driver's.

A replayed case must end with its ``instances`` row marked completed, exactly as many as were
replayed, or the run fails (``BenchmarkFailed``).  Clients are one client, and four processes
for PostgreSQL, where four clients are the target.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import make_url

from bench import durable
from bench.measure import BenchmarkFailed
from bench.workloads import PASS_TASK_INPUTS, pass_start_variables
from liucheng.engine.state import InstanceState
from liucheng.runtime import SqlStore, schema

# The tables that hold a case's rows, parents before children (inserts in this order, deletes
# in the reverse one).
CASE_TABLES = (
    "instances",
    "tasks",
    "task_candidates",
    "variables",
    "subscriptions",
    "history",
    "external_tasks",
)
_CANDIDATES_OF_CASE = (
    "SELECT c.* FROM task_candidates c JOIN tasks t ON t.id = c.task_id WHERE t.instance_id = {p}"
)
_OPEN_TASKS = "SELECT * FROM tasks WHERE instance_id = {p} ORDER BY position"

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """One statement of a step: ``sql`` run once per parameter row (``executemany`` if many)."""

    sql: str
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class StepRows:
    """What one engine step of one case wrote, as the statements that write it again."""

    reads_tasks: bool  # a completion: the client first asks for the case's open tasks
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Recording:
    """One case's steps, and the case id its rows carry (replaced on replay)."""

    case_id: str
    steps: tuple[StepRows, ...]


@dataclass(frozen=True, slots=True)
class RawResult:
    database: str
    clients: int
    cases: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds


# == the driver of each database =================================================================
def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _placeholder(url: str) -> str:
    return "?" if _is_sqlite(url) else "%s"


def driver_connect(url: str) -> Any:
    """A bare DB-API connection to the benchmark database, set up as Liucheng sets up its own
    (SQLite: WAL, ``synchronous=NORMAL``, foreign keys on; PostgreSQL: a transaction per step,
    ended by ``commit``)."""
    if _is_sqlite(url):
        conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        return conn
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo)


# == record ======================================================================================
def _case_rows(url: str, cursor: Any, case_id: str) -> dict[str, dict[tuple[Any, ...], Row]]:
    """Every row of the case, per table, by primary key."""
    p = _placeholder(url)
    out: dict[str, dict[tuple[Any, ...], Row]] = {}
    for name in CASE_TABLES:
        if name == "instances":
            sql = f"SELECT * FROM instances WHERE id = {p}"
        elif name == "task_candidates":
            sql = _CANDIDATES_OF_CASE.format(p=p)
        else:
            sql = f"SELECT * FROM {name} WHERE instance_id = {p}"
        cursor.execute(sql, (case_id,))
        columns = [d[0] for d in cursor.description]
        key = [c.name for c in schema.metadata.tables[name].primary_key]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
        out[name] = {tuple(row[k] for k in key): row for row in rows}
    return out


def _diff(
    url: str,
    before: dict[str, dict[tuple[Any, ...], Row]],
    after: dict[str, dict[tuple[Any, ...], Row]],
) -> tuple[Change, ...]:
    """The statements that turn the rows ``before`` into the rows ``after``."""
    p = _placeholder(url)
    deletes: list[Change] = []
    updates: list[Change] = []
    inserts: list[Change] = []
    gone_tasks = {k[0] for k in before["tasks"].keys() - after["tasks"].keys()}
    for name in CASE_TABLES:
        key = [c.name for c in schema.metadata.tables[name].primary_key]
        old, new = before[name], after[name]
        gone = [k for k in old if k not in new]
        if name == "task_candidates":
            gone = [k for k in gone if k[0] not in gone_tasks]  # the cascade deletes them
        if gone:
            where = " AND ".join(f"{k} = {p}" for k in key)
            deletes.append(Change(f"DELETE FROM {name} WHERE {where}", tuple(gone)))
        added = [row for k, row in new.items() if k not in old]
        if added:
            columns = list(added[0])
            sql = (
                f"INSERT INTO {name} ({', '.join(columns)}) "
                f"VALUES ({', '.join([p] * len(columns))})"
            )
            inserts.append(Change(sql, tuple(tuple(r[c] for c in columns) for r in added)))
        for k, row in new.items():
            if k in old and old[k] != row:
                changed = [c for c in row if row[c] != old[k][c]]
                sets = ", ".join(f"{c} = {p}" for c in changed)
                where = " AND ".join(f"{c} = {p}" for c in key)
                values = tuple(row[c] for c in changed) + k
                updates.append(Change(f"UPDATE {name} SET {sets} WHERE {where}", (values,)))
    return (*reversed(deletes), *updates, *inserts)


def record(url: str, engine_for: Callable[[SqlStore], Any]) -> tuple[Recording, Recording]:
    """Run one external and one employee case through Liucheng on ``url`` and record the rows
    each step writes (``engine_for`` makes the engine with the pass handlers)."""
    store = SqlStore(url)
    conn = driver_connect(url)
    try:
        engine = engine_for(store)
        recordings = []
        for number in (1_000_000_000, 1_000_000_001):  # even: external, odd: employee
            case = engine.start("pass_application", pass_start_variables(number))
            cursor = conn.cursor()
            rows = _case_rows(url, cursor, case.id)
            empty: dict[str, dict[tuple[Any, ...], Row]] = {name: {} for name in CASE_TABLES}
            steps = [StepRows(False, _diff(url, empty, rows))]
            while not case.is_ended:
                task = engine.tasks(instance=case.id)[0]
                case = engine.complete(task.id, PASS_TASK_INPUTS[task.node])
                if not _is_sqlite(url):
                    conn.rollback()  # end the read's transaction: see what was committed since
                now = _case_rows(url, cursor, case.id)
                steps.append(StepRows(True, _diff(url, rows, now)))
                rows = now
            if case.state is not InstanceState.COMPLETED:
                raise BenchmarkFailed(f"the recorded case ended {case.state.value}")
            recordings.append(Recording(case.id, tuple(steps)))
        return recordings[0], recordings[1]
    finally:
        conn.close()
        store.close()


# == replay ======================================================================================
def _renamed(value: Any, old: str, new: str) -> Any:
    return value.replace(old, new) if isinstance(value, str) else value


def _new_case_id(template: str) -> str:
    """A fresh id as long as ``template`` (so every renamed row keeps its size)."""
    fresh = uuid.uuid4().hex * 3
    return fresh[: len(template)]


def renamed(recording: Recording) -> Recording:
    """The recorded case under a new case id (a task's id holds its case's, so one text
    replacement renames both).  Done before the clock starts: a plain program has its rows
    ready too, and making them is not the database's work."""
    old = recording.case_id
    new = _new_case_id(old)
    steps = tuple(
        StepRows(
            step.reads_tasks,
            tuple(
                Change(c.sql, tuple(tuple(_renamed(v, old, new) for v in row) for row in c.rows))
                for c in step.changes
            ),
        )
        for step in recording.steps
    )
    return Recording(new, steps)


def fresh_cases(recordings: Sequence[Recording], n: int) -> list[Recording]:
    """``n`` cases to replay, alternately of each recorded kind, each under its own id."""
    return [renamed(recordings[i % 2]) for i in range(n)]


def replay(url: str, conn: Any, case: Recording) -> None:
    """Write one case's rows, one transaction a step.

    On PostgreSQL a step's writes and its commit go to the server together (psycopg's pipeline
    mode: one round trip, as Liucheng's one-statement save); the read before it is a round trip
    of its own, since a client must know the task before it completes it.
    """
    sqlite = _is_sqlite(url)
    read_tasks = _OPEN_TASKS.format(p=_placeholder(url))
    cursor = conn.cursor()
    for step in case.steps:
        if step.reads_tasks:
            cursor.execute(read_tasks, (case.case_id,))
            if not cursor.fetchall():
                raise BenchmarkFailed("a replayed case has no open task to complete")
        with nullcontext() if sqlite else conn.pipeline():
            if sqlite:
                cursor.execute("BEGIN")
            for change in step.changes:
                if len(change.rows) == 1:
                    cursor.execute(change.sql, change.rows[0])
                else:
                    cursor.executemany(change.sql, change.rows)
            if sqlite:
                cursor.execute("COMMIT")
            else:
                conn.commit()


def replay_cases(url: str, cases: Sequence[Recording]) -> None:
    conn = driver_connect(url)
    try:
        for case in cases:
            replay(url, conn, case)
    finally:
        conn.close()


def _completed(url: str) -> int:
    conn = driver_connect(url)
    try:
        cursor = conn.cursor()
        p = _placeholder(url)
        cursor.execute(
            f"SELECT count(*) FROM instances WHERE state = {p}", (InstanceState.COMPLETED.value,)
        )
        return int(cursor.fetchone()[0])
    finally:
        conn.close()


def _client_process(
    url: str, recordings: Sequence[Recording], n: int, barrier: Any, results: Any
) -> None:
    try:
        replay_cases(url, fresh_cases(recordings, 1))  # warm up: connection, statement caches
        cases = fresh_cases(recordings, n)
        barrier.wait()
        started = time.perf_counter()
        replay_cases(url, cases)
        results.put((started, time.perf_counter(), None))
    except BaseException as exc:
        barrier.abort()
        results.put((0.0, 0.0, repr(exc)))


def run_raw(
    url: str, database: str, recordings: Sequence[Recording], n: int, clients: int
) -> RawResult:
    """``n`` cases replayed by ``clients`` clients (one: in this process; more: processes)."""
    before = _completed(url)
    if clients == 1:
        replay_cases(url, fresh_cases(recordings, 1))
        cases = fresh_cases(recordings, n)
        started = time.perf_counter()
        replay_cases(url, cases)
        seconds = time.perf_counter() - started
        expected = n + 1
    else:
        share = n // clients
        args = [(url, recordings, share)] * clients
        reports = durable.spawn_clients(_client_process, args)
        seconds = max(r[1] for r in reports) - min(r[0] for r in reports)
        n = share * clients
        expected = n + clients
    done = _completed(url) - before
    if done != expected:
        raise BenchmarkFailed(f"raw {database}: {done} of {expected} replayed cases completed")
    return RawResult(database, clients, n, seconds)
