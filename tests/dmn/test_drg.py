"""Literal expressions, decision requirement graphs, knowledge models, boxed expressions and
decision services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.dmn import DmnEvaluationError

from .conftest import load


def test_literal_expression_decision() -> None:
    model = load("literal.dmn")
    value = model.evaluate("Pass expiry", {"issued on": dt.date(2026, 3, 1), "months": 12})
    assert value == dt.date(2027, 2, 28)
    result = model.evaluate_detailed("pass_expiry", {"issued on": dt.date(2026, 3, 1), "months": 6})
    assert result.entries == ({"Pass expiry": dt.date(2026, 8, 31)},)
    assert result.matched_rules == ()


def test_required_decisions_are_evaluated_first_and_seen_by_name() -> None:
    model = load("drg.dmn")
    inputs = {"income": 5000, "amount": 12000, "months": 12}
    result = model.evaluate_detailed("approval", inputs)
    assert result.value == "manual check"  # affordable (1000 <= 1500) but risk is high
    assert [r.decision_id for r in result.required] == ["affordable", "risk"]
    affordable, risk = result.required
    assert affordable.value is True and risk.value == "high"
    # "Monthly payment" is required twice but evaluated once: both see the same result
    assert affordable.required[0] is risk.required[0]
    assert model.evaluate("approval", {"income": 1000, "amount": 1200, "months": 12}) == (
        "approved"
    )
    assert model.evaluate("approval", {"income": 100, "amount": 1200, "months": 12}) == ("declined")


def test_required_inputs() -> None:
    assert load("drg.dmn").required_inputs("approval") == ["income", "amount", "months"]


def test_unknown_decision() -> None:
    with pytest.raises(DmnEvaluationError, match=r"no decision 'nope' in this model \(decisions: "):
        load("drg.dmn").evaluate("nope", {})


def test_knowledge_models_called_from_feel_and_by_invocation() -> None:
    model = load("bkm.dmn")
    inputs = {"vehicle": "truck", "days": 2}
    assert model.evaluate("daily_fee", inputs) == D("56.50")  # with VAT(25 * 2)
    assert model.evaluate("rate_by_invocation", inputs) == D("25")
    assert model.evaluate("gross", {"vehicle": "car"}) == D("11.30")  # a BKM that needs BKMs


def test_a_knowledge_model_is_only_visible_where_it_is_required() -> None:
    with pytest.raises(DmnEvaluationError, match="no function named 'with VAT'"):
        load("bkm.dmn").evaluate("no_requirement", {})


def test_boxed_context_builds_on_earlier_entries() -> None:
    model = load("boxed.dmn")
    quote = model.evaluate("quote", {"price": 3, "quantity": 4})
    assert (quote["net"], quote["lines"], quote["total"]) == (D("12"), D("24"), D("13.2"))
    assert model.evaluate("quote_total", {"price": 3, "quantity": 4}) == D("13")


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ("zones", [{"zone": "A", "price": D("10")}, {"zone": "B", "price": D("3")}]),
        ("numbers", [D("1"), D("4"), D("3")]),
        ("size", "retail"),
        ("big_numbers", [D("5"), D("12"), D("30")]),
        ("doubled", [D("2"), D("4"), D("6")]),
        ("any_big", True),
        ("all_positive", True),
    ],
)
def test_boxed_expressions(decision: str, expected: object) -> None:
    assert load("boxed.dmn").evaluate(decision, {"price": 3, "quantity": 4}) == expected


def test_decision_service_as_a_function_and_directly() -> None:
    model = load("decision_service.dmn")
    assert model.evaluate("letter", {}) == "Hello Li,"  # Greet(name, Salutation)
    assert model.evaluate("Greet", {"name": "Wang", "Salutation": "Hi"}) == "Hi Wang"
    # an input decision is a parameter: not given, it is null (and "Dear" is not computed)
    assert model.evaluate("Greet", {"name": "Wang"}) is None
    assert model.evaluate("greeting", {"name": "Wang"}) == "Dear Wang"


def test_model_lists_its_elements() -> None:
    model = load("pass_deposit.dmn")
    assert model.dmn_version == "1.3"
    assert {d.id: d.name for d in model.decisions.values()} == {
        "pass_deposit": "Pass deposit",
        "deposit_to_collect": "Deposit to collect",
    }
    assert [i.name for i in model.input_data.values()] == [
        "applicant_type",
        "renewal",
        "deposit_held",
    ]
