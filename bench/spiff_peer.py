"""SpiffWorkflow's side (the peer): each workload driven the way SpiffWorkflow's docs drive it.

Models are parsed with SpiffWorkflow's own dialect parser (``SpiffBpmnParser``: Python
conditions, pre/post scripts, service-task operators).  A case is a ``BpmnWorkflow``: run the
engine steps, then repeatedly take a ready manual task, set its data, run it, and run the engine
steps again.  Service tasks call the same ``PassOffice`` handlers that Liucheng's run calls,
through a script-engine environment, which is SpiffWorkflow's hook for calling services.

Importing this module needs SpiffWorkflow (``requirements/bench.lock``); ``available()`` says
whether it is installed.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
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

NAME = "SpiffWorkflow"


def available() -> bool:
    return importlib.util.find_spec("SpiffWorkflow") is not None


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("SpiffWorkflow")


# SpiffWorkflow is imported inside the functions below, so that this module (and the benchmark's
# Liucheng side) can be imported where the peer is not installed.


def _script_engine() -> Any:
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    from liucheng.library.passes import PassOffice

    office = PassOffice()
    services = {
        "passes.issue_pass": office.issue_pass,
        "passes.send_reminder": office.send_reminder,
    }

    class ServiceEnvironment(TaskDataEnvironment):  # type: ignore[misc]
        """Dispatch service-task operators to Python handlers; SpiffWorkflow expects JSON back."""

        def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
            return json.dumps(services[kwargs["operation_name"]](dict(context)))

    return PythonScriptEngine(environment=ServiceEnvironment())


def _spec(filename: str, process_id: str) -> Any:
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(MODELS / filename))
    return parser.get_spec(process_id)


def _new_case(spec: Any, engine: Any, variables: dict[str, Any] | None = None) -> Any:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    workflow = BpmnWorkflow(spec, script_engine=engine)
    if variables:
        # The start event's task carries the case's first data; later tasks inherit it.
        start = workflow.get_next_task(spec_name="Start")
        start.set_data(**variables)
    workflow.do_engine_steps()
    return workflow


def _work_through(workflow: Any, inputs: dict[str, dict[str, Any]]) -> Any:
    """Complete ready manual (user) tasks, first found first, until the workflow ends."""
    from SpiffWorkflow.util.task import TaskState

    while not workflow.is_completed():
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None or task.task_spec.bpmn_id not in inputs:
            return workflow  # stuck, or off the expected path: the caller counts it as not done
        task.set_data(**inputs[task.task_spec.bpmn_id])
        task.run()
        workflow.do_engine_steps()
    return workflow


def _finished_data(workflow: Any) -> dict[str, Any] | None:
    return dict(workflow.data) if workflow.is_completed() else None


def pass_application() -> Runner:
    spec = _spec("pass_application_spiff.bpmn", "pass_application")
    engine = _script_engine()

    def run(n: int) -> int:
        done = 0
        for i in range(n):
            workflow = _new_case(spec, engine, pass_start_variables(i))
            data = _finished_data(_work_through(workflow, PASS_TASK_INPUTS))
            done += data is not None and pass_outcome_ok(data)
        return done

    return run


def _plain(process_id: str, nodes: tuple[str, ...]) -> Runner:
    spec = _spec(f"{process_id}.bpmn", process_id)
    engine = _script_engine()
    inputs = {node: step_input(node) for node in nodes}

    def run(n: int) -> int:
        done = 0
        for _ in range(n):
            data = _finished_data(_work_through(_new_case(spec, engine), inputs))
            done += data is not None and all_steps_done(data, nodes)
        return done

    return run


def straight_line() -> Runner:
    return _plain("straight_line", STRAIGHT_LINE_STEPS)


def parallel_block() -> Runner:
    return _plain("parallel_block", PARALLEL_BRANCHES)


def serializer() -> Any:
    """SpiffWorkflow's JSON serializer for its own dialect, taught to store ``Decimal``."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return BpmnWorkflowSerializer(registry)


def _waiting_at(workflow: Any) -> list[str]:
    from SpiffWorkflow.util.task import TaskState

    return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)]


def round_trip() -> Runner:
    from SpiffWorkflow.util.task import TaskState

    spec = _spec("pass_application_spiff.bpmn", "pass_application")
    engine = _script_engine()
    codec = serializer()
    workflow = _new_case(spec, engine, pass_start_variables(0))
    while ROUND_TRIP_WAITS_AT not in _waiting_at(workflow):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.set_data(**PASS_TASK_INPUTS[task.task_spec.bpmn_id])
        task.run()
        workflow.do_engine_steps()

    def run(n: int) -> int:
        restored = workflow
        for _ in range(n):
            restored = codec.deserialize_json(codec.serialize_json(restored))
            restored.script_engine = engine  # a script engine is not part of the stored state
        # The last restored case must still be the waiting one, and must run on to its end.
        if _waiting_at(restored) != [ROUND_TRIP_WAITS_AT]:
            return 0
        data = _finished_data(_work_through(restored, PASS_TASK_INPUTS))
        return n if data is not None and pass_outcome_ok(data) else 0

    return run


RUNNERS = {
    "pass_application": pass_application,
    "straight_line": straight_line,
    "parallel_block": parallel_block,
    "round_trip": round_trip,
}
