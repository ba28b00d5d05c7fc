"""BPMN errors and escalations: thrown by end events, throw events and service handlers.

An error is caught by the nearest enclosing error boundary that matches (a specific code beats
a catch-all); an uncaught error is an incident on the token that threw it.  An escalation is
caught by an escalation boundary, interrupting or not; an uncaught one changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liucheng import BpmnError, Engine, HistoryKind, InstanceState

from .conftest import kinds, roundtrip


def _detail(engine: Engine, case_id: str, kind: HistoryKind) -> list[str | None]:
    return [e.detail for e in engine.history(case_id) if e.kind is kind]


def test_error_end_caught_by_subprocess_boundary(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_error_end_caught_by_subprocess_boundary")

    case = engine.start("validate_form", {"valid": False})

    assert case.active == ("correct_form",)
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["invalid"]
    assert _detail(engine, case.id, HistoryKind.ERROR_THROWN) == ["INVALID"]
    # The subprocess and the sibling task inside it are cancelled; the end event completed.
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["countersign", "check"]
    assert engine.path(case.id) == [
        "start",
        "check_start",
        "check_fork",
        "valid_gate",
        "invalid",
        "on_invalid",
    ]
    assert [t.node for t in engine.tasks(instance=case.id)] == ["correct_form"]
    assert case.incidents == ()
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id, {"valid": True})
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"valid": True}
    assert engine.path(case.id)[-2:] == ["correct_form", "returned"]


def test_error_end_not_reached_leaves_subprocess_alone(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_error_end_caught_by_subprocess_boundary")

    case = engine.start("validate_form", {"valid": True})
    assert case.active == ("check", "countersign")
    roundtrip(engine, case.id)
    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)

    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == []
    assert engine.path(case.id)[-2:] == ["check", "accepted"]


@pytest.mark.parametrize(
    ("code", "boundary", "end"),
    [("TIMEOUT", "timed_out", "retry_later"), ("REFUSED", "any_error", "failed")],
)
def test_error_specific_code_beats_catch_all(
    deploy: Callable[..., Engine], code: str, boundary: str, end: str
) -> None:
    engine = deploy("test_error_specific_code_beats_catch_all")

    def transfer(variables: dict[str, Any]) -> None:
        raise BpmnError(variables["fail_with"])

    engine.register_service("transfer", transfer)

    case = engine.start("call_bank", {"fail_with": code})

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", boundary, end]
    assert _detail(engine, case.id, HistoryKind.ERROR_THROWN) == [code]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["transfer"]
    assert case.variables == {"fail_with": code}


@pytest.mark.parametrize(
    ("code", "path", "cancelled"),
    [
        (
            "E1",  # the inner boundary catches E1, although the outer one catches everything
            [
                "start",
                "outer_start",
                "inner_start",
                "inner_caught",
                "recover",
                "outer_end",
                "outer",
                "done",
            ],
            ["risky", "inner"],
        ),
        (
            "E2",  # not caught inside: the outer catch-all takes it
            ["start", "outer_start", "inner_start", "outer_caught", "aborted"],
            ["risky", "inner", "outer"],
        ),
    ],
)
def test_error_nested_subprocesses_inner_boundary_wins(
    deploy: Callable[..., Engine], code: str, path: list[str], cancelled: list[str]
) -> None:
    engine = deploy("test_error_nested_subprocesses_inner_boundary_wins")

    def risky(variables: dict[str, Any]) -> None:
        raise BpmnError(code)

    engine.register_service("risky", risky)

    case = engine.start("nested_errors")

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == path
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == cancelled
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["risky"]
    assert case.incidents == ()


def test_error_uncaught_raises_incident(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_error_uncaught_raises_incident")

    case = engine.start("uncaught")

    assert case.state is InstanceState.ACTIVE
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["fail"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["fail"]
    (incident,) = case.incidents
    assert incident.node == "fail"
    assert incident.kind == "unhandled_error"
    assert "BROKEN" in incident.message
    # The error end event did not complete: its token is parked there, the subprocess waits.
    assert engine.path(case.id) == ["start", "fork", "sub_start"]
    assert case.active == ("fail", "sibling", "sub")
    roundtrip(engine, case.id)

    # The rest of the case carries on.
    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)
    assert case.state is InstanceState.ACTIVE
    assert engine.path(case.id)[-2:] == ["sibling", "sibling_end"]
    assert case.active == ("fail", "sub")
    assert len(case.incidents) == 1

    # Retrying throws the error again: still nobody catches it.
    case = engine.retry(case.id)
    assert case.state is InstanceState.ACTIVE
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["fail", "fail"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["fail"]
    assert "fail" not in engine.path(case.id)


def test_error_uncaught_from_service_task_then_retry(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_boundary_error_on_service_task")
    answers: list[Any] = [BpmnError("NETWORK_DOWN", "bank unreachable"), {"charged": True}]

    def charge(variables: dict[str, Any]) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, BpmnError):
            raise answer
        return answer

    engine.register_service("charge-card", charge)

    case = engine.start("charge", {"card": "good"})

    assert case.state is InstanceState.ACTIVE
    assert case.active == ("charge_card",)
    (incident,) = case.incidents
    assert (incident.node, incident.kind) == ("charge_card", "unhandled_error")
    assert "NETWORK_DOWN" in incident.message
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
    assert engine.path(case.id) == ["start"]
    roundtrip(engine, case.id)

    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert case.incidents == ()
    assert case.variables == {"card": "good", "charged": True}
    assert engine.path(case.id) == ["start", "charge_card", "charged"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["charge_card"]


def test_escalation_end_interrupting(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_escalation_end_interrupting")

    case = engine.start("vip_route", {"level": "vip"})

    assert case.active == ("vip_desk",)
    assert kinds(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["is_vip"]
    assert _detail(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["VIP"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["queue", "triage"]
    assert engine.path(case.id) == [
        "start",
        "triage_start",
        "triage_fork",
        "vip_gate",
        "is_vip",
        "vip_caught",
    ]
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["vip_desk", "vip_served"]


def test_escalation_throw_non_interrupting(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_escalation_throw_non_interrupting")

    case = engine.start("ask_for_help")

    # The subprocess goes on to its task; the boundary started a second path beside it.
    assert case.active == ("fix", "repair", "supervise")
    assert kinds(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["call_supervisor"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
    assert engine.path(case.id) == ["start", "repair_start", "help_requested", "call_supervisor"]
    roundtrip(engine, case.id)

    fix = next(t for t in engine.tasks(instance=case.id) if t.node == "fix")
    case = engine.complete(fix.id)
    assert case.state is InstanceState.ACTIVE
    assert case.active == ("supervise",)
    assert engine.path(case.id)[-4:] == ["fix", "fixed", "repair", "repaired"]

    (supervise,) = engine.tasks(instance=case.id)
    case = engine.complete(supervise.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["supervise", "supervised"]


def test_escalation_uncaught_goes_on(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_escalation_uncaught_goes_on")

    case = engine.start("unheard")

    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["shout", "sub_shout"]
    assert _detail(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["NOTE", "NOTE"]
    assert engine.path(case.id) == ["start", "shout", "sub_start", "sub_shout", "sub", "done"]
    assert case.incidents == ()
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == []


def test_escalation_end_non_interrupting(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_escalation_end_non_interrupting")

    case = engine.start("keep_informed")

    # The escalation end event completed; the subprocess goes on with its other branch.
    assert case.active == ("do_work", "work")
    assert kinds(engine, case.id, HistoryKind.ESCALATION_THROWN) == ["inform"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
    assert engine.path(case.id) == [
        "start",
        "work_start",
        "work_fork",
        "informed",
        "inform",
        "file_note",
        "noted",
    ]
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-4:] == ["do_work", "work_done", "work", "finished"]
