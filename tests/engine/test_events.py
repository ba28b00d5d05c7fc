"""Start and end events: none events, several end events, terminate end events.

Timer and message start events are in ``test_timers_engine.py`` and ``test_messages.py``;
error and escalation end events in ``test_errors.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds, roundtrip


def test_none_start_and_none_end(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_none_start_and_none_end")

    case = engine.start("none_events", {"n": 1})

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "work", "milestone", "done"]
    assert case.variables == {"n": 1}
    assert case.active == ()
    assert case.ended == case.started
    assert engine.history(case.id)[0].kind is HistoryKind.INSTANCE_STARTED
    assert kinds(engine, case.id, HistoryKind.INSTANCE_COMPLETED) == [None]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN) == ["f1", "f2", "f3"]


def test_case_ends_with_its_last_token(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_case_ends_with_its_last_token")
    case = engine.start("two_ends")
    assert case.active == ("left", "right")
    roundtrip(engine, case.id)

    left = next(t for t in engine.tasks(instance=case.id) if t.node == "left")
    case = engine.complete(left.id, {"side": "left"})

    assert case.state is InstanceState.ACTIVE  # one end event does not end the case
    assert engine.path(case.id) == ["start", "fork", "left", "left_end"]
    assert case.active == ("right",)
    roundtrip(engine, case.id)

    (right,) = engine.tasks(instance=case.id)
    case = engine.complete(right.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "fork", "left", "left_end", "right", "right_end"]
    assert case.variables == {"side": "left"}
    assert kinds(engine, case.id, HistoryKind.INSTANCE_COMPLETED) == [None]


def test_terminate_end_kills_parallel_siblings(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_terminate_end_kills_parallel_siblings")

    case = engine.start("terminate_process", business_key="T-1")

    # The review task and the message wait were created first, then the terminate end ran.
    assert kinds(engine, case.id, HistoryKind.TASK_CREATED) == ["review"]
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "fork", "kill"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["review", "wait_reply"]
    assert case.active == ()
    assert engine.tasks(instance=case.id) == []
    assert engine.next_due() is None
    assert kinds(engine, case.id, HistoryKind.INSTANCE_COMPLETED) == [None]


def test_terminate_end_in_subprocess_ends_only_the_subprocess(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_terminate_end_in_subprocess_ends_only_the_subprocess")

    case = engine.start("terminate_sub")

    assert case.state is InstanceState.ACTIVE
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["inner"]
    assert engine.path(case.id) == [
        "start",
        "fork",
        "sub_start",
        "sub_fork",
        "sub_kill",
        "sub",
        "after_sub",
        "sub_branch_end",
    ]
    assert case.active == ("outer",)  # the sibling outside the subprocess lives on
    assert [t.node for t in engine.tasks(instance=case.id)] == ["outer"]
    roundtrip(engine, case.id)

    (outer,) = engine.tasks(instance=case.id)
    case = engine.complete(outer.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-2:] == ["outer", "outer_end"]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["inner"]
