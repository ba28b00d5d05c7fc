"""Incidents: a token that cannot go on is parked; the rest of the case carries on; ``retry``
runs the element again once the cause is fixed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liucheng import ConflictError, Engine, HistoryKind, InstanceState

from .conftest import kinds
from .steps import PERSIST, complete_at, open_nodes, pause

Deploy = Callable[..., Engine]


@PERSIST
def test_incident_on_one_branch_others_continue(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_incident_on_one_branch_others_continue")

    def unavailable(variables: dict[str, Any]) -> dict[str, Any]:
        raise TimeoutError("credit bureau did not answer")

    engine.register_service("credit", unavailable)
    case = engine.start("branch_incident", {"applicant": "Li"})

    assert case.state is InstanceState.ACTIVE
    assert case.active == ("credit_check", "take_photo")
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("credit_check", "service")
    assert incident.message == "TimeoutError: credit bureau did not answer"

    case = complete_at(engine, case.id, "take_photo", {"photo": "p.jpg"}, persist=persist)
    # The photo branch reached the join; the join waits for the stuck branch.
    assert case.state is InstanceState.ACTIVE
    assert case.active == ("credit_check", "join")
    assert open_nodes(engine, case.id) == []

    engine.register_service("credit", lambda v: {"score": 700})
    pause(engine, case.id, persist)
    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "fork",
        "take_photo",
        "credit_check",
        "join",
        "join",
        "end",
    ]
    assert case.variables == {"applicant": "Li", "photo": "p.jpg", "score": 700}
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["credit_check"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["credit_check"]


@PERSIST
def test_retry_one_incident_by_id(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_retry_one_incident_by_id")
    case = engine.start("two_incidents")  # no handlers at all: two incidents

    assert sorted(i.node for i in case.incidents) == ["left", "right"]
    by_node = {i.node: i for i in case.incidents}
    assert [inc.node for _, inc in engine.incidents(case.id)] == ["left", "right"]
    assert {cid for cid, _ in engine.incidents()} == {case.id}

    engine.register_service("left", lambda v: {"left_done": True})
    engine.register_service("right", lambda v: {"right_done": True})
    pause(engine, case.id, persist)
    case = engine.retry(case.id, by_node["left"].id)

    assert case.state is InstanceState.ACTIVE
    assert [i.node for i in case.incidents] == ["right"]
    assert case.variables == {"left_done": True}
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["left"]

    with pytest.raises(ConflictError):
        engine.retry(case.id, by_node["left"].id)  # already resolved
    with pytest.raises(ConflictError):
        engine.retry(case.id, 9999)

    pause(engine, case.id, persist)
    case = engine.retry(case.id, by_node["right"].id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"left_done": True, "right_done": True}
    assert engine.path(case.id) == ["start", "fork", "left", "end_left", "right", "end_right"]

    with pytest.raises(ConflictError):
        engine.retry(case.id)  # the case has ended


@PERSIST
def test_script_error_at_run_time_is_incident(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_script_error_at_run_time_is_incident")
    case = engine.start("script_error", {"total": 100, "heads": 0, "log": []})

    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("per_head", "script")
    assert "per_head" in incident.message
    assert "ZeroDivisionError" in incident.message
    # The failed script changed nothing, not even the list it would have appended to.
    assert case.variables == {"total": 100, "heads": 0, "log": []}
    assert kinds(engine, case.id, HistoryKind.VARIABLES_CHANGED) == [None]

    pause(engine, case.id, persist)
    engine.set_variables(case.id, {"heads": 4})
    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "per_head", "end"]
    assert case.variables == {"total": 100, "heads": 4, "log": ["shared"], "share": 25.0}


def test_output_mapping_failure_retry_leaves_again(deploy: Deploy) -> None:
    engine = deploy("test_output_mapping_failure_retry_leaves_again")
    calls: list[str] = []

    @engine.service("issue")
    def issue(variables: dict[str, Any]) -> dict[str, Any]:
        calls.append("issue")
        return {"number": "TX-1"}

    case = engine.start("output_failure")

    [incident] = case.incidents
    assert (incident.node, incident.kind, incident.leaving) == ("issue", "expression", True)
    assert "issue" in incident.message
    assert calls == ["issue"]

    # The handler already ran: a retry only leaves the element again, it does not call it twice.
    case = engine.retry(case.id)
    assert calls == ["issue"]
    assert [i.leaving for i in case.incidents] == [True]
    assert engine.path(case.id) == ["start"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_STARTED).count("issue") == 1


def test_cancel_case_with_incident(deploy: Deploy) -> None:
    engine = deploy("test_incident_on_one_branch_others_continue")
    case = engine.start("branch_incident")
    assert len(case.incidents) == 1

    case = engine.cancel(case.id)

    assert case.state is InstanceState.TERMINATED
    assert case.incidents == ()
    assert case.active == ()
    assert engine.tasks(instance=case.id) == []
    assert engine.incidents(case.id) == []
    cancelled = kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED)
    assert sorted(str(e) for e in cancelled) == ["credit_check", "take_photo"]
    assert kinds(engine, case.id, HistoryKind.INSTANCE_TERMINATED) == [None]
    with pytest.raises(ConflictError):
        engine.cancel(case.id)
    with pytest.raises(ConflictError):
        engine.retry(case.id)


def test_retry_without_incidents_changes_nothing(deploy: Deploy) -> None:
    engine = deploy("test_incident_on_one_branch_others_continue")
    engine.register_service("credit", lambda v: {})
    case = engine.start("branch_incident")
    before = engine.dump(case.id)
    case = engine.retry(case.id)
    assert engine.dump(case.id) == before
