"""Data objects are variables of the scope that declares them (engine/data.py): created with
their typed default when the process or subprocess starts, local to a subprocess, and refused
at deployment when their declarations cannot hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from liucheng import BpmnValidationError, Engine, HistoryKind, InstanceState, VariableTypeError

from .conftest import MODELS
from .steps import PERSIST, complete_at

Deploy = Callable[..., Engine]
SHANGHAI = ZoneInfo("Asia/Shanghai")

DEFAULTS = {
    "deposit": Decimal("50.00"),
    "visits": 3,
    "urgent": False,
    "valid_until": date(2026, 12, 31),
    "submitted_at": datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI),  # naive default: the zone's
    "tags": ["water", "kitchen"],
    "order_data": "as drawn",  # named "Order data", not a variable name: its id
    "engineer": None,  # declared without a default: exists, empty
}


@PERSIST
def test_data_objects_become_variables_of_their_scope(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_data_objects")
    case = engine.start("repair_visit", {"visits": 5})
    assert case.variables == {**DEFAULTS, "visits": 5}  # what the caller gives wins

    case = complete_at(engine, case.id, "review", {"engineer": "王工"}, persist=persist)
    assert case.active == ("inspect", "inspect_task")
    inst = engine.store.load(case.id)
    assert inst is not None
    (inner,) = [s for s in inst.scopes.values() if s.node == "inspect"]
    assert inner.variables == {"checklist": {"doors": False, "pipes": []}, "note": None}

    # ``note`` and ``checklist`` live in the subprocess; ``deposit`` in the process.
    changes = {"note": "pipes rusty", "checklist": {"doors": True}, "deposit": Decimal("80")}
    case = complete_at(engine, case.id, "inspect_task", changes, persist=persist)
    assert case.active == ("close",)
    expected = {**DEFAULTS, "visits": 5, "engineer": "王工", "deposit": Decimal("80")}
    assert case.variables == expected
    case = complete_at(engine, case.id, "close", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "review",
        "inspect_start",
        "inspect_task",
        "inspect_end",
        "inspect",
        "close",
        "end",
    ]

    created = [
        (e.element, e.variables)
        for e in engine.history(case.id)
        if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert created[0] == (None, DEFAULTS)  # the process's data objects, first of all
    assert created[1] == (None, {"visits": 5})
    assert ("inspect", {"checklist": {"doors": False, "pipes": []}, "note": None}) in created


def test_each_case_gets_its_own_default_containers(deploy: Deploy) -> None:
    engine = deploy("test_data_objects")
    first = engine.start("repair_visit")
    engine.set_variables(first.id, {"tags": ["gas"]})
    second = engine.start("repair_visit")
    assert second.variables["tags"] == ["water", "kitchen"]
    assert engine.instance(first.id).variables["tags"] == ["gas"]


def test_a_typed_data_object_refuses_a_wrong_value_from_outside(deploy: Deploy) -> None:
    engine = deploy("test_data_objects")
    case = engine.start("repair_visit")
    before = engine.instance(case.id).variables
    with pytest.raises(VariableTypeError, match="variable 'visits' must be a number"):
        engine.set_variables(case.id, {"visits": "three"})
    with pytest.raises(VariableTypeError, match="variable 'tags' must be a list of texts"):
        engine.complete(engine.tasks(instance=case.id)[0].id, {"tags": ["ok", 7]})
    assert engine.instance(case.id).variables == before
    assert [t.node for t in engine.tasks(instance=case.id)] == ["review"]


def test_declarations_that_cannot_hold_are_refused_at_deploy(engine: Engine) -> None:
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_data_objects_refused.bpmn")
    text = str(caught.value)
    assert "data object 'count': default 'many' is not a number (int or Decimal)" in text
    assert "data object 'when': default '31.12.2026' is not a date" in text
    assert (
        "data object 'note' declares variable 'amount' as text, but variable declaration "
        "'amount' of process 'refused' declares it as a number (int or Decimal)"
    ) in text
    assert "variable declaration 'size' of process 'refused': unknown type 'bigint'" in text
    assert "data object 'scan': default" in text  # a file reference has no default in a model
    assert "data object 'twin' and data object 'first' are both variable 'same'" in text
    assert engine.processes() == []
