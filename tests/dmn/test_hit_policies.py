"""Each hit policy on a small table of its own (tests/dmn/models/hit_*.dmn)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from liucheng.dmn import DmnEvaluationError

from .conftest import load


@pytest.mark.parametrize(
    ("season", "guests", "dish"),
    [
        ("Fall", 8, "Spareribs"),
        ("Winter", 3, "Roastbeef"),
        ("Spring", 4, "Dry Aged Gourmet Steak"),
        ("Spring", 5, "Steak"),
        ("Winter", 9, "Stew"),
        ("Summer", 10, "Light Salad and a nice Steak"),
        ("Autumn", 2, None),  # no rule matches and there is no default: null
    ],
)
def test_unique(season: str, guests: int, dish: str | None) -> None:
    assert load("hit_unique.dmn").evaluate("dish", {"season": season, "guests": guests}) == dish


def test_unique_violation_names_the_rules() -> None:
    model = load("hit_unique.dmn")
    with pytest.raises(DmnEvaluationError) as err:
        model.evaluate("Dish", {"season": "Summer", "guests": 12})
    assert str(err.value) == (
        "hit_unique.dmn line 6, decision 'dish': hit policy UNIQUE allows one matching rule, "
        "but rules 6 (summer) and 7 (summer_party) match"
    )


@pytest.mark.parametrize(
    ("customer", "total", "discount", "rule"),
    [
        ("gold", 1500, D("0.15"), "gold_big"),  # rules 1, 2, 3 and 4 match: the first wins
        ("gold", 10, D("0.10"), "gold"),
        ("silver", 1000, D("0.05"), "big"),
        ("silver", 10.5, D("0"), "everyone"),
    ],
)
def test_first(customer: str, total: float, discount: D, rule: str) -> None:
    result = load("hit_first.dmn").evaluate_detailed(
        "discount", {"customer": customer, "total": total}
    )
    assert result.value == discount
    assert result.matched_rule_ids == (rule,)  # evaluation stops at the first match


@pytest.mark.parametrize(
    ("score", "amount", "decision"),
    [
        (750, 1000, "approved"),
        (750, 60000, "referred"),  # approved and referred match: referred ranks higher
        (450, 60000, "declined"),  # approved? no; referred and declined: declined
        (750, 2000000, "declined"),
        (600, 1000, None),
    ],
)
def test_priority(score: int, amount: int, decision: str | None) -> None:
    model = load("hit_priority.dmn")
    assert model.evaluate("Loan decision", {"score": score, "amount": amount}) == decision


def test_priority_keeps_all_matches_for_history() -> None:
    result = load("hit_priority.dmn").evaluate_detailed(
        "loan_decision", {"score": 750, "amount": 2000000}
    )
    assert result.value == "declined"
    assert result.matched_rule_ids == ("good_score", "large_amount", "huge_amount")
    assert result.entries == ({"decision": "declined"},)


def test_priority_refuses_an_output_outside_the_output_values() -> None:
    with pytest.raises(
        DmnEvaluationError,
        match=r"rule 5, output entry 1: output value "
        r'"maybe" is not one of the output values',
    ):
        load("hit_priority.dmn").evaluate("loan_decision", {"score": 0, "amount": 1})


@pytest.mark.parametrize(
    ("age", "flag", "allowed"),
    [(15, None, False), (15, "banned", False), (30, "ok", True), (30, "banned", False)],
)
def test_any_when_the_matches_agree(age: int, flag: str | None, allowed: bool) -> None:
    assert load("hit_any.dmn").evaluate("gym_access", {"age": age, "flag": flag}) is allowed


def test_any_with_disagreeing_matches_is_an_error() -> None:
    with pytest.raises(
        DmnEvaluationError,
        match=r"hit policy ANY needs matching rules to agree, "
        r"but rules 1 \(minor\) and 4 \(blocked_minor_is_wrong\) give different",
    ):
        load("hit_any.dmn").evaluate("gym_access", {"age": 15, "flag": "blocked"})


def test_collect_lists_the_outputs_in_rule_order() -> None:
    model = load("hit_collect.dmn")
    assert model.evaluate("fees", {"weight": 120, "express": True}) == [5, D("12.5"), 8, 12]
    assert model.evaluate("fees", {"weight": 1, "express": False}) == [5]


@pytest.mark.parametrize(
    ("decision", "weight", "value"),
    [
        ("fee_total", 120, D("37.5")),  # 5 + 12.5 + 8 + 120 * 0.1
        ("fee_min", 50, D("3")),
        ("fee_max", 50, D("9")),
        ("fee_count", 50, D("3")),  # counts matches, not distinct values (5, 5, 9)
        ("fee_min", -1, None),  # nothing matched
        ("fee_max", -1, None),
        ("fee_count", -1, D("0")),
    ],
)
def test_collect_aggregations(decision: str, weight: int, value: D | None) -> None:
    model = load("hit_collect.dmn")
    assert model.evaluate(decision, {"weight": weight, "express": True}) == value


def test_rule_order_with_two_outputs() -> None:
    result = load("hit_rule_order.dmn").evaluate_detailed(
        "checks", {"amount": 20000, "country": "DE"}
    )
    assert result.value == [
        {"check": "customs", "department": "logistics"},
        {"check": "approval", "department": "finance"},
        {"check": "record", "department": "archive"},
    ]
    assert result.matched_rule_ids == ("foreign", "large", "always")


def test_output_order_sorts_by_output_values_then_rule_order() -> None:
    result = load("hit_output_order.dmn").evaluate("alerts", {"temperature": 65})
    assert result == [
        {"level": "critical", "message": "hot"},
        {"level": "warning", "message": "warm"},
        {"level": "warning", "message": "very warm"},
        {"level": "info", "message": "reading 65"},
    ]
