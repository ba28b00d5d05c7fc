"""``python -m bench``: Liucheng against SpiffWorkflow, one table.

python -m bench                  # the full run: each loop ≥ 1 s, best of 3 (a few minutes)
python -m bench --quick          # a smoke run: 10 cases per loop, one repeat
python -m bench --only liucheng  # skip the peer (also skipped when it is not installed)
python -m bench --clock wall     # time by the wall clock instead of this process's CPU time
python -m bench --profile pass_application   # cProfile Liucheng's side of one workload
python -m bench --durable        # the durable benchmark: SQLite and PostgreSQL (bench/durable.py)
python -m bench --durable --quick             # its smoke run
python -m bench --durable --profile-durable   # cProfile the one-client SQLite loop
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import sys
from datetime import date
from importlib.metadata import version

from rich.console import Console
from rich.table import Table

from bench import durable, liucheng_side, spiff_peer
from bench.measure import Measurement, measure_side_by_side
from bench.workloads import WORKLOADS, Workload

QUICK_N = 10


def run_benchmarks(
    *,
    quick: bool,
    peer: bool,
    workloads: tuple[Workload, ...] = WORKLOADS,
    clock: str = "cpu",
    console: Console | None = None,
) -> list[tuple[Workload, Measurement, Measurement | None]]:
    """Measure each workload on Liucheng (and on the peer when ``peer``); checked results."""
    n = QUICK_N if quick else None
    repeats = 1 if quick else 3
    min_seconds = 0.0 if quick else 1.0
    results = []
    for workload in workloads:
        if console:
            console.print(f"[dim]measuring: {workload.title}…[/dim]")
        contenders = [(liucheng_side.NAME, liucheng_side.RUNNERS[workload.key])]
        if peer:
            contenders.append((spiff_peer.NAME, spiff_peer.RUNNERS[workload.key]))
        measured = measure_side_by_side(
            workload, contenders, n=n, repeats=repeats, min_seconds=min_seconds, clock=clock
        )
        ours, theirs = measured[0], (measured[1] if peer else None)
        results.append((workload, ours, theirs))
    return results


def table(results: list[tuple[Workload, Measurement, Measurement | None]], clock: str) -> Table:
    per = "CPU second" if clock == "cpu" else "second (wall clock)"
    out = Table(title=f"Liucheng vs SpiffWorkflow: in memory, per {per}, best of repeats")
    out.add_column("workload", no_wrap=True)
    out.add_column("Liucheng/s", justify="right")
    out.add_column("Spiff/s", justify="right")
    out.add_column("ratio", justify="right")
    out.add_column("N (L/S)", justify="right", style="dim", no_wrap=True)
    for workload, ours, theirs in results:
        if theirs is None:
            out.add_row(workload.title, f"{ours.per_second:,.0f}", "–", "–", f"{ours.n}")
            continue
        ratio = ours.per_second / theirs.per_second
        style = "green" if ratio >= 10 else "yellow"
        out.add_row(
            workload.title,
            f"{ours.per_second:,.0f}",
            f"{theirs.per_second:,.0f}",
            f"[{style}]{ratio:.1f}×[/{style}]",
            f"{ours.n} / {theirs.n}",
        )
    return out


def profile(workload_key: str, n: int, console: Console) -> None:
    """Profile Liucheng's side of one workload; print the top functions by own and total time."""
    run = liucheng_side.RUNNERS[workload_key]()
    profiler = cProfile.Profile()
    profiler.enable()
    done = run(n)
    profiler.disable()
    console.print(f"{workload_key}: {done} of {n} completed under the profiler")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small loops, one repeat")
    parser.add_argument("--only", choices=["liucheng", "all"], default="all")
    parser.add_argument(
        "--clock", choices=["cpu", "wall"], default="cpu", help="process CPU time (default)"
    )
    parser.add_argument("--workload", choices=[w.key for w in WORKLOADS], action="append")
    parser.add_argument("--profile", choices=[w.key for w in WORKLOADS], metavar="WORKLOAD")
    parser.add_argument("--profile-n", type=int, default=2000, metavar="N")
    parser.add_argument(
        "--durable", action="store_true", help="the durable benchmark (SQLite, PostgreSQL)"
    )
    parser.add_argument(
        "--part", choices=durable.PARTS, action="append", help="with --durable: only these parts"
    )
    parser.add_argument("--no-postgres", action="store_true", help="with --durable: SQLite only")
    parser.add_argument(
        "--profile-durable", action="store_true", help="cProfile the one-client SQLite P1 loop"
    )
    args = parser.parse_args(argv)
    console = Console()

    if args.profile_durable:
        durable.profile_sqlite(min(args.profile_n, 500))
        return 0
    if args.durable:
        console.print(
            f"{date.today().isoformat()} · Python {platform.python_version()} · "
            f"{os.cpu_count()} CPUs · {platform.machine()} · liucheng {version('liucheng')} · "
            f"load average {os.getloadavg()[0]:.2f}"
            + (" · [bold]--quick[/bold] (smoke run, not figures)" if args.quick else "")
        )
        durable.run_durable(
            console,
            quick=args.quick,
            parts=tuple(args.part or durable.PARTS),
            postgres=not args.no_postgres,
        )
        return 0

    if args.profile:
        profile(args.profile, args.profile_n, console)
        return 0

    peer = args.only == "all" and spiff_peer.available()
    if args.only == "all" and not peer:
        console.print("[yellow]SpiffWorkflow is not installed: measuring Liucheng only[/yellow]")
    chosen = tuple(w for w in WORKLOADS if not args.workload or w.key in args.workload)
    console.print(
        f"{date.today().isoformat()} · Python {platform.python_version()} · "
        f"{os.cpu_count()} CPUs · {platform.machine()} · liucheng {version('liucheng')}"
        + (f" · SpiffWorkflow {spiff_peer.version()}" if peer else "")
        + (" · [bold]--quick[/bold] (smoke run, not figures)" if args.quick else "")
    )
    results = run_benchmarks(
        quick=args.quick, peer=peer, workloads=chosen, clock=args.clock, console=console
    )
    console.print(table(results, args.clock))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
