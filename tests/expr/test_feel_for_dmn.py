"""FEEL behaviour the DMN layer depends on (each was a fix made for it).

* Names of DMN decisions and inputs often contain numbers and the word "of"
  ("Extra days case 1", "Years of Service"); they parse as one name.
* A null input does not match a boolean entry: a missing flag is not ``true``.
* Nested evaluations (a knowledge model called in a loop) share one work budget.
"""

from __future__ import annotations

from typing import Any

import pytest

from liucheng.errors import ExpressionError
from liucheng.expr.feel import FeelFunction, compile_feel, compile_unary_tests, evaluate_feel
from liucheng.expr.feel.clock import Budget


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("Extra days case 1 + 1", {"Extra days case 1": 5}, 6),
        ("max(case 1, case 3)", {"case 1": 5, "case 3": 7}, 7),
        ("decision A 2.1", {"decision A 2.1": "x"}, "x"),
        ("Years of Service * 2", {"Years of Service": 4}, 8),
        ("x instance of number", {"x": 1}, True),  # "of" after "instance" is still the operator
        ("[a, 1]", {"a": 0}, [0, 1]),
    ],
)
def test_names_with_numbers_and_of(text: str, variables: dict[str, Any], expected: Any) -> None:
    assert evaluate_feel(text, variables) == expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("true", None, False),
        ("false", None, False),
        ("not(true)", None, True),
        ("true", True, True),
        ("false", True, False),
    ],
)
def test_null_input_and_boolean_entries(text: str, value: Any, expected: bool) -> None:
    assert compile_unary_tests(text)(value, {}) is expected


def test_iteration_budget_spans_nested_evaluations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Budget, "LIMIT", 100)
    inner = compile_feel("count(for i in 1..40 return i)")
    bkm = FeelFunction("bkm", ("n",), 1, lambda n: inner({}))
    assert inner({}) == 40  # alone, well within the budget
    with pytest.raises(ExpressionError, match="result too large"):
        evaluate_feel("for j in 1..3 return bkm(j)", {"bkm": bkm})
    assert inner({}) == 40  # the next evaluation starts afresh
