"""Call activities: the called case starts with the mapped variables and the business key, is
visible as a child, hands its results back, and its errors and escalations reach the caller."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from liucheng import BpmnValidationError, Engine, HistoryKind, InstanceState

from .conftest import MODELS, kinds
from .steps import PERSIST, pause

Deploy = Callable[..., Engine]


def _child(engine: Engine, case_id: str, process: str) -> str:
    (child,) = [c for c in engine.children(case_id) if c.process_id == process]
    return child.id


@PERSIST
def test_called_case_runs_and_hands_results_back(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_call_activity")
    case = engine.start("repair", {"part": "pump", "quantity": 3}, business_key="R-7")
    assert case.active == ("get_parts",)
    parts = engine.children(case.id)
    assert [(c.process_id, c.business_key, c.parent) for c in parts] == [("parts", "R-7", case.id)]
    assert parts[0].variables == {"wanted": "pump", "count": Decimal("6")}
    pause(engine, case.id, persist)
    pause(engine, parts[0].id, persist)

    (pick,) = engine.tasks(instance=parts[0].id)
    engine.complete(pick.id, {"stock": 5, "shelf": "B-2"})
    case = engine.instance(case.id)
    # Parts done: only the mapped output came back; invoicing (Zeebe: everything in and
    # out) ran to its end within the same step.
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {
        "part": "pump",
        "quantity": 3,
        "parts_shelf": "B-2",
        "amount": Decimal("30"),
    }
    assert engine.path(case.id) == ["start", "get_parts", "invoice", "end"]
    assert kinds(engine, case.id, HistoryKind.CALLED) == ["get_parts", "invoice"]
    invoicing = engine.instance(_child(engine, case.id, "invoicing"))
    assert invoicing.state is InstanceState.COMPLETED and invoicing.parent == case.id


@PERSIST
def test_error_in_called_case_is_caught_by_the_call_activity(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_call_activity")
    case = engine.start("repair", {"part": "valve", "quantity": 1})
    child = _child(engine, case.id, "parts")
    pause(engine, child, persist)
    (pick,) = engine.tasks(instance=child)
    engine.complete(pick.id, {"stock": 0})
    assert engine.instance(child).state is InstanceState.TERMINATED
    case = engine.instance(case.id)
    assert case.active == ("order_elsewhere",)
    assert engine.path(case.id) == ["start", "out_of_stock"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["get_parts"]


def test_escalation_in_called_case_reaches_the_caller_without_interrupting(
    deploy: Deploy,
) -> None:
    engine = deploy("test_call_activity")
    case = engine.start("repair", {"part": "belt", "quantity": 1})
    child = _child(engine, case.id, "parts")
    (pick,) = engine.tasks(instance=child)
    engine.complete(pick.id, {"stock": -1})
    case = engine.instance(case.id)
    assert case.active == ("get_parts", "tell_customer")
    assert [t.node for t in engine.tasks(instance=child)] == ["pick_late"]


def test_cancelling_the_caller_cancels_the_called_case(deploy: Deploy) -> None:
    engine = deploy("test_call_activity")
    case = engine.start("repair", {"part": "belt", "quantity": 1})
    child = _child(engine, case.id, "parts")
    engine.cancel(case.id)
    assert engine.instance(child).state is InstanceState.TERMINATED
    assert engine.tasks(instance=child) == []


def test_calling_an_undeployed_process_is_an_incident_until_deployed(engine: Engine) -> None:
    model = (MODELS / "test_call_activity.bpmn").read_bytes()
    engine.deploy(model.replace(b'calledElement="parts"', b'calledElement="nowhere"'))
    case = engine.start("repair", {"part": "belt", "quantity": 1})
    (incident,) = case.incidents
    assert incident.node == "get_parts" and "no process 'nowhere'" in incident.message


def test_call_activity_without_called_element_is_refused() -> None:
    model = (MODELS / "test_call_activity.bpmn").read_bytes()
    with pytest.raises(BpmnValidationError, match=r"get_parts.*names no called process"):
        Engine().deploy(model.replace(b' calledElement="parts"', b""))


@PERSIST
def test_bpmn_data_associations_pass_values_in_and_out(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_call_activity_data_associations")
    case = engine.start("pay_deposit", {"amount": Decimal("50.00")})
    (child,) = engine.children(case.id)
    assert child.variables == {"fee": Decimal("50.00"), "payer": "Acme Logistics"}
    (task,) = engine.tasks(instance=child.id)
    pause(engine, child.id, persist)
    pause(engine, case.id, persist)
    engine.complete(task.id, {"receipt_no": "R-7731", "cashier": "li"})
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    # Only what the data output association names comes back.
    assert done.variables == {"amount": Decimal("50.00"), "receipt": "R-7731"}
    assert engine.path(case.id) == ["start", "pay", "end"]


def test_a_data_association_to_an_unknown_data_input_is_refused(engine: Engine) -> None:
    model = (MODELS / "test_call_activity_data_associations.bpmn").read_bytes()
    with pytest.raises(BpmnValidationError, match="targets 'pay_nothing', no data input"):
        engine.deploy(
            model.replace(b"<targetRef>pay_fee</targetRef>", b"<targetRef>pay_nothing</targetRef>")
        )
