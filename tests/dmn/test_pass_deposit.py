"""P1 park vehicle access pass: the deposit, colour and expiry of a pass (PROCESSES.md).

External vehicles pay a 50 yuan deposit; group employees and guests pay none and their passes
never expire; a renewal carries the old deposit over.  Colours: external yellow, employees and
guests light green.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from liucheng.dmn import DmnEvaluationError, map_decision_result

from .conftest import load

MODEL = load("pass_deposit.dmn")


@pytest.mark.parametrize(
    ("variables", "deposit", "colour", "expires", "rule"),
    [
        ({"applicant_type": "external"}, D("50"), "yellow", True, "external_new"),
        ({"applicant_type": "external", "renewal": False}, D("50"), "yellow", True, "external_new"),
        (
            {"applicant_type": "external", "renewal": True},
            D("0"),
            "yellow",
            True,
            "external_renewal",
        ),
        ({"applicant_type": "employee"}, D("0"), "light green", False, "staff_and_guests"),
        (
            {"applicant_type": "guest", "renewal": True},
            D("0"),
            "light green",
            False,
            "staff_and_guests",
        ),
    ],
)
def test_every_rule(
    variables: dict[str, object], deposit: D, colour: str, expires: bool, rule: str
) -> None:
    result = MODEL.evaluate_detailed("pass_deposit", variables)
    assert result.value == {"deposit": deposit, "colour": colour, "expires": expires}
    assert result.matched_rule_ids == (rule,)


def test_deposit_is_exact_decimal_money() -> None:
    value = MODEL.evaluate("pass_deposit", {"applicant_type": "external"})
    assert type(value["deposit"]) is D


def test_unknown_applicant_type_is_refused() -> None:
    with pytest.raises(DmnEvaluationError, match="input 1 'Applicant type': value \"visitor\""):
        MODEL.evaluate("pass_deposit", {"applicant_type": "visitor"})


def test_deposit_to_collect_uses_the_required_decision() -> None:
    assert MODEL.evaluate("deposit_to_collect", {"applicant_type": "external"}) == D("50")
    assert MODEL.evaluate(
        "deposit_to_collect", {"applicant_type": "external", "deposit_held": D("50.00")}
    ) == D("0")
    assert MODEL.evaluate("deposit_to_collect", {"applicant_type": "guest"}) == D("0")


def test_camunda_result_mapping() -> None:
    result = MODEL.evaluate_detailed("pass_deposit", {"applicant_type": "external"})
    assert map_decision_result(result, "singleResult") == {
        "deposit": D("50"),
        "colour": "yellow",
        "expires": True,
    }
