"""The durable benchmark's quick run on SQLite: every case really completes, in the database.

Small loops only (a few seconds in all); PostgreSQL is left to ``python -m bench --durable``,
so this runs wherever the test suite runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # ``bench`` is a top-level package beside ``src``

from bench import durable, durable_scale  # noqa: E402
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
