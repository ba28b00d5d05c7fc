"""A message published before its case waits for it is kept for a while, not lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from liucheng import CorrelationError, Engine, HistoryKind, InstanceState, LiuchengError

from .conftest import kinds

HOUR = timedelta(hours=1)


def _reach_wait(engine: Engine, case_id: str) -> None:
    task = engine.tasks(instance=case_id)[0]
    engine.complete(task.id)


def test_early_message_is_delivered_when_the_case_comes_to_wait(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_buffered_messages")
    case = engine.start("pay_later", business_key="INV-1")
    paid = {"amount": Decimal("50.00")}
    assert engine.publish("payment_received", key="INV-1", variables=paid, ttl=HOUR) is None
    _reach_wait(engine, case.id)
    done = engine.instance(case.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["amount"] == Decimal("50.00")
    assert engine.path(case.id) == ["start", "prepare", "wait_payment", "end"]
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["wait_payment"]


def test_message_published_while_the_case_waits_is_delivered_at_once(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_buffered_messages")
    case = engine.start("pay_later", business_key="INV-2")
    _reach_wait(engine, case.id)
    received = engine.publish("payment_received", key="INV-2", ttl=HOUR)
    assert received is not None and received.state is InstanceState.COMPLETED


def test_expired_and_other_key_messages_are_not_delivered(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_buffered_messages")
    case = engine.start("pay_later", business_key="INV-3")
    engine.publish("payment_received", key="INV-3", ttl=HOUR)
    engine.publish("payment_received", key="SOMEONE-ELSE", ttl=timedelta(days=1))
    engine.clock.advance(hours=2)  # the first message expired
    _reach_wait(engine, case.id)
    waiting = engine.instance(case.id)
    assert waiting.state is InstanceState.ACTIVE
    assert waiting.active == ("wait_payment",)
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == []


def test_a_buffered_message_is_taken_by_one_case_only(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_buffered_messages")
    first = engine.start("pay_later", business_key="A")
    second = engine.start("pay_later", business_key="B")
    engine.publish("payment_received", variables={"by": "bank"}, ttl=HOUR)  # no key: any case
    _reach_wait(engine, first.id)
    _reach_wait(engine, second.id)
    assert engine.instance(first.id).state is InstanceState.COMPLETED
    assert engine.instance(second.id).state is InstanceState.ACTIVE


def test_correlate_still_refuses_a_message_nobody_waits_for(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_buffered_messages")
    engine.start("pay_later", business_key="INV-4")
    with pytest.raises(CorrelationError, match="no case waits"):
        engine.correlate("payment_received", key="INV-4")
    with pytest.raises(LiuchengError, match="positive time to live"):
        engine.publish("payment_received", key="INV-4", ttl=timedelta(0))
