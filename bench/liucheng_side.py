"""Liucheng's side: each workload driven through the public ``Engine`` API, as an embedder would.

The access-pass process runs from the bundled library model (FEEL conditions, Zeebe mappings,
the ``PassOffice`` service handlers), the model users actually deploy.  Each runner gets a fresh
in-memory engine, so the cases of one repeat do not pile up in the next.
"""

from __future__ import annotations

from typing import Any

from bench.workloads import (
    MODELS,
    PARALLEL_BRANCHES,
    PASS_TASK_INPUTS,
    ROUND_TRIP_WAITS_AT,
    STRAIGHT_LINE_STEPS,
    Runner,
    all_steps_done,
    pass_outcome_ok,
    pass_start_variables,
    step_input,
)
from liucheng import Engine
from liucheng.api import Case
from liucheng.engine.state import InstanceState
from liucheng.library import model_path
from liucheng.library.passes import PassOffice

NAME = "Liucheng"


def _pass_engine() -> Engine:
    engine = Engine()
    PassOffice().install(engine)
    engine.deploy(model_path("pass_application.bpmn"))
    return engine


def _work_through(engine: Engine, case: Case, inputs: dict[str, dict[str, Any]]) -> Case:
    """Complete the case's open tasks, oldest first, until it ends."""
    while not case.is_ended:
        open_tasks = engine.tasks(instance=case.id)
        if not open_tasks or open_tasks[0].node not in inputs:
            return case  # stuck, or off the expected path: the caller counts it as not done
        task = open_tasks[0]
        case = engine.complete(task.id, inputs[task.node])
    return case


def _completed(case: Case) -> bool:
    return case.state is InstanceState.COMPLETED


def pass_application() -> Runner:
    engine = _pass_engine()

    def run(n: int) -> int:
        done = 0
        for i in range(n):
            case = engine.start("pass_application", pass_start_variables(i))
            case = _work_through(engine, case, PASS_TASK_INPUTS)
            done += _completed(case) and pass_outcome_ok(case.variables)
        return done

    return run


def _plain(process_id: str, nodes: tuple[str, ...]) -> Runner:
    engine = Engine()
    engine.deploy(MODELS / f"{process_id}.bpmn")
    inputs = {node: step_input(node) for node in nodes}

    def run(n: int) -> int:
        done = 0
        for _ in range(n):
            case = _work_through(engine, engine.start(process_id), inputs)
            done += _completed(case) and all_steps_done(case.variables, nodes)
        return done

    return run


def straight_line() -> Runner:
    return _plain("straight_line", STRAIGHT_LINE_STEPS)


def parallel_block() -> Runner:
    return _plain("parallel_block", PARALLEL_BRANCHES)


def round_trip() -> Runner:
    engine = _pass_engine()
    case = engine.start("pass_application", pass_start_variables(0))
    while ROUND_TRIP_WAITS_AT not in case.active:
        task = engine.tasks(instance=case.id)[0]
        case = engine.complete(task.id, PASS_TASK_INPUTS[task.node])

    def run(n: int) -> int:
        restored = case
        for _ in range(n):
            restored = engine.load(engine.dump(case.id))
        # The last restored case must still be the waiting one, and must run on to its end.
        if restored.active != case.active or restored.variables != case.variables:
            return 0
        text = engine.dump(case.id)
        check = _pass_engine()
        finished = _work_through(check, check.load(text), PASS_TASK_INPUTS)
        return n if _completed(finished) and pass_outcome_ok(finished.variables) else 0

    return run


RUNNERS = {
    "pass_application": pass_application,
    "straight_line": straight_line,
    "parallel_block": parallel_block,
    "round_trip": round_trip,
}
