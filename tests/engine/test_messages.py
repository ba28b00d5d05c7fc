"""Messages: message start events, catch events, receive tasks, and messages thrown by a case.

A message is correlated by name and key: the key is matched against what the waiting element
subscribed with (the case's business key, or its ``zeebe:subscription correlationKey``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import ConflictError, CorrelationError, Engine, HistoryKind, InstanceState

from .conftest import START, kinds, roundtrip


def test_message_start_event(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_message_start_event")
    with pytest.raises(Exception, match="no none start event"):
        engine.start("order_intake")

    case = engine.correlate("order_placed", key="A-1", variables={"amount": 120})

    assert case.process_id == "order_intake"
    assert case.business_key == "A-1"
    assert case.variables == {"amount": 120}
    assert case.active == ("review",)
    assert engine.path(case.id) == ["order_received"]
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    assert task.business_key == "A-1"
    case = engine.complete(task.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["order_received", "review", "done"]

    # The business key stays unique: the same order cannot start a second case.
    with pytest.raises(ConflictError):
        engine.correlate("order_placed", key="A-1")
    assert len(engine.instances(process="order_intake")) == 1


def test_intermediate_message_catch(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_message_catch")
    case = engine.start("await_payment", {"due": 50}, business_key="INV-1")
    assert case.active == ("paid",)
    roundtrip(engine, case.id)

    case = engine.correlate("payment_received", key="INV-1", variables={"paid": 50})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"due": 50, "paid": 50}
    assert engine.path(case.id) == ["start", "paid", "done"]
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["paid"]
    received = next(e for e in engine.history(case.id) if e.kind is HistoryKind.MESSAGE_RECEIVED)
    assert received.detail == "payment_received"
    assert received.variables == {"paid": 50}


def test_message_without_waiting_case_changes_nothing(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_message_catch")
    case = engine.start("await_payment", business_key="INV-1")
    before = engine.dump(case.id)

    with pytest.raises(CorrelationError, match="no case waits"):
        engine.correlate("payment_received", key="INV-2", variables={"paid": 1})
    with pytest.raises(CorrelationError, match="no case waits"):
        engine.correlate("refund_issued", key="INV-1")

    assert engine.dump(case.id) == before
    assert engine.instance(case.id).active == ("paid",)
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == []


def test_message_to_two_waiting_cases_needs_a_key(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_intermediate_message_catch")
    first = engine.start("await_payment", business_key="INV-1")
    second = engine.start("await_payment", business_key="INV-2")
    before = (engine.dump(first.id), engine.dump(second.id))

    with pytest.raises(CorrelationError, match="2 waiting cases"):
        engine.correlate("payment_received", variables={"paid": 1})

    assert (engine.dump(first.id), engine.dump(second.id)) == before

    case = engine.correlate("payment_received", key="INV-2", variables={"paid": 2})
    assert case.id == second.id
    assert case.state is InstanceState.COMPLETED
    assert engine.instance(first.id).active == ("paid",)

    # Only one case waits now: a message without a key finds it.
    case = engine.correlate("payment_received", variables={"paid": 1})
    assert case.id == first.id
    assert case.variables == {"paid": 1}
    assert engine.path(first.id) == ["start", "paid", "done"]


def test_message_end_event_correlates_by_business_key(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_message_end_event_correlates_by_business_key")
    waiting = engine.start("applicant", {"name": "Li"}, business_key="APP-7")
    other = engine.start("applicant", business_key="APP-8")
    roundtrip(engine, waiting.id)

    sender = engine.start("approver", {"decision": "granted"}, business_key="APP-7")

    assert sender.state is InstanceState.COMPLETED
    assert engine.path(sender.id) == ["start", "notify_applicant"]
    assert kinds(engine, sender.id, HistoryKind.MESSAGE_SENT) == ["notify_applicant"]
    sent = next(e for e in engine.history(sender.id) if e.kind is HistoryKind.MESSAGE_SENT)
    assert sent.detail == "approval_given"
    # The payload is the end event's input-mapped variables, not the sender's whole state.
    assert sent.variables == {"outcome": "granted", "by": "approver"}
    assert sender.variables == {"decision": "granted"}

    case = engine.instance(waiting.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"name": "Li", "outcome": "granted", "by": "approver"}
    assert engine.path(waiting.id) == ["apply", "wait_approval", "approved"]
    assert kinds(engine, waiting.id, HistoryKind.MESSAGE_RECEIVED) == ["wait_approval"]

    assert engine.instance(other.id).active == ("wait_approval",)
    assert engine.instance(other.id).variables == {}


def test_message_throw_uses_correlation_key_expression(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_message_throw_uses_correlation_key_expression")
    order_41 = engine.start("customer_order", {"order_id": 41})
    order_42 = engine.start("customer_order", {"order_id": 42})
    roundtrip(engine, order_42.id)

    sender = engine.start("warehouse", {"order_id": 42, "tracking": "SF123"})

    # The thrower goes on past the throw event to its next wait state.
    assert sender.active == ("archive",)
    assert engine.path(sender.id) == ["start", "announce_shipment"]
    assert kinds(engine, sender.id, HistoryKind.MESSAGE_SENT) == ["announce_shipment"]

    case = engine.instance(order_42.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"order_id": 42, "tracking_no": "SF123"}
    assert engine.path(order_42.id) == ["ordered", "wait_shipment", "delivered"]
    assert engine.instance(order_41.id).active == ("wait_shipment",)

    # From outside, the key is the text of the correlation key's value.
    case = engine.correlate("order_shipped", key="41", variables={"tracking_no": "SF9"})
    assert case.id == order_41.id
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"order_id": 41, "tracking_no": "SF9"}


def test_message_thrown_to_nobody_is_dropped(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_message_throw_uses_correlation_key_expression")

    sender = engine.start("warehouse", {"order_id": 7, "tracking": "SF1"})

    assert sender.active == ("archive",)
    assert kinds(engine, sender.id, HistoryKind.MESSAGE_SENT) == ["announce_shipment"]
    assert engine.instances(process="customer_order") == []


def test_receive_task_receives_its_message(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_receive_task_with_boundary_timer")
    case = engine.start("contract", business_key="C-9")
    assert case.active == ("wait_signature",)
    assert engine.next_due() is not None
    roundtrip(engine, case.id)

    case = engine.correlate("contract_signed", key="C-9", variables={"signed_by": "Wang"})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"signed_by": "Wang"}
    assert engine.path(case.id) == ["start", "wait_signature", "signed"]
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["wait_signature"]
    # The boundary timer went with the task.
    assert engine.next_due() is None
    engine.clock.advance(days=4)
    assert engine.run_due_jobs() == 0
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == []


def test_receive_task_with_boundary_timer(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_receive_task_with_boundary_timer")
    case = engine.start("contract", business_key="C-9")
    roundtrip(engine, case.id)

    engine.clock.advance(days=3)
    assert engine.run_due_jobs() == 1

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.ended is not None and case.ended > START
    assert engine.path(case.id) == ["start", "three_days", "expired"]
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["three_days"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["wait_signature"]
    # The message subscription went with the task.
    with pytest.raises(CorrelationError):
        engine.correlate("contract_signed", key="C-9")


def test_message_thrown_starts_a_case(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_message_thrown_starts_a_case")

    call = engine.start("hotline", {"topic": "broken lock"}, business_key="CALL-3")

    assert call.state is InstanceState.COMPLETED
    assert engine.path(call.id) == ["call", "open_ticket"]
    (ticket,) = engine.instances(process="ticket")
    # The started case takes the message's key (the sender's business key) as its own.
    assert ticket.business_key == "CALL-3"
    assert ticket.variables == {"subject": "broken lock"}
    assert ticket.active == ("confirmed",)
    assert engine.path(ticket.id) == ["opened"]
    roundtrip(engine, ticket.id)

    # So a follow-up message with the same key reaches it.
    case = engine.correlate("customer_confirmed", key="CALL-3", variables={"ok": True})
    assert case.id == ticket.id
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"subject": "broken lock", "ok": True}
    assert engine.path(ticket.id) == ["opened", "confirmed", "closed"]
