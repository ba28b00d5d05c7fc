"""Event-based gateway: the first event after it wins, the others are withdrawn."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import BpmnValidationError, Engine, HistoryKind, InstanceState

from .conftest import MODELS, START, kinds
from .steps import PERSIST, pause

Deploy = Callable[..., Engine]


@PERSIST
def test_message_first_withdraws_the_timer(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_gateway")
    case = engine.start("await_deposit", {"order": "A-1"})
    assert case.active == ("which_first",)
    assert engine.next_due() == START.replace(day=START.day + 1)
    pause(engine, case.id, persist)

    case = engine.correlate("deposit_paid", key="A-1", variables={"amount": 50})
    assert case.state is InstanceState.COMPLETED
    assert engine.next_due() is None  # the timer went with the gateway
    assert engine.path(case.id) == ["start", "which_first", "paid", "done"]
    assert case.variables == {"order": "A-1", "amount": 50}
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN) == ["f1", "f_paid", "f2"]
    assert kinds(engine, case.id, HistoryKind.MESSAGE_RECEIVED) == ["paid"]


@PERSIST
def test_timer_first_withdraws_the_message(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_event_gateway")
    case = engine.start("await_deposit", {"order": "A-2"})
    pause(engine, case.id, persist)
    engine.clock.advance(hours=24)
    assert engine.run_due_jobs() == 1
    case = engine.instance(case.id)
    assert case.active == ("remind",)
    assert engine.path(case.id) == ["start", "which_first", "one_day"]
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["one_day"]
    # The message no longer reaches the case: it is buffered (or refused), not delivered.
    with pytest.raises(Exception, match="no case"):
        engine.correlate("deposit_paid", key="A-2")
    assert engine.instance(case.id).active == ("remind",)


def test_event_gateway_leading_to_a_task_is_refused() -> None:
    with pytest.raises(BpmnValidationError, match="not_an_event"):
        Engine().deploy(MODELS / "test_event_gateway_bad_target.bpmn")
