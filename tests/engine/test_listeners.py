"""Execution and task listeners: run by registered Python handlers and Python-dialect scripts,
in the order Camunda raises them; a failing one is an incident (or refuses a completion)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liucheng import BpmnValidationError, Engine, HistoryKind, InstanceState, LiuchengError

from .conftest import MODELS, kinds
from .steps import PERSIST, complete_at, pause

Deploy = Callable[..., Engine]


class Audit:
    """A listener handler that logs (event, element) and sets nothing; ``broken`` makes it fail."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.broken = False

    def __call__(self, variables: dict[str, Any]) -> None:
        if self.broken:
            raise ConnectionError("audit log unreachable")
        self.log.append((variables["listener_event"], variables["listener_element"]))


def _engine(deploy: Deploy) -> tuple[Engine, Audit]:
    engine = deploy("test_listeners")
    audit = Audit()
    engine.register_service("audit", audit)
    engine.register_service(
        "com.acme.NotifyReviewer", lambda v: {"notified": f"{v['listener_element']} created"}
    )
    engine.register_service("archive", lambda v: {"archived": True})
    return engine, audit


@PERSIST
def test_listeners_run_in_order_and_set_variables(deploy: Deploy, persist: bool) -> None:
    engine, audit = _engine(deploy)
    case = engine.start("listened")
    assert audit.log == [("start", "listened"), ("assignment", "review")]
    assert case.variables == {"stage": "review", "notified": "review created"}
    done = complete_at(engine, case.id, "review", {"approved": True}, persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert audit.log[2:] == [
        ("end", "review"),
        ("take", "f2"),
        ("start", "archive"),
        ("end", "end"),
    ]
    assert done.variables == {
        "stage": "review",
        "notified": "review created",
        "approved": True,
        "checked_by": "listener",
        "archived": True,
    }
    assert engine.path(case.id) == ["start", "review", "archive", "end"]


def test_a_failing_listener_is_an_incident_until_fixed(deploy: Deploy) -> None:
    engine, audit = _engine(deploy)
    case = engine.start("listened")
    audit.broken = True
    case = complete_at(engine, case.id, "review", {"approved": False})
    (incident,) = case.incidents
    assert (incident.node, incident.kind) == ("review", "listener")
    assert incident.message == (
        "the end listener class 'audit' of 'review' failed: ConnectionError: audit log unreachable"
    )
    audit.broken = False
    pause(engine, case.id, persist=True)
    done = engine.retry(case.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["checked_by"] == "nobody"
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["review"]


def test_a_failing_complete_listener_refuses_the_completion(deploy: Deploy) -> None:
    engine, _ = _engine(deploy)
    case = engine.start("listened")
    (task,) = engine.tasks(instance=case.id)
    with pytest.raises(LiuchengError, match="complete listener python script of 'review'"):
        engine.complete(task.id, {})  # the script reads ``approved``, which is not set
    assert engine.tasks(instance=case.id) == [task]  # still open, nothing kept
    assert kinds(engine, case.id, HistoryKind.TASK_COMPLETED) == []
    done = engine.complete(task.id, {"approved": True})  # now the listener can read it
    assert done.state is InstanceState.COMPLETED
    assert done.variables["checked_by"] == "listener"


def test_a_failing_start_listener_of_the_process_refuses_the_start(deploy: Deploy) -> None:
    engine, audit = _engine(deploy)
    audit.broken = True
    with pytest.raises(LiuchengError, match=r"start listener .* of 'listened' failed"):
        engine.start("listened")
    assert engine.instances() == []


@pytest.mark.parametrize(
    ("original", "replacement", "message"),
    [
        (
            'delegateExpression="${audit}"/>\n    </extensionElements>\n    <startEvent',
            'expression="${audit.log(execution)}"/>\n    </extensionElements>\n    <startEvent',
            "only a handler's name",
        ),
        ('scriptFormat="python">stage', 'scriptFormat="groovy">stage', "'groovy'"),
        ('taskListener event="create"', 'taskListener event="timeout"', "'timeout'"),
        (
            '<camunda:executionListener event="start" delegateExpression="${audit}"/>\n    </ext',
            '<camunda:executionListener event="end" delegateExpression="${audit}"/>\n    </ext',
            "put an end listener on its end events",
        ),
        (
            '<zeebe:executionListener eventType="start" type="audit"/>',
            '<zeebe:executionListener eventType="start"/>',
            "needs a job type",
        ),
    ],
)
def test_listeners_that_cannot_run_are_refused_at_deployment(
    engine: Engine, original: str, replacement: str, message: str
) -> None:
    model = (MODELS / "test_listeners.bpmn").read_text(encoding="utf-8")
    assert original in model
    with pytest.raises(BpmnValidationError, match=message):
        engine.deploy(model.replace(original, replacement).encode())
    assert engine.processes() == []
