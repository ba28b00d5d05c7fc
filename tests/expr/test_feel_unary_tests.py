"""DMN input entries (unary tests): which inputs each entry matches."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from liucheng.errors import ExpressionError
from liucheng.expr.feel import compile_unary_tests

ROWS: list[tuple[str, Any, bool]] = [
    ("-", None, True),
    ("-", "anything", True),
    ('"a"', "a", True),
    ('"a"', "b", False),
    ('"a","b"', "b", True),
    ('"a", "b"', "c", False),
    ("< 10", 5, True),
    ("< 10", 10, False),
    ("<= 10", 10, True),
    ("> 3", D("3.5"), True),
    (">= 3", 2, False),
    ("[1..5]", 5, True),
    ("[1..5]", 1, True),
    ("(1..5]", 1, False),
    ("[1..5)", 5, False),
    ("]1..5[", 3, True),
    ('not("a","b")', "c", True),
    ('not("a","b")', "a", False),
    ("not(< 5)", 7, True),
    ("? > 3", 4, True),
    ("? > 3", 2, False),
    ('starts with(?, "ab")', "abc", True),
    ("5", 5, True),
    ("5", D("5.0"), True),
    ("5", "5", False),
    ("null", None, True),
    ("null", 1, False),
    ("< 10", None, False),
    ("not(< 10)", None, False),
    ("limit", 7, True),
    ("< limit", 6, True),
    ("[1, 2, 3]", 2, True),
    ('date("2026-01-01")', "2026-01-01", False),
    ('[date("2026-01-01")..date("2026-12-31")]', None, False),
    ("true", True, True),
    ("false", True, False),
    ("> 3, < 0", -1, True),
    ("not(x)", "a", False),
]


@pytest.mark.parametrize(("text", "value", "expected"), ROWS, ids=[f"{r[0]}|{r[1]}" for r in ROWS])
def test_unary_tests(text: str, value: Any, expected: bool) -> None:
    assert compile_unary_tests(text)(value, {"limit": 7, "x": "a"}) is expected


def test_dates_in_ranges() -> None:
    import datetime as dt

    t = compile_unary_tests('[date("2026-01-01")..date("2026-12-31")]')
    assert t(dt.date(2026, 6, 1), {}) is True
    assert t(dt.date(2027, 1, 1), {}) is False


@pytest.mark.parametrize(("text", "position"), [("< ", 2), ('"a",', 4), ("[1..", 4), ("not(1", 5)])
def test_syntax_errors_have_positions(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_unary_tests(text)
    assert info.value.position == position
