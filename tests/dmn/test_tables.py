"""Decision-table behaviour other than hit policies: outputs, defaults, allowed values, how
entries read their input, and how host values are converted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.dmn import DmnEvaluationError

from .conftest import load


def test_several_outputs_give_a_dict_keyed_by_output_name() -> None:
    value = load("pass_deposit.dmn").evaluate("pass_deposit", {"applicant_type": "external"})
    assert value == {"deposit": D("50"), "colour": "yellow", "expires": True}


def test_defaults_fill_every_output_when_no_rule_matches() -> None:
    model = load("default_output.dmn")
    assert model.evaluate("shipping", {"zone": "far", "extra_days": 2}) == {
        "carrier": "post",
        "days": D("7"),  # a default is an expression: 5 + extra_days
        "tracking": None,  # no default: null
    }
    result = model.evaluate_detailed("shipping", {"zone": "local"})
    assert result.value == {"carrier": "courier", "days": D("1"), "tracking": True}


def test_defaults_of_a_multiple_hit_table_are_its_one_row() -> None:
    model = load("default_output.dmn")
    assert model.evaluate("shipping_options", {"zone": "far"}) == ["standard"]
    assert model.evaluate("shipping_options", {"zone": "local"}) == ["same day"]


def test_default_of_an_aggregation_is_the_value_itself() -> None:
    model = load("default_output.dmn")
    assert model.evaluate("surcharge_total", {"zone": "island"}) == D("35")
    # no rule matches: the default, as it is
    assert model.evaluate("surcharge_total", {"zone": "city"}) == D("0")


def test_input_values_refuse_a_value_outside_them_naming_the_input() -> None:
    model = load("allowed_values.dmn")
    assert model.evaluate("room", {"people": 200, "size": "L"}) == "hall"
    with pytest.raises(DmnEvaluationError) as err:
        model.evaluate("room", {"people": 201, "size": "L"})
    assert str(err.value) == (
        "allowed_values.dmn line 20, decision 'room', input 1 'People': value 201 is not one "
        "of the allowed input values ([1..200])"
    )


def test_allowed_values_of_input_data() -> None:
    with pytest.raises(DmnEvaluationError) as err:
        load("allowed_values.dmn").evaluate("room", {"people": 5, "size": "XL"})
    assert str(err.value) == (
        "allowed_values.dmn line 13, input data 'size_input': variable 'size': value \"XL\" "
        'is not one of the allowed values ("S","M","L") of type \'tSize\''
    )


def test_allowed_values_of_the_result() -> None:
    with pytest.raises(DmnEvaluationError, match=r'result: value "corridor" is not one of'):
        load("allowed_values.dmn").evaluate("room", {"people": 50, "size": "S"})


def test_null_is_always_allowed() -> None:
    assert load("allowed_values.dmn").evaluate("room", {"people": None}) is None


@pytest.mark.parametrize(
    ("word", "count", "kind"),
    [
        ("Hello", 1, "greeting"),  # camunda:inputVariable="word_in"
        ("Extraordinary", 1, "long"),  # ?
        ("cat", 500, "frequent"),  # cellInput, Camunda 7's default name
        ("cat", 1, "plain"),
    ],
)
def test_entries_read_their_input(word: str, count: int, kind: str) -> None:
    assert load("input_variable.dmn").evaluate("word_kind", {"word": word, "count": count}) == kind


def test_host_values_are_converted_once() -> None:
    model = load("hit_first.dmn")
    for total in (1000, 1000.0, D("1000"), 1000.00):
        assert model.evaluate("discount", {"customer": "x", "total": total}) == D("0.05")


def test_a_missing_flag_does_not_match_the_entry_true() -> None:
    model = load("pass_deposit.dmn")
    assert model.evaluate("pass_deposit", {"applicant_type": "external", "renewal": None}) == {
        "deposit": D("50"),
        "colour": "yellow",
        "expires": True,
    }


def test_evaluation_failures_name_the_cell() -> None:
    from liucheng.dmn import parse_dmn

    from .conftest import BROKEN

    model = parse_dmn(BROKEN / "runtime_failure.dmn", "runtime_failure.dmn")
    assert model.evaluate("a", {"x": -1}) == "negative"
    with pytest.raises(DmnEvaluationError) as err:
        model.evaluate("a", {"x": 1})
    assert str(err.value) == (
        "runtime_failure.dmn line 9, decision 'a', rule 2, output entry 1: "
        "expression 'unknown_fn(x)' at position 0: no function named 'unknown_fn'"
    )


def test_dates_flow_through() -> None:
    model = load("literal.dmn")
    issued = dt.date(2026, 1, 31)
    assert model.evaluate("pass_expiry", {"issued on": issued, "months": 1}) == dt.date(2026, 2, 27)
