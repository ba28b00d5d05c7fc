"""Compensation: completed activities undone by their handlers, most recent first, while the
throwing token waits; and transactions, whose cancel end event undoes their work."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from liucheng import Engine, HistoryKind, InstanceState
from liucheng.errors import BpmnValidationError, LiuchengError

from .conftest import MODELS, kinds
from .steps import PERSIST, complete_at, open_nodes

Deploy = Callable[..., Engine]


@PERSIST
def test_throw_undoes_completed_work_in_reverse_and_waits(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_compensation_throw")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    complete_at(engine, case.id, "take_deposit", persist=persist)
    complete_at(engine, case.id, "issue_pass", persist=persist)
    complete_at(engine, case.id, "review", {"withdrawn": True}, persist=persist)

    # The pass was issued last, so it is revoked first; its handler is a person's task, and
    # the throw waits for it: the deposit is not refunded yet.
    assert open_nodes(engine, case.id) == ["revoke_pass"]
    assert engine.instance(case.id).variables["undone"] == []
    assert kinds(engine, case.id, HistoryKind.COMPENSATION_THROWN) == ["undo_all"]

    done = complete_at(engine, case.id, "revoke_pass", {"revoked": True}, persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == ["refund 50"]  # FEEL writes numbers without trailing zeros
    assert done.variables["revoked"] is True
    assert engine.path(case.id) == [
        "start",
        "take_deposit",
        "issue_pass",
        "review",
        "withdrawn",
        "revoke_pass",
        "refund_deposit",
        "undo_all",
        "closed",
    ]


def test_nothing_is_undone_on_the_path_without_a_throw(deploy: Deploy) -> None:
    engine = deploy("test_compensation_throw")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    for node in ("take_deposit", "issue_pass"):
        complete_at(engine, case.id, node)
    done = complete_at(engine, case.id, "review", {"withdrawn": False})
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []
    assert engine.path(case.id)[-1] == "kept"
    assert "revoke_pass" not in engine.path(case.id)


def test_a_throw_naming_one_activity_undoes_only_it(deploy: Deploy) -> None:
    engine = deploy("test_compensation_throw")
    done = engine.start("undo_one", {"undone": []})
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == ["release bay 7"]
    assert engine.path(done.id) == ["u_start", "reserve", "notify", "release", "undo_reserve"]
    events = [e for e in engine.history(done.id) if e.kind is HistoryKind.COMPENSATION_THROWN]
    assert [(e.element, e.detail) for e in events] == [("undo_reserve", "reserve")]


@PERSIST
def test_a_completed_subprocess_is_undone_through_its_body(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_compensation_subprocess")
    case = engine.start("sub_default", {"undone": []})
    # The body's own variable is gone with the body; the handler still sees it.
    assert "bay" not in engine.instance(case.id).variables
    done = complete_at(engine, case.id, "confirm", persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == ["refund", "release bay 7"]
    assert engine.path(case.id) == [
        "start",
        "b_start",
        "reserve",
        "charge",
        "b_end",
        "booking",
        "confirm",
        "refund",
        "release",
        "undo",
        "end",
    ]


@PERSIST
def test_a_subprocess_with_its_own_handler_uses_it(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_compensation_subprocess")
    case = engine.start("sub_handler", {"undone": []})
    assert open_nodes(engine, case.id) == ["cancel_booking"]
    done = complete_at(engine, case.id, "cancel_booking", persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []  # the body's handler did not run
    assert engine.path(case.id)[-3:] == ["cancel_booking", "h_undo", "h_end"]


def test_work_of_a_cancelled_subprocess_is_not_undone(deploy: Deploy) -> None:
    engine = deploy("test_compensation_subprocess")
    case = engine.start("sub_cancelled", {"undone": [], "order": "A-1"})
    assert open_nodes(engine, case.id) == ["c_wait"]
    engine.correlate("abort", key="A-1")
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []
    assert "c_refund" not in engine.path(case.id)
    assert kinds(engine, case.id, HistoryKind.COMPENSATION_THROWN) == ["c_undo"]


@PERSIST
def test_an_event_subprocess_undoes_the_scope_it_interrupted(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_compensation_event_subprocess")
    case = engine.start("repair_order", {"undone": []})
    done = complete_at(engine, case.id, "inspect", {"rejected": True}, persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == ["parts"]
    assert engine.path(case.id)[-5:] == [
        "rejection",
        "return_parts",
        "undo_order",
        "undone_end",
        "on_rejected",
    ]


@PERSIST
def test_each_instance_is_undone_with_its_own_item(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_compensation_multi_instance")
    case = engine.start("notify_all", {"undone": [], "tenants": ["A", "B", "C"]})
    for _ in range(3):
        complete_at(engine, case.id, "send_notice", persist=persist)
    done = complete_at(engine, case.id, "decide", persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == ["C", "B", "A"]
    assert "tenant" not in done.variables


@PERSIST
def test_cancel_end_undoes_the_transaction_and_leaves_by_its_cancel_boundary(
    deploy: Deploy, persist: bool
) -> None:
    engine = deploy("test_transaction")
    case = engine.start("book_service", {"undone": []})
    assert open_nodes(engine, case.id) == ["collect_documents", "pay_fee"]
    complete_at(engine, case.id, "pay_fee", {"failed": True}, persist=persist)

    # Collecting documents was cancelled; the fee (paid last) is refunded first, by a person.
    assert open_nodes(engine, case.id) == ["refund_fee"]
    assert kinds(engine, case.id, HistoryKind.TRANSACTION_CANCELLED) == ["booking"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["collect_documents"]
    complete_at(engine, case.id, "refund_fee", persist=persist)

    assert open_nodes(engine, case.id) == ["tell_customer"]
    assert engine.instance(case.id).variables["undone"] == ["release slot 3"]
    done = complete_at(engine, case.id, "tell_customer", persist=persist)
    assert done.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "t_start",
        "fork",
        "reserve_slot",
        "pay_fee",
        "paid",
        "refund_fee",
        "release_slot",
        "payment_failed",  # it completes once the handlers have run
        "booking_cancelled",
        "tell_customer",
        "not_booked",
    ]
    assert "booking" in kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED)


def test_a_transaction_that_completes_keeps_its_work(deploy: Deploy) -> None:
    engine = deploy("test_transaction")
    case = engine.start("book_service", {"undone": []})
    complete_at(engine, case.id, "pay_fee", {"failed": False})
    done = complete_at(engine, case.id, "collect_documents")
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []
    assert engine.path(case.id)[-2:] == ["booking", "booked"]


def test_deployment_refuses_compensation_written_wrong(engine: Engine) -> None:
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_compensation_invalid.bpmn")
    assert sorted((i.element, i.message) for i in caught.value.issues) == [
        ("flowing_handler", "a compensation handler has no sequence flows"),
        ("ghost", "compensation names no activity 'nowhere'"),
        (
            "lonely_undo",
            "a compensation boundary event needs an association to exactly one activity with "
            'isForCompensation="true"',
        ),
        (
            "no_wait",
            'waitForCompletion="false" is not supported: a compensation throw waits for its '
            "handlers",
        ),
        ("stray_cancel", "a cancel end event may only be used inside a transaction"),
        ("sub_cancel", "a cancel boundary event may only be attached to a transaction"),
        ("tx_cancel", "transaction 'tx' has a cancel end event but no cancel boundary event"),
        (
            "wrong_undo",
            "a compensation boundary event needs an association to exactly one activity with "
            'isForCompensation="true"',
        ),
    ]
    assert engine.processes() == []


def test_a_throw_with_nothing_to_undo_goes_straight_on(deploy: Deploy) -> None:
    engine = deploy("test_compensation_throw")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    # Move the case past the work to the throw: nothing completed, so nothing is undone.
    engine.move(case.id, "take_deposit", "undo_all")
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []
    assert kinds(engine, case.id, HistoryKind.COMPENSATION_THROWN) == ["undo_all"]


def test_cancelling_a_waiting_throw_drops_its_handlers(deploy: Deploy) -> None:
    engine = deploy("test_compensation_throw")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    for node in ("take_deposit", "issue_pass"):
        complete_at(engine, case.id, node)
    complete_at(engine, case.id, "review", {"withdrawn": True})
    assert open_nodes(engine, case.id) == ["revoke_pass"]
    engine.move(case.id, "undo_all", "closed")  # an operator ends the case another way
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == []  # the queued refund never ran
    assert engine.tasks(instance=case.id) == []


def test_a_stored_case_with_broken_compensation_is_refused(engine: Engine) -> None:
    engine.deploy(MODELS / "test_compensation_throw.bpmn")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    complete_at(engine, case.id, "take_deposit")
    data = json.loads(engine.dump(case.id))
    assert data["compensables"] == [[data["compensables"][0][0], "take_deposit", 0, None, []]]
    data["compensables"][0][2] = 99  # a scope the case does not have
    with pytest.raises(LiuchengError, match="compensable activity 'take_deposit'"):
        engine.load(json.dumps(data))


def test_a_stored_case_nested_without_end_is_refused(engine: Engine) -> None:
    engine.deploy(MODELS / "test_compensation_throw.bpmn")
    case = engine.start("withdraw", {"undone": [], "deposit": Decimal("50.00")})
    data = json.loads(engine.dump(case.id))
    hostile = json.dumps(data)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(LiuchengError, match="nested too deeply"):
        engine.load(hostile)
    assert engine.instance(case.id).active == ("take_deposit",)  # the case is unchanged
