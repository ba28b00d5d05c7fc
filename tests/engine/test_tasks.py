"""Tasks: user tasks (properties, inboxes, completion), manual and plain tasks, service tasks,
business rule tasks, send tasks and script tasks (Python dialect and FEEL)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import (
    BpmnValidationError,
    ConflictError,
    Engine,
    HistoryKind,
    InstanceState,
    LiuchengError,
    UnknownProcessError,
    UnknownTaskError,
)

from .conftest import MODELS, START, kinds
from .steps import PERSIST, comparable_history, complete_at, pause, task_at

Deploy = Callable[..., Engine]
SHANGHAI = ZoneInfo("Asia/Shanghai")


# == user tasks: properties ====================================================================


@PERSIST
def test_user_task_properties_camunda7(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_user_task_properties_camunda7")
    deadline = datetime(2026, 3, 9, 18, 0, tzinfo=SHANGHAI)

    case = engine.start(
        "user_task_camunda7",
        {
            "manager": "wang",
            "department": "facilities",
            "deputies": ["li", "zhao"],
            "deadline": deadline,
            "urgency": 3,
        },
        business_key="PASS-1",
    )
    pause(engine, case.id, persist)

    literal = task_at(engine, case.id, "literal")
    assert literal.name == "Check the applicant"
    assert literal.assignee == "alice"
    assert literal.candidate_groups == ("security", "reception")
    assert literal.candidate_users == ("bob", "carol")
    assert literal.form_key == "forms/check.json"
    assert literal.due == START + timedelta(days=2)
    assert literal.priority == 70
    assert literal.process_id == "user_task_camunda7"
    assert literal.business_key == "PASS-1"
    assert literal.created == START

    computed = task_at(engine, case.id, "computed")
    assert computed.assignee == "wang"
    assert computed.candidate_groups == ("facilities", "finance")
    assert computed.candidate_users == ("li", "zhao")
    assert computed.form_key == "forms/approve.json"
    assert computed.due == deadline
    assert computed.priority == 30

    assert kinds(engine, case.id, HistoryKind.TASK_CREATED) == ["literal", "computed"]
    complete_at(engine, case.id, "literal", persist=persist)
    case = complete_at(engine, case.id, "computed", {"approved": True}, persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.TASK_COMPLETED) == ["literal", "computed"]
    assert case.variables["approved"] is True


@PERSIST
def test_user_task_properties_zeebe(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_user_task_properties_zeebe")

    case = engine.start("user_task_zeebe", {"inspector": "gao", "urgent": True})

    literal = task_at(engine, case.id, "literal")
    assert literal.assignee == "dave"
    assert literal.candidate_groups == ("gate",)
    assert literal.candidate_users == ("erin",)
    assert literal.form_key == "forms/vehicle.json"
    assert literal.due == datetime(2026, 3, 5, 17, 0, tzinfo=SHANGHAI)
    assert literal.priority == 20

    engine.clock.advance(hours=1)
    case = complete_at(engine, case.id, "literal", persist=persist)

    computed = task_at(engine, case.id, "computed")
    assert computed.assignee == "gao"
    assert computed.candidate_groups == ("gate", "security")
    assert computed.candidate_users == ("gao", "frank")
    assert computed.form_key == "sign_off"
    assert computed.due == START + timedelta(hours=5)  # created an hour later, due 4 h after
    assert computed.priority == 90
    assert computed.created == START + timedelta(hours=1)

    case = complete_at(engine, case.id, "computed", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "literal", "computed", "end"]


def test_tasks_filters(deploy: Deploy) -> None:
    deploy("test_user_task_properties_camunda7")
    engine = deploy("test_user_task_properties_zeebe")
    c7 = engine.start(
        "user_task_camunda7",
        {
            "manager": "wang",
            "department": "security",
            "deputies": ["bob"],
            "deadline": START,
            "urgency": 1,
        },
    )
    zb = engine.start("user_task_zeebe", {"inspector": "gao", "urgent": False})

    def nodes(**filters: str) -> list[tuple[str, str]]:
        # Tasks created at the same instant come in no particular order: compare sorted.
        return sorted((t.process_id, t.node) for t in engine.tasks(**filters))

    assert nodes() == [
        ("user_task_camunda7", "computed"),
        ("user_task_camunda7", "literal"),
        ("user_task_zeebe", "literal"),
    ]
    assert nodes(group="security") == [
        ("user_task_camunda7", "computed"),
        ("user_task_camunda7", "literal"),
    ]
    assert nodes(group="gate") == [("user_task_zeebe", "literal")]
    assert nodes(assignee="alice") == [("user_task_camunda7", "literal")]
    assert nodes(assignee="bob") == []  # bob is a candidate, not the assignee
    assert nodes(user="bob") == [
        ("user_task_camunda7", "computed"),
        ("user_task_camunda7", "literal"),
    ]
    assert nodes(user="wang") == [("user_task_camunda7", "computed")]  # assigned to wang
    assert nodes(user="erin") == [("user_task_zeebe", "literal")]
    assert nodes(process="user_task_zeebe") == [("user_task_zeebe", "literal")]
    assert nodes(process="user_task_camunda7", group="reception") == [
        ("user_task_camunda7", "literal")
    ]
    assert nodes(group="security", process="user_task_zeebe") == []
    assert nodes(group="nobody") == []
    assert [t.instance_id for t in engine.tasks(instance=zb.id)] == [zb.id]
    assert {t.instance_id for t in engine.tasks(instance=c7.id)} == {c7.id}

    task = engine.tasks(assignee="alice")[0]
    assert engine.task(task.id) == task
    engine.complete(task.id)
    assert nodes(assignee="alice") == []


# == user tasks: completion ====================================================================


def test_complete_unknown_or_completed_task(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start("one_task")
    task = task_at(engine, case.id, "fill_in")

    with pytest.raises(UnknownTaskError):
        engine.complete("no-such-task")
    with pytest.raises(UnknownTaskError):
        engine.task("no-such-task")

    engine.complete(task.id, {"name": "Li Lei"})
    with pytest.raises(ConflictError):
        engine.complete(task.id, {"name": "Han Meimei"})
    with pytest.raises(UnknownTaskError):
        engine.task(task.id)

    assert engine.instance(case.id).state is InstanceState.COMPLETED
    assert engine.instance(case.id).variables == {"name": "Li Lei"}
    assert kinds(engine, case.id, HistoryKind.TASK_COMPLETED) == ["fill_in"]


class _Visitor:
    pass


@pytest.mark.parametrize(
    "variables",
    [
        {"tags": {"a", "b"}},
        {"score": math.nan},
        {"score": float("inf")},
        {"visitor": _Visitor()},
        {"nested": {"items": [1, {2, 3}]}},
        {"fine": 1, "raw": b"bytes"},
        {"": 1},
    ],
    ids=["set", "nan", "inf", "object", "nested_set", "bytes", "empty_name"],
)
def test_complete_with_unstorable_variables_changes_nothing(
    deploy: Deploy, variables: dict[str, Any]
) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start("one_task", {"kept": 1})
    task = task_at(engine, case.id, "fill_in")
    before = engine.dump(case.id)

    with pytest.raises(LiuchengError):
        engine.complete(task.id, variables)

    assert engine.dump(case.id) == before
    assert engine.task(task.id) == task
    assert engine.instance(case.id).variables == {"kept": 1}
    case = engine.complete(task.id, {"fine": 2})
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"kept": 1, "fine": 2}


def test_complete_with_error_message_naming_variable(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start("one_task")
    task = task_at(engine, case.id, "fill_in")
    with pytest.raises(LiuchengError, match="tags"):
        engine.complete(task.id, {"tags": {"x"}})


# == manual and plain tasks ====================================================================


def test_manual_and_plain_tasks_pass_through(deploy: Deploy) -> None:
    engine = deploy("test_manual_and_plain_tasks_pass_through")
    case = engine.start("pass_through", {"keys": 2})
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "hand_over", "note", "end"]
    assert kinds(engine, case.id, HistoryKind.TASK_CREATED) == []
    assert case.variables == {"keys": 2}


# == service tasks =============================================================================


def test_service_task_handler_names(deploy: Deploy) -> None:
    engine = deploy("test_service_task_handler_names")
    seen: list[str] = []

    def handler(name: str, result: Any) -> Callable[[dict[str, Any]], Any]:
        def run(variables: dict[str, Any]) -> Any:
            seen.append(name)
            return result

        return run

    engine.register_service("issue-pass", handler("type", {"pass_number": "TX-1"}))
    engine.register_service("print-pass", handler("topic", {"printed": True}))
    engine.register_service("org.example.NotifyGate", handler("class", None))
    engine.register_service("depositLedger", handler("delegate", Decimal("50.00")))
    engine.register_service("archive_pass", handler("id", {}))

    case = engine.start("service_names")

    assert case.state is InstanceState.COMPLETED
    assert seen == ["type", "topic", "class", "delegate", "id"]
    assert engine.path(case.id) == [
        "start",
        "by_type",
        "by_topic",
        "by_class",
        "by_delegate",
        "archive_pass",
        "end",
    ]
    assert case.variables == {
        "pass_number": "TX-1",
        "printed": True,
        "ledger_entry": Decimal("50.00"),
    }
    changed = [
        (e.element, e.variables)
        for e in engine.history(case.id)
        if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert changed == [
        ("by_type", {"pass_number": "TX-1"}),
        ("by_topic", {"printed": True}),
        ("by_delegate", {"ledger_entry": Decimal("50.00")}),
    ]


def test_service_handler_receives_a_copy(deploy: Deploy) -> None:
    engine = deploy("test_service_handler_failure_is_incident_until_fixed")

    @engine.service("charge-deposit")
    def charge(variables: dict[str, Any]) -> dict[str, Any]:
        variables["items"].append("sneaky")
        variables["amount"] = 0
        return {"charged": True}

    case = engine.start("service_failure", {"amount": 50, "items": ["a"]})
    assert case.state is InstanceState.COMPLETED
    # Mutating the mapping handed to the handler does not change the case; only the result does.
    assert case.variables == {"amount": 50, "items": ["a"], "charged": True}


@PERSIST
def test_service_handler_failure_is_incident_until_fixed(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_service_handler_failure_is_incident_until_fixed")
    attempts: list[int] = []

    def broken(variables: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        raise ConnectionError("ledger unreachable")

    engine.register_service("charge-deposit", broken)
    case = engine.start("service_failure", {"amount": Decimal("50.00")})

    # The call failed: the step is kept, and a job will call again (three attempts in all,
    # one after the other without a failedJobRetryTimeCycle, as in Camunda).
    assert case.state is InstanceState.ACTIVE
    assert case.incidents == () and case.active == ("charge",)
    assert [e.detail for e in engine.history(case.id) if e.kind is HistoryKind.JOB_FAILED] == [
        "attempt 1 of 3 failed: ConnectionError: ledger unreachable"
    ]
    pause(engine, case.id, persist)
    assert engine.run_due_jobs() == 2  # attempts 2 and 3; the last keeps its incident
    assert len(attempts) == 3
    case = engine.instance(case.id)
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("charge", "service")
    assert incident.message == "ConnectionError: ledger unreachable"
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["charge"]
    assert case.active == ("charge",)
    assert engine.run_due_jobs() == 0  # an operator's turn now

    pause(engine, case.id, persist)
    case = engine.retry(case.id)  # still broken: a new incident
    assert len(attempts) == 4
    assert [i.node for i in case.incidents] == ["charge"]

    engine.register_service("charge-deposit", lambda v: {"receipt": f"R-{v['amount']}"})
    pause(engine, case.id, persist)
    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert case.incidents == ()
    assert engine.path(case.id) == ["start", "charge", "end"]
    assert case.variables == {"amount": Decimal("50.00"), "receipt": "R-50.00"}
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["charge", "charge"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["charge", "charge"]
    # Entered by the first call and by the job's last attempt; the job's failed attempt before
    # it was undone.
    assert kinds(engine, case.id, HistoryKind.ELEMENT_STARTED).count("charge") == 2


def test_service_without_handler_is_incident(deploy: Deploy) -> None:
    engine = deploy("test_service_handler_failure_is_incident_until_fixed")
    case = engine.start("service_failure")

    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("charge", "service")
    assert "charge-deposit" in incident.message

    engine.register_service("charge-deposit", lambda v: None)
    case = engine.retry(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {}


def test_service_handler_returning_a_value_without_result_variable(deploy: Deploy) -> None:
    engine = deploy("test_service_handler_failure_is_incident_until_fixed")
    engine.register_service("charge-deposit", lambda v: 42)
    case = engine.start("service_failure")
    [incident] = case.incidents
    assert incident.kind == "service"
    assert "int" in incident.message


def test_service_handler_returning_unstorable_value(deploy: Deploy) -> None:
    engine = deploy("test_service_handler_failure_is_incident_until_fixed")
    engine.register_service("charge-deposit", lambda v: {"tags": {"a"}})
    case = engine.start("service_failure")

    # The value cannot be stored, so it must not enter the case: an incident instead.
    assert case.state is InstanceState.ACTIVE
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("charge", "service")
    assert "tags" in incident.message
    assert "tags" not in case.variables
    engine.dump(case.id)  # the case can still be stored


# == business rule, send and script tasks ======================================================


def test_business_rule_task_calls_registered_decision(deploy: Deploy) -> None:
    engine = deploy("test_business_rule_task_calls_registered_decision")
    engine.register_decision(
        "pass_deposit", lambda v: Decimal("50.00") if v["applicant_type"] == "external" else None
    )
    engine.register_decision("pass_duration", lambda v: 30)
    engine.register_decision("pass_flags", lambda v: {"escort": True, "vehicle": False})

    case = engine.start("rule_task", {"applicant_type": "external"})

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "deposit_rule", "duration_rule", "flags_rule", "end"]
    assert case.variables == {
        "applicant_type": "external",
        "deposit": Decimal("50.00"),
        "valid_days": 30,
        "escort": True,
        "vehicle": False,
    }


def test_business_rule_task_without_decision_is_incident(deploy: Deploy) -> None:
    engine = deploy("test_business_rule_task_calls_registered_decision")
    case = engine.start("rule_task", {"applicant_type": "staff"})
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("deposit_rule", "decision")
    assert "pass_deposit" in incident.message

    engine.register_decision("pass_deposit", lambda v: Decimal("0"))
    engine.register_decision("pass_duration", lambda v: 365)
    engine.register_decision("pass_flags", lambda v: {})
    case = engine.retry(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {
        "applicant_type": "staff",
        "deposit": Decimal("0"),
        "valid_days": 365,
    }


def test_decision_handler_failure_is_incident(deploy: Deploy) -> None:
    engine = deploy("test_business_rule_task_calls_registered_decision")

    def broken(variables: dict[str, Any]) -> Any:
        raise KeyError("applicant_type")

    engine.register_decision("pass_deposit", broken)
    case = engine.start("rule_task")

    assert case.state is InstanceState.ACTIVE
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("deposit_rule", "decision")
    assert "KeyError" in incident.message
    engine.register_decision("pass_deposit", lambda v: {"deposit": {"a", "set"}})
    case = engine.retry(case.id)
    [incident] = case.incidents
    assert "deposit" in incident.message
    assert case.variables == {}


@PERSIST
def test_send_task_publishes_message(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_send_task_publishes_message")
    receiver = engine.start("receiver", business_key="P-7")
    assert receiver.active == ("wait_pass",)
    pause(engine, receiver.id, persist)

    sender = engine.start("sender", {"pass_number": "TX-9", "secret": "x"}, business_key="P-7")

    assert sender.state is InstanceState.COMPLETED
    assert engine.path(sender.id) == ["start", "announce", "end"]
    assert kinds(engine, sender.id, HistoryKind.MESSAGE_SENT) == ["announce"]
    [sent] = [e for e in engine.history(sender.id) if e.kind is HistoryKind.MESSAGE_SENT]
    assert (sent.detail, sent.variables) == ("pass_ready", {"pass_number": "TX-9"})

    receiver = engine.instance(receiver.id)
    assert receiver.state is InstanceState.COMPLETED
    assert engine.path(receiver.id) == ["r_start", "wait_pass", "r_end"]
    assert receiver.variables == {"pass_number": "TX-9"}  # only the mapped payload travels
    assert kinds(engine, receiver.id, HistoryKind.MESSAGE_RECEIVED) == ["wait_pass"]


def test_python_script_task(deploy: Deploy) -> None:
    engine = deploy("test_python_script_task")
    case = engine.start(
        "python_script",
        {"price": Decimal("12.50"), "quantity": 2, "visitors": ["li"], "scratch": "tmp"},
    )

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "prepare", "end"]
    assert case.variables == {
        "price": Decimal("12.50"),
        "quantity": 2,
        "visitors": ["li", "guard"],
        "total": Decimal("25.00"),
        "label": "pass-2",
    }
    changes = [
        e.variables for e in engine.history(case.id) if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert changes[0] == {
        "price": Decimal("12.50"),
        "quantity": 2,
        "visitors": ["li"],
        "scratch": "tmp",
    }
    # The list changed in place is detected; untouched variables are not reported.
    assert changes[1] == {
        "visitors": ["li", "guard"],
        "total": Decimal("25.00"),
        "label": "pass-2",
    }
    assert changes[2] == {"scratch": None}  # deleted
    assert len(changes) == 3


def test_python_script_does_not_alias_history(deploy: Deploy) -> None:
    engine = deploy("test_python_script_task")
    visitors = ["li"]
    case = engine.start(
        "python_script", {"price": 1, "quantity": 1, "visitors": visitors, "scratch": 0}
    )
    assert visitors == ["li"]  # the caller's list is not changed by the script
    [first, *_] = [
        e.variables for e in engine.history(case.id) if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert first is not None and first["visitors"] == ["li"]


def test_feel_script_task(deploy: Deploy) -> None:
    engine = deploy("test_feel_script_task")
    lines = [
        {"price": Decimal("19.99"), "quantity": 3},
        {"price": Decimal("0.01"), "quantity": 1},
    ]
    case = engine.start("feel_script", {"lines": lines})

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "total", "end"]
    assert case.variables["total"] == Decimal("59.98")
    assert isinstance(case.variables["total"], Decimal)
    assert kinds(engine, case.id, HistoryKind.VARIABLES_CHANGED) == [None, "total"]


def test_sandbox_refuses_script_at_deploy(engine: Engine) -> None:
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_sandbox_refuses_script_at_deploy.bpmn")

    assert [issue.element for issue in caught.value.issues] == ["sneaky"]
    assert "sneaky" in str(caught.value)
    assert "import" in str(caught.value)
    assert engine.processes() == []
    for process in ("harmless", "hostile"):
        with pytest.raises(UnknownProcessError):
            engine.start(process)


def test_script_runs_identically_after_roundtrip(deploy: Deploy) -> None:
    engine = deploy("test_python_script_task")
    variables = {"price": Decimal("3.30"), "quantity": 3, "visitors": [], "scratch": None}
    a = engine.start("python_script", variables)
    b = engine.start("python_script", variables)
    assert comparable_history(engine, a.id) == comparable_history(engine, b.id)


def test_bpmn_resource_assignment_gives_assignee_and_candidates(deploy: Deploy) -> None:
    engine = deploy("test_resource_assignment")
    case = engine.start("assigned", {"inspector": "li"})
    (inspect,) = engine.tasks(instance=case.id)
    assert inspect.assignee == "li"
    engine.complete(inspect.id)
    (approve,) = engine.tasks(instance=case.id)
    assert approve.candidate_users == ("zhao",)
    assert approve.candidate_groups == ("security", "facilities")
    assert [t.id for t in engine.tasks(group="facilities")] == [approve.id]
    engine.complete(approve.id)
    (last,) = engine.tasks(instance=case.id)
    assert last.candidate_groups == ("gate",)  # the vendor attribute wins
    assert engine.complete(last.id).state is InstanceState.COMPLETED
