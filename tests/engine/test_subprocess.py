"""Embedded subprocesses: variable scopes, input/output mappings, nesting, parallel bodies.

Scoping follows Camunda: inner scopes see outer variables; setting a variable updates it where
it already lives, and a new one lands on the process scope unless an input mapping made it local
to the subprocess; output mappings copy values out when the subprocess completes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds, roundtrip


def test_subprocess_variable_scopes(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_subprocess_variable_scopes")
    case = engine.start("scopes", {"base": 3, "counter": 10})

    # The inner script tasks saw the outer variables; the new one landed on the process.
    assert case.variables == {"base": 3, "counter": 11, "doubled": 6}
    assert case.active == ("confirm", "sub")
    assert engine.path(case.id) == ["start", "sub_start", "double", "bump"]
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id, {"confirmed": 1})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"base": 3, "counter": 11, "doubled": 6, "confirmed": 1, "total": 18}
    assert engine.path(case.id) == [
        "start",
        "sub_start",
        "double",
        "bump",
        "confirm",
        "sub_end",
        "sub",
        "after",
        "done",
    ]


def test_subprocess_input_mapping_makes_variables_local(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_subprocess_input_mapping_makes_variables_local")
    case = engine.start("local_scope", {"counter": 5, "limit": 3})

    # ``counter`` inside is the subprocess's own (mapped to 0); ``left`` is new, so it is global.
    assert case.variables == {"counter": 5, "limit": 3, "left": Decimal(5)}
    assert "budget" not in case.variables
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id, {"counter": 7, "remark": "ok"})

    assert case.state is InstanceState.COMPLETED
    # The task updated the local counter; the output mapping copied it out as ``tries``.
    assert case.variables == {
        "counter": 5,
        "limit": 3,
        "left": Decimal(5),
        "remark": "ok",
        "tries": 7,
    }
    assert engine.path(case.id) == [
        "start",
        "attempts_start",
        "try_once",
        "note_budget",
        "inspect",
        "attempts_end",
        "attempts",
        "done",
    ]
    changed = [
        e.variables for e in engine.history(case.id) if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert changed[-1] == {"tries": 7}


def test_subprocess_camunda_input_output(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_subprocess_camunda_input_output")
    seen: list[dict[str, Any]] = []
    engine.register_service("peek", lambda variables: seen.append(variables))

    case = engine.start("camunda_scope", {"amount": 50})

    # A literal parameter is text; ``=...`` is an expression.
    assert seen == [{"amount": 50, "channel": "counter", "fee": Decimal(5)}]
    assert case.variables == {"amount": 50}
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id, {"channel": "window"})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"amount": 50, "handled_via": "window"}
    assert engine.path(case.id) == [
        "start",
        "handle_start",
        "peek",
        "serve",
        "handle_end",
        "handle",
        "done",
    ]


def test_nested_subprocesses(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_nested_subprocesses")
    case = engine.start("nested", {"a": 1})

    assert case.active == ("approve", "inner", "outer")
    assert case.variables == {"a": 1, "total": Decimal(123)}
    roundtrip(engine, case.id)

    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id, {"approved": True})

    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"a": 1, "total": Decimal(123), "approved": True}
    assert engine.path(case.id) == [
        "start",
        "outer_start",
        "inner_start",
        "sum",
        "approve",
        "inner_end",
        "inner",
        "outer_end",
        "outer",
        "done",
    ]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_STARTED) == [
        "start",
        "outer",
        "outer_start",
        "inner",
        "inner_start",
        "sum",
        "approve",
        "inner_end",
        "outer_end",
        "done",
    ]


def test_subprocess_completes_when_all_inner_tokens_end(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_subprocess_completes_when_all_inner_tokens_end")
    case = engine.start("parallel_inside")
    assert case.active == ("book_room", "order_food", "prepare", "send_invites")

    def complete(node: str) -> None:
        task = next(t for t in engine.tasks(instance=case.id) if t.node == node)
        engine.complete(task.id)
        roundtrip(engine, case.id)

    complete("send_invites")
    assert engine.instance(case.id).active == ("book_room", "order_food", "prepare")
    complete("book_room")
    assert engine.instance(case.id).active == ("join", "order_food", "prepare")
    assert "prepare" not in engine.path(case.id)

    complete("order_food")

    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "prepare_start",
        "split",
        "send_invites",
        "invited",
        "book_room",
        "order_food",
        "join",  # each token that arrived completed the join
        "join",
        "confirm",
        "confirmed",
        "prepare",
        "done",
    ]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == []
