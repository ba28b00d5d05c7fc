"""A worker for ``test_crash``: works ``crash_line`` cases as fast as it can until it is killed.

    python crash_worker.py DATABASE_URL SEED

The process must already be deployed (the test deploys it; two workers deploying at once is not
what this test is about).  The worker prints ``ready`` once its engine is open, then loops for
ever, choosing at random: start a case, complete one of the open tasks, or run the due jobs
(the ``P0D`` timer of every case that passed its service task).  Losing a race to the other
worker is normal (``ConflictError``; ``UnknownTaskError`` for a task gone before the lookup);
any other exception ends the worker with a traceback and a non-zero exit, which the test
reports — only SIGKILL may stop a worker.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from liucheng import Engine
from liucheng.errors import ConflictError, UnknownTaskError
from liucheng.runtime import SqlStore


def stamp(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The service task: derives a variable from the one task A set."""
    return {"stamped": variables["a"] + 1}


def main(url: str, seed: int) -> None:
    rng = random.Random(seed)
    engine = Engine(store=SqlStore(url))
    engine.register_service("stamp", stamp)
    print("ready", flush=True)
    for n in range(1, sys.maxsize):
        roll = rng.random()
        if roll < 0.3:
            engine.start("crash_line", {"n": n, "worker": seed})
        elif roll < 0.8:
            tasks = engine.tasks(process="crash_line")
            if not tasks:
                continue
            task = rng.choice(tasks)
            name = "a" if task.node == "task_a" else "b"
            with suppress(ConflictError, UnknownTaskError):  # the other worker was first
                engine.complete(task.id, {name: n})
        else:
            engine.run_due_jobs()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
