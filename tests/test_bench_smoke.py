"""The benchmark's quick run, Liucheng's side: every workload really completes its cases.

A benchmark that silently stopped completing cases would print fast, meaningless figures, so
these tests check the runners' own bookkeeping too: a run that goes off the model's expected
path must fail the measurement, not be timed.  The SpiffWorkflow peer is a benchmark-only
dependency; its smoke test is skipped where it is not installed (as in CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # ``bench`` is a top-level package beside ``src``

from bench import liucheng_side  # noqa: E402
from bench.__main__ import QUICK_N, run_benchmarks  # noqa: E402
from bench.measure import BenchmarkFailed, measure  # noqa: E402
from bench.workloads import (  # noqa: E402
    PASS_APPLICATION,
    WORKLOADS,
    Workload,
    pass_outcome_ok,
    pass_start_variables,
)


def test_quick_benchmark_liucheng_side_completes_every_workload() -> None:
    results = run_benchmarks(quick=True, peer=False)
    assert [workload for workload, _, _ in results] == list(WORKLOADS)
    for _, ours, theirs in results:
        assert theirs is None
        assert ours.n == QUICK_N
        assert ours.per_second > 0


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.key)
def test_each_liucheng_runner_counts_all_its_cases(workload: Workload) -> None:
    assert liucheng_side.RUNNERS[workload.key]()(4) == 4


def test_a_case_off_the_expected_path_fails_the_measurement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Rejected reviews end at "application rejected", not "pass issued": nothing counts.
    monkeypatch.setitem(liucheng_side.PASS_TASK_INPUTS, "security_review", {"approved": False})
    assert liucheng_side.pass_application()(4) == 0
    with pytest.raises(BenchmarkFailed, match="only 0 of 4"):
        measure("Liucheng", PASS_APPLICATION, liucheng_side.pass_application, n=4, repeats=1)


def test_pass_outcome_check_tells_the_branches_apart() -> None:
    external = {**pass_start_variables(0), "pass_number": "TX-1", "pass_colour": "yellow"}
    assert not pass_outcome_ok(external)  # an external pass without the deposit held
    assert pass_outcome_ok({**external, "deposit_held": 50})
    employee = {**pass_start_variables(1), "pass_number": "TX-2", "pass_colour": "light green"}
    assert pass_outcome_ok(employee)
    assert not pass_outcome_ok({**employee, "pass_colour": "yellow"})
    assert not pass_outcome_ok({**employee, "pass_number": None})


def test_quick_benchmark_peer_side_when_installed() -> None:
    pytest.importorskip("SpiffWorkflow")
    from bench import spiff_peer

    for workload in WORKLOADS:
        assert spiff_peer.RUNNERS[workload.key]()(4) == 4
