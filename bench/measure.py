"""Timing: how many cases per second a runner gets through, best of a few repeats.

Each repeat builds a fresh runner (untimed: a new engine, the model deployed or parsed), then
times one loop of ``n`` cases; the engines' repeats take turns.  ``n`` is calibrated per engine
and workload so that one loop takes at least ``min_seconds``; the best repeat is reported, the
usual way to filter out a busy machine's noise.  A runner that ends fewer cases than asked
raises ``BenchmarkFailed``.

The clock is this process's CPU time (``time.process_time``) unless ``--clock wall`` is asked
for: the loops are single-threaded and do no I/O, so on an idle machine the two agree, and on a
shared one (a CI runner, a laptop compiling) CPU time is not inflated by other processes'
turns on the cores.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.workloads import Runner, Workload

RunnerFactory = Callable[[], Runner]

CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


class BenchmarkFailed(RuntimeError):
    """A runner did not complete what it was asked to: its figure would mean nothing."""


@dataclass(frozen=True, slots=True)
class Measurement:
    engine: str
    workload: Workload
    n: int
    repeats: int
    per_second: float  # the best repeat


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``values`` by the nearest-rank method."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def timed_loop(
    engine: str, workload: Workload, make: RunnerFactory, n: int, clock: str = "cpu"
) -> float:
    """Seconds one fresh runner takes to complete ``n`` items, checked."""
    now = CLOCKS[clock]
    run = make()
    gc.collect()
    started = now()
    done = run(n)
    elapsed = now() - started
    if done != n:
        raise BenchmarkFailed(
            f"{engine}, {workload.title}: only {done} of {n} {workload.unit}s completed as the "
            "model says they should"
        )
    return elapsed


def calibrate(
    engine: str,
    workload: Workload,
    make: RunnerFactory,
    min_seconds: float,
    clock: str = "cpu",
    start: int = 10,
) -> int:
    """A loop size that takes about 1.2 × ``min_seconds`` (never below ``min_seconds``)."""
    n = start
    while True:
        elapsed = timed_loop(engine, workload, make, n, clock)
        if elapsed >= 0.2 * min_seconds:
            return max(n, math.ceil(n * 1.2 * min_seconds / elapsed))
        n *= 4 if elapsed < 0.05 * min_seconds else 2


def measure_side_by_side(
    workload: Workload,
    contenders: list[tuple[str, RunnerFactory]],
    *,
    n: int | None = None,
    repeats: int = 3,
    min_seconds: float = 1.0,
    clock: str = "cpu",
) -> list[Measurement]:
    """Measure several engines on one workload, their repeats interleaved.

    Interleaving (A, B, A, B, …) rather than A, A, A, B, B, B means a burst of load from another
    process slows both engines' loops alike, so the ratio between them stays honest.
    """
    sizes = [
        n or calibrate(engine, workload, make, min_seconds, clock) for engine, make in contenders
    ]
    best = [math.inf] * len(contenders)
    counted = [0] * len(contenders)
    regrown = [0] * len(contenders)
    while min(counted) < repeats:
        for i, (engine, make) in enumerate(contenders):
            if counted[i] >= repeats:
                continue
            elapsed = timed_loop(engine, workload, make, sizes[i], clock)
            if elapsed < min_seconds and regrown[i] < 3:
                # Faster than the calibration run (a warm machine): grow the loop and start
                # over, so that every reported loop lasts at least min_seconds.
                sizes[i] = math.ceil(sizes[i] * 1.2 * min_seconds / elapsed)
                best[i], counted[i], regrown[i] = math.inf, 0, regrown[i] + 1
                continue
            best[i] = min(best[i], elapsed)
            counted[i] += 1
    return [
        Measurement(engine, workload, size, repeats, size / seconds)
        for (engine, _), size, seconds in zip(contenders, sizes, best, strict=True)
    ]


def measure(
    engine: str,
    workload: Workload,
    make: RunnerFactory,
    *,
    n: int | None = None,
    repeats: int = 3,
    min_seconds: float = 1.0,
    clock: str = "cpu",
) -> Measurement:
    """Measure one engine on one workload."""
    (result,) = measure_side_by_side(
        workload, [(engine, make)], n=n, repeats=repeats, min_seconds=min_seconds, clock=clock
    )
    return result
