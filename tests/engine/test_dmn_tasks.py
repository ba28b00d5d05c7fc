"""DMN decisions deployed into the engine: business rule tasks in three dialects, ``decide``,
history, incidents, and the decisions surviving a restart of a durable engine."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from liucheng import Engine, HistoryKind, InstanceState, LiuchengError
from liucheng.api import Case
from liucheng.library import model_path

from .conftest import MODELS, kinds

DMN_MODELS = MODELS.parent.parent / "dmn" / "models"

Deploy = Callable[..., Engine]
EXTERNAL = {"deposit": Decimal("50"), "colour": "yellow", "expires": True}


def test_business_rule_tasks_store_results_by_dialect(deploy: Deploy) -> None:
    engine = deploy("test_business_rule_task_dmn")
    deployed = engine.deploy(model_path("pass_deposit.dmn"))
    assert [d.process_id for d in deployed] == ["pass_deposit", "deposit_to_collect"]
    case = engine.start("pass_terms", {"applicant_type": "external", "renewal": False})
    assert case.state is InstanceState.COMPLETED
    v = case.variables
    assert v["terms"] == EXTERNAL  # Camunda 7 singleResult: the one row as a dict
    assert v["deposit_only"] == Decimal("50")  # singleEntry of a literal decision
    assert v["zeebe_terms"] == EXTERNAL  # Zeebe: the decision's value as it is
    assert (v["deposit"], v["colour"], v["expires"]) == (Decimal("50"), "yellow", True)
    assert kinds(engine, case.id, HistoryKind.DECISION_EVALUATED) == [
        "terms_c7",
        "deposit_c7",
        "terms_zeebe",
        "terms_spiff",
    ]
    (event, *_) = [e for e in engine.history(case.id) if e.kind is HistoryKind.DECISION_EVALUATED]
    assert event.detail == "pass_deposit: external_new"


def test_single_entry_of_a_multi_output_table_is_an_incident(engine: Engine) -> None:
    model = (MODELS / "test_business_rule_task_dmn.bpmn").read_bytes()
    engine.deploy(model.replace(b'"deposit_to_collect"', b'"pass_deposit"'))
    engine.deploy(model_path("pass_deposit.dmn"))
    case = engine.start("pass_terms", {"applicant_type": "guest", "renewal": False})
    (incident,) = case.incidents
    assert incident.node == "deposit_c7" and "singleEntry" in incident.message


def test_unknown_decision_is_an_incident_until_deployed(deploy: Deploy) -> None:
    engine = deploy("test_business_rule_task_dmn")
    case = engine.start("pass_terms", {"applicant_type": "guest"})
    (incident,) = case.incidents
    assert incident.node == "terms_c7" and "no decision 'pass_deposit'" in incident.message


def test_decide_evaluates_a_deployed_decision(engine: Engine) -> None:
    engine.deploy(model_path("pass_deposit.dmn"))
    assert engine.decide("pass_deposit", {"applicant_type": "external", "renewal": False}) == (
        EXTERNAL
    )
    again = engine.deploy(model_path("pass_deposit.dmn"))
    assert not any(d.new for d in again)  # the same file again: no new version
    with pytest.raises(LiuchengError, match="no decision 'nope'"):
        engine.decide("nope", {})
    with pytest.raises(LiuchengError, match="Applicant type"):
        engine.decide("pass_deposit", {"applicant_type": "martian"})


def test_decisions_survive_a_restart(sqlite_store: object) -> None:
    from liucheng.runtime import SqlStore

    assert isinstance(sqlite_store, SqlStore)
    Engine(store=sqlite_store).deploy(model_path("pass_deposit.dmn"))
    reopened = Engine(store=sqlite_store)
    assert reopened.decide("pass_deposit", {"applicant_type": "guest"})["deposit"] == 0


def _flowable_case(deploy: Deploy, weight: int) -> tuple[Engine, Case]:
    """The Flowable decision tasks' process, started for a parcel of ``weight``."""
    engine = deploy("test_flowable_decision_task")
    engine.deploy(model_path("pass_deposit.dmn"))
    engine.deploy(DMN_MODELS / "hit_collect.dmn")
    variables = {"applicant_type": "external", "renewal": False, "weight": weight}
    return engine, engine.start("flowable_terms", {**variables, "express": False})


def test_flowable_decision_tasks_store_results_as_flowable_does(deploy: Deploy) -> None:
    engine, case = _flowable_case(deploy, weight=30)
    assert case.state is InstanceState.COMPLETED
    v = case.variables
    assert (v["deposit"], v["colour"], v["expires"]) == (Decimal("50"), "yellow", True)
    assert v["fees"] == [{"fee": Decimal("5")}, {"fee": Decimal("12.5")}]
    assert v["fee"] == Decimal("3")  # fee_min, a COLLECT MIN: one aggregated value
    assert kinds(engine, case.id, HistoryKind.DECISION_EVALUATED) == [
        "terms",
        "fee_list",
        "smallest",
    ]


def test_flowable_no_hits_error_is_an_incident(deploy: Deploy) -> None:
    _, case = _flowable_case(deploy, weight=0)
    (incident,) = case.incidents
    assert incident.node == "smallest"
    assert "decision 'fee_min' matched no rule" in incident.message


def test_flowable_decision_task_without_a_key_is_refused(engine: Engine) -> None:
    model = (MODELS / "test_flowable_decision_task.bpmn").read_bytes()
    with pytest.raises(LiuchengError, match="names no decisionTableReferenceKey"):
        engine.deploy(
            model.replace(b'name="decisionTableReferenceKey" stringValue', b'name="x" stringValue')
        )
