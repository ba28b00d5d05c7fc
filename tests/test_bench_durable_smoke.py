"""The durable benchmark's quick run on SQLite: every case really completes, in the database.

Small loops only (a few seconds in all); PostgreSQL is left to ``python -m bench --durable``,
so this runs wherever the test suite runs.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # ``bench`` is a top-level package beside ``src``

from bench import durable, durable_raw, durable_scale  # noqa: E402
from bench.measure import BenchmarkFailed  # noqa: E402
from bench.workloads import PASS_TASK_INPUTS  # noqa: E402


@pytest.fixture
def sqlite_url() -> object:
    with durable.sqlite_database() as url:
        durable.prepare(url)
        yield url


def test_one_client_completes_every_case_and_times_each_completion(sqlite_url: str) -> None:
    result = durable.one_client(sqlite_url, 6)
    assert result.cases == 6
    assert len(result.completions) == 15  # 3 external cases x 3 tasks + 3 employees x 2
    assert result.per_second > 0
    assert durable.completed_in_database(sqlite_url) == 6 + durable.WARM_UP


def test_threaded_clients_complete_every_case(sqlite_url: str) -> None:
    result = durable.threaded_clients(sqlite_url, 8, clients=2)
    assert result.cases == 8
    assert len(result.completions) == 20


def test_a_case_off_the_expected_path_fails_the_run(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PASS_TASK_INPUTS, "security_review", {"approved": False})
    with pytest.raises(BenchmarkFailed, match="0 of 3 cases"):
        durable.one_client(sqlite_url, 2)


def test_statements_are_counted_per_operation(sqlite_url: str) -> None:
    counts = {c.operation: c for c in durable.count_statements(sqlite_url, n=2)}
    assert counts["start"].calls == 2
    assert counts["complete"].calls == 5
    assert counts["complete"].statements["UPDATE instances"] == 5
    assert counts["tasks"].per_call >= 1


def test_timers_due_at_once_all_fire() -> None:
    with durable.sqlite_database() as url:
        result = durable_scale.due_timers(url, 50)
    assert result.timers == 50
    assert result.seconds > 0


def test_task_search_finds_the_right_tasks() -> None:
    with durable.sqlite_database() as url:
        durable_scale.build_tasks(url, 3_000)
        found = durable_scale.task_search(url, 3_000, 5)
    assert len(found) == len(durable_scale.SEARCHES)
    assert all(len(s.latencies) == 5 and s.plan for s in found)


# == the bare driver writing the same rows (bench.durable_raw) ==================================
def _databases() -> list[object]:
    marks = pytest.mark.skipif(not durable.postgres_available(), reason="PostgreSQL not reachable")
    return ["sqlite", pytest.param("postgresql", marks=marks)]


@pytest.fixture(params=_databases())
def bench_url(request: pytest.FixtureRequest) -> object:
    database = durable.sqlite_database if request.param == "sqlite" else durable.postgres_database
    with database() as url:
        durable.prepare(url)
        yield url


def test_a_recording_holds_each_step_of_each_kind_of_case(bench_url: str) -> None:
    external, employee = durable_raw.record(bench_url, durable.pass_engine)
    assert len(external.steps) == 4  # start and three completions
    assert len(employee.steps) == 3
    start = external.steps[0]
    assert not start.reads_tasks
    assert all(step.reads_tasks for step in external.steps[1:])
    assert start.changes[0].sql.startswith("INSERT INTO instances ")
    assert all(external.case_id in str(change.rows) for change in start.changes)
    last = external.steps[-1].changes
    assert any(c.sql.startswith("DELETE FROM tasks ") for c in last)
    assert any(c.sql.startswith("UPDATE instances SET state = ") for c in last)
    # a candidate row that goes with its task is left to the cascade, as Liucheng leaves it
    assert not any(c.sql.startswith("DELETE FROM task_candidates") for c in last)


def test_replayed_cases_write_the_recorded_rows_under_new_ids(bench_url: str) -> None:
    recordings = durable_raw.record(bench_url, durable.pass_engine)
    before = durable.completed_in_database(bench_url)
    result = durable_raw.run_raw(bench_url, "test", recordings, 4, 1)
    assert result.cases == 4 and result.per_second > 0
    assert durable.completed_in_database(bench_url) == before + 5  # and the warm-up case
    conn = durable_raw.driver_connect(bench_url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT count(*) FROM history")
        steps = sum(len(r.steps) for r in recordings)
        # a history row per step: the warm-up and 4 cases are 3 external cases and 2 employees
        assert cursor.fetchone()[0] == steps + 3 * 4 + 2 * 3
        cursor.execute("SELECT count(*) FROM tasks")
        assert cursor.fetchone()[0] == 0
    finally:
        conn.close()


def test_replaying_rows_that_do_not_end_the_case_fails_the_run(bench_url: str) -> None:
    external, employee = durable_raw.record(bench_url, durable.pass_engine)
    cut = [replace(r, steps=r.steps[:-1]) for r in (external, employee)]
    with pytest.raises(BenchmarkFailed, match="0 of 3 replayed cases completed"):
        durable_raw.run_raw(bench_url, "test", cut, 2, 1)
