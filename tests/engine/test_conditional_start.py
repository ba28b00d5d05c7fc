"""Conditional start events of processes: ``Engine.evaluate_conditions`` starts a case at every
one whose condition holds for the variables given (as Camunda's ``evaluateStartConditions``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import (
    ConflictError,
    Engine,
    ExpressionError,
    HistoryKind,
    LiuchengError,
    VariableTypeError,
)

from .steps import PERSIST, complete_at

Deploy = Callable[..., Engine]


@PERSIST
def test_every_true_condition_starts_a_case(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_conditional_start")
    fault = {"cost": 6000, "kind": "gas", "smell": True}
    started = engine.evaluate_conditions(fault)
    assert [(c.process_id, c.active) for c in started] == [
        ("major_repair", ("approve_repair",)),
        ("gas_inspection", ("inspect",)),
        ("gas_inspection", ("evacuate",)),
    ]
    evacuation = started[2]
    assert [e.element for e in engine.history(evacuation.id)][:2] == [None, "emergency"]
    case = complete_at(engine, evacuation.id, "evacuate", persist=persist)
    assert case.variables == fault
    assert engine.path(case.id) == ["emergency", "evacuate", "evacuated"]


def test_a_case_per_holding_start_event_and_its_history(deploy: Deploy) -> None:
    engine = deploy("test_conditional_start")
    (repair, gas) = engine.evaluate_conditions({"cost": 6000, "kind": "gas"}, key="F-1")
    assert repair.process_id == "major_repair" and repair.business_key == "F-1"
    assert gas.process_id == "gas_inspection" and gas.active == ("inspect",)
    assert repair.variables == {"cost": 6000, "kind": "gas"}
    events = [(e.kind, e.element) for e in engine.history(repair.id)][:5]
    assert events == [
        (HistoryKind.INSTANCE_STARTED, None),
        (HistoryKind.CONDITION_MET, "costly"),
        (HistoryKind.VARIABLES_CHANGED, None),
        (HistoryKind.ELEMENT_STARTED, "costly"),
        (HistoryKind.ELEMENT_COMPLETED, "costly"),
    ]
    case = complete_at(engine, repair.id, "approve_repair", persist=True)
    assert engine.path(case.id) == ["costly", "approve_repair", "repair_end"]


def test_false_conditions_start_nothing(deploy: Deploy) -> None:
    engine = deploy("test_conditional_start")
    assert engine.evaluate_conditions({"cost": 100, "kind": "water"}) == []
    assert engine.evaluate_conditions({}) == []  # unknown names are null in FEEL: not true
    assert engine.instances() == []


def test_one_process_only(deploy: Deploy) -> None:
    engine = deploy("test_conditional_start")
    (case,) = engine.evaluate_conditions({"cost": 9000, "kind": "gas"}, process="major_repair")
    assert case.process_id == "major_repair"
    assert len(engine.instances()) == 1
    engine.deploy(
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        b'targetNamespace="t"><process id="plain" isExecutable="true"><startEvent id="s"/>'
        b"</process></definitions>"
    )
    with pytest.raises(LiuchengError, match="process 'plain' has no conditional start event"):
        engine.evaluate_conditions({"cost": 9000}, process="plain")


def test_a_business_key_names_one_case(deploy: Deploy) -> None:
    engine = deploy("test_conditional_start")
    with pytest.raises(ConflictError, match="2 conditional start events of process"):
        engine.evaluate_conditions({"cost": 9000, "kind": "gas", "smell": True}, key="F-9")
    assert engine.instances() == []  # checked before any case started
    engine.evaluate_conditions({"cost": 9000}, key="F-9")
    with pytest.raises(ConflictError, match="already has a case with business key 'F-9'"):
        engine.evaluate_conditions({"cost": 9000, "kind": "gas"}, key="F-9")
    assert len(engine.instances()) == 1


def test_declared_types_hold_for_the_processes_that_start(deploy: Deploy) -> None:
    engine = deploy("test_conditional_start")
    with pytest.raises(VariableTypeError, match="variable 'cost' must be a number"):
        engine.evaluate_conditions({"cost": 6000.5, "kind": "gas"})
    assert engine.instances() == []
    # a process whose condition does not hold does not judge the variables
    (gas,) = engine.evaluate_conditions({"cost": "unknown", "kind": "gas"})
    assert gas.process_id == "gas_inspection"


def test_a_condition_that_fails_starts_nothing(engine: Engine) -> None:
    engine.deploy(
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        b'targetNamespace="t"><process id="p" isExecutable="true"><startEvent id="s">'
        b"<conditionalEventDefinition><condition>= cost &gt; 1</condition>"
        b'</conditionalEventDefinition></startEvent></process><process id="q" '
        b'isExecutable="true"><startEvent id="s2"><conditionalEventDefinition>'
        b'<condition language="python">cost / zero &gt; 1</condition>'
        b"</conditionalEventDefinition></startEvent></process></definitions>"
    )
    with pytest.raises(ExpressionError, match="q/s2"):
        engine.evaluate_conditions({"cost": 5, "zero": 0})
    assert engine.instances() == []
