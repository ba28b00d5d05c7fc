"""Syntax errors name the offending offset; safety limits refuse hostile input cleanly."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from liucheng.errors import ExpressionError
from liucheng.expr.feel import compile_feel, evaluate_feel
from liucheng.expr.feel.clock import Budget


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("1 + * 2", 4),
        ("(1 + 2", 6),
        ('"abc', 0),
        ("x $ y", 2),
        ("[1, 2", 5),
        ("{a 1}", 3),
        ("{a: 1, a: 2}", 7),
        ("if x then 1", 11),
        ("for x in xs", 11),
        ("x instance of banana", 14),
        ('@"not a date"', 0),
        ("1 2", 2),
        ("`unterminated", 0),
        ("/* open", 0),
        ('"\\q"', 1),
        ("and", 0),
        ("x.", 2),
    ],
)
def test_syntax_error_positions(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_feel(text)
    assert info.value.position == position
    assert info.value.text == text


def test_leading_equals_keeps_positions_relative_to_expression() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_feel("=1 +")
    assert info.value.position == 3


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("nosuch(1)", "no function named 'nosuch'", 0),
        ("substring()", "substring() takes 2 to 3 arguments, 0 given", 0),
        ('upper case(text: "a")', "upper case() has no parameter 'text'", 0),
        ("(1)(2)", "this value is not a function", 3),
    ],
)
def test_modelling_mistakes_raise_at_evaluation(text: str, message: str, position: int) -> None:
    f = compile_feel(text)
    with pytest.raises(ExpressionError) as info:
        f({})
    assert info.value.message == message
    assert info.value.position == position


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    for text in ["(" * 10_000, "(" * 10_000 + "1" + ")" * 10_000, "-" * 10_000 + "1", "[" * 5000]:
        with pytest.raises(ExpressionError, match="nested"):
            compile_feel(text)


def test_long_operator_chains_are_refused() -> None:
    with pytest.raises(ExpressionError, match="nested"):
        compile_feel("1" + " + 1" * 5000)
    assert evaluate_feel("1" + " + 1" * 50) == D(51)


def test_text_length_limit() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        compile_feel("1" + " " * 100_001)


def test_range_too_large() -> None:
    with pytest.raises(ExpressionError, match="result too large") as info:
        evaluate_feel("for i in 1..2000000 return i")
    assert info.value.position == 0


def test_string_too_large() -> None:
    s = "x" * 600_000
    with pytest.raises(ExpressionError, match="result too large") as info:
        evaluate_feel("s + s", {"s": s})
    assert info.value.position == 2


def test_list_building_too_large() -> None:
    big = list(range(600_000))
    with pytest.raises(ExpressionError, match="result too large"):
        evaluate_feel("concatenate(xs, xs)", {"xs": big})


def test_iteration_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Budget, "LIMIT", 10_000)
    with pytest.raises(ExpressionError, match="result too large"):
        evaluate_feel("some a in 1..1000, b in 1..1000 satisfies false")
    assert evaluate_feel("some a in 1..10, b in 1..10 satisfies a * b = 100") is True


def test_runaway_recursion_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="recursed too deeply"):
        evaluate_feel("{y: function(g) g(g), r: y(function(h) h(h))}.r")


def test_catastrophic_regex_is_refused() -> None:
    assert evaluate_feel('matches(s, "(a|aa)*c")', {"s": "a" * 40}) is None
    assert evaluate_feel('matches(s, "(a*)*b")', {"s": "a" * 40}) is None
    assert evaluate_feel('matches(s, "(?=a)")', {"s": "a"}) is None
    assert evaluate_feel('matches(s, "(a)\\\\1")', {"s": "aa"}) is None
    assert evaluate_feel('matches(s, "a+")', {"s": "a" * 20_000}) is None


class Secret:
    password = "hunter2"

    def __init__(self) -> None:
        self.value = 1


@pytest.mark.parametrize(
    "text",
    [
        "obj.password",
        "obj.value",
        "obj.__class__",
        "obj.__dict__",
        "name.__class__",
        '"abc".upper',
        "xs.__len__",
        'date("2026-01-01").__class__',
        'date("2026-01-01").replace',
        "(function(a) a).call",
        "string length.__globals__",
    ],
)
def test_no_attribute_access_on_python_objects(text: str) -> None:
    env: dict[str, Any] = {"obj": Secret(), "name": "x", "xs": [1]}
    try:
        result = evaluate_feel(text, env)
    except ExpressionError:
        return
    assert result is None or result == [None]  # a path over a list maps over its items


def test_missing_names_are_null_and_never_raise() -> None:
    assert evaluate_feel("a.b.c") is None
    assert evaluate_feel("a + 1") is None
    assert evaluate_feel("a[1]") is None
    assert evaluate_feel("a > 1") is None
