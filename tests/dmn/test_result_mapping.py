"""``map_decision_result``: Camunda 7's ``camunda:mapDecisionResult`` modes."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from liucheng.dmn import DmnEvaluationError, map_decision_result

from .conftest import load


def test_single_entry() -> None:
    model = load("hit_unique.dmn")
    result = model.evaluate_detailed("dish", {"season": "Fall", "guests": 2})
    assert map_decision_result(result, "singleEntry") == "Spareribs"
    none = model.evaluate_detailed("dish", {"season": "Autumn", "guests": 2})
    assert map_decision_result(none, "singleEntry") is None


def test_single_entry_refuses_two_outputs() -> None:
    result = load("pass_deposit.dmn").evaluate_detailed("pass_deposit", {"applicant_type": "guest"})
    with pytest.raises(DmnEvaluationError, match="singleEntry needs one output per result"):
        map_decision_result(result, "singleEntry")


def test_single_result_refuses_two_results() -> None:
    result = load("hit_rule_order.dmn").evaluate_detailed("checks", {"amount": 1, "country": "DE"})
    with pytest.raises(DmnEvaluationError, match="singleResult needs at most one result"):
        map_decision_result(result, "singleResult")


def test_collect_entries_and_result_list() -> None:
    result = load("hit_collect.dmn").evaluate_detailed("fees", {"weight": 30, "express": False})
    assert map_decision_result(result, "collectEntries") == [D("5"), D("12.5")]
    assert map_decision_result(result) == [{"fee": D("5")}, {"fee": D("12.5")}]  # resultList


def test_aggregation_is_one_entry() -> None:
    result = load("hit_collect.dmn").evaluate_detailed("fee_total", {"weight": 30})
    assert map_decision_result(result, "singleEntry") == D("17.5")


def test_literal_expression_is_one_entry_named_after_its_variable() -> None:
    result = load("drg.dmn").evaluate_detailed("payment", {"amount": 120, "months": 12})
    assert map_decision_result(result, "resultList") == [{"Monthly payment": D("10")}]
    assert map_decision_result(result, "value") == D("10")


def test_unknown_mode() -> None:
    result = load("drg.dmn").evaluate_detailed("payment", {"amount": 1, "months": 1})
    with pytest.raises(DmnEvaluationError, match="unknown mapDecisionResult 'all'"):
        map_decision_result(result, "all")


def test_handler_for_the_engine() -> None:
    model = load("pass_deposit.dmn")
    decide = model.handler("pass_deposit", "singleResult")
    assert decide({"applicant_type": "guest"}) == {
        "deposit": D("0"),
        "colour": "light green",
        "expires": False,
    }
    assert model.handler("Pass deposit")({"applicant_type": "guest"})["colour"] == "light green"
    with pytest.raises(DmnEvaluationError, match="no decision 'nope'"):
        model.handler("nope")
    with pytest.raises(DmnEvaluationError, match="unknown mapDecisionResult 'single'"):
        model.handler("pass_deposit", "single")
