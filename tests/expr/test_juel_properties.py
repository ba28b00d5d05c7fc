"""Property tests: generated integer and boolean expressions evaluate as the same tree does in
Python (with Java's remainder and EL's precedence); Decimal arithmetic is exact decimal128
arithmetic; numbers compare alike as int, Decimal and text; junk never escapes as anything but
an ExpressionError."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.errors import ExpressionError
from liucheng.expr.juel import compile_juel, compile_juel_expression
from liucheng.expr.juel.limits import DECIMAL
from liucheng.expr.juel.parser import RESERVED

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ENV = {"a": 7, "b": -3, "c": 0, "t": True, "f": False}


class Undefined(Exception):
    """The reference evaluation hit a remainder by zero: JUEL must raise too."""


# A tiny expression tree, rendered to JUEL and evaluated by Python as the reference.
@dataclass(frozen=True)
class Expr:
    op: str
    args: tuple[Any, ...]


_PREC = {"?": 0, "||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4}
_PREC.update({"+": 5, "-": 5, "*": 6, "%": 6})
_WORDS = {"||": "or", "&&": "and", "==": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "le"}
_WORDS.update({">=": "ge", "%": "mod", "!": "not"})


def java_rem(x: int, y: int) -> int:
    if y == 0:
        raise Undefined
    r = abs(x) % abs(y)
    return -r if x < 0 else r


def reference(e: Any) -> Any:
    if isinstance(e, bool | int):
        return e
    if isinstance(e, str):
        return ENV[e]
    op, args = e.op, e.args
    if op == "?":
        return reference(args[1]) if reference(args[0]) else reference(args[2])
    if op == "neg":
        return -reference(args[0])
    if op == "!":
        return not reference(args[0])
    if op == "&&":
        return reference(args[0]) and reference(args[1])
    if op == "||":
        return reference(args[0]) or reference(args[1])
    x, y = reference(args[0]), reference(args[1])
    return {
        "+": lambda: x + y,
        "-": lambda: x - y,
        "*": lambda: x * y,
        "%": lambda: java_rem(x, y),
        "==": lambda: x == y,
        "!=": lambda: x != y,
        "<": lambda: x < y,
        ">": lambda: x > y,
        "<=": lambda: x <= y,
        ">=": lambda: x >= y,
    }[op]()


def render(e: Any, words: bool, minimal: bool) -> str:
    """JUEL text for ``e``: fully parenthesised, or with only the brackets precedence needs."""
    if isinstance(e, bool):
        return "true" if e else "false"
    if isinstance(e, int):
        return str(e) if e >= 0 else f"({e})"
    if isinstance(e, str):
        return e
    op, args = e.op, e.args
    if op in ("neg", "!"):
        inner = render(args[0], words, minimal)
        if not (minimal and _atomic(args[0])):
            inner = f"({inner})"
        sign = "-" if op == "neg" else (_WORDS["!"] + " " if words else "!")
        return sign + inner
    if op == "?":
        cond, yes, no = (render(x, words, minimal) for x in args)
        if not minimal or _prec(args[0]) == 0:
            cond = f"({cond})"
        return f"{cond} ? {yes} : {no}" if minimal else f"({cond} ? ({yes}) : ({no}))"
    left, right = (render(x, words, minimal) for x in args)
    p = _PREC[op]
    if not minimal or _prec(args[0]) < p:
        left = f"({left})"
    if not minimal or _prec(args[1]) <= p:
        right = f"({right})"
    symbol = _WORDS.get(op, op) if words else op
    return f"{left} {symbol} {right}"


def _atomic(e: Any) -> bool:
    return not isinstance(e, Expr) or e.op in ("neg", "!")


def _prec(e: Any) -> int:
    return _PREC.get(e.op, 9) if isinstance(e, Expr) else 9


INT_LEAVES = st.integers(-50, 50) | st.sampled_from(["a", "b", "c"])
BOOL_LEAVES = st.booleans() | st.sampled_from(["t", "f"])


@st.composite
def int_exprs(draw: st.DrawFn, depth: int = 5) -> Any:
    """An integer-valued tree at most ``depth`` levels deep (so the fully parenthesised text
    stays within the nesting limit)."""
    kind = draw(st.sampled_from(["leaf", "binary", "neg", "choice"])) if depth else "leaf"
    if kind == "leaf":
        return draw(INT_LEAVES)
    if kind == "neg":
        return Expr("neg", (draw(int_exprs(depth - 1)),))
    if kind == "choice":
        cond = draw(bool_exprs(depth - 1))
        return Expr("?", (cond, draw(int_exprs(depth - 1)), draw(int_exprs(depth - 1))))
    op = draw(st.sampled_from("+-*%"))
    return Expr(op, (draw(int_exprs(depth - 1)), draw(int_exprs(depth - 1))))


@st.composite
def bool_exprs(draw: st.DrawFn, depth: int = 5) -> Any:
    """A boolean-valued tree: comparisons of integer trees, joined by ``&& || !``."""
    kind = draw(st.sampled_from(["leaf", "compare", "logic", "not"])) if depth else "leaf"
    if kind == "leaf":
        return draw(BOOL_LEAVES)
    if kind == "not":
        return Expr("!", (draw(bool_exprs(depth - 1)),))
    if kind == "logic":
        op = draw(st.sampled_from(["&&", "||"]))
        return Expr(op, (draw(bool_exprs(depth - 1)), draw(bool_exprs(depth - 1))))
    op = draw(st.sampled_from(["==", "!=", "<", ">", "<=", ">="]))
    return Expr(op, (draw(int_exprs(depth - 1)), draw(int_exprs(depth - 1))))


def agrees(tree: Any, words: bool, minimal: bool) -> None:
    text = render(tree, words, minimal)
    try:
        expected = reference(tree)
    except Undefined:
        for compiled in (compile_juel("${" + text + "}"), compile_juel_expression(text)):
            with pytest.raises(ExpressionError, match="division by zero"):
                compiled(ENV)
        return
    assert compile_juel("${" + text + "}")(ENV) == expected, text
    assert compile_juel_expression(text)(ENV) == expected, text


@FAST
@given(int_exprs(), st.booleans(), st.booleans())
def test_integer_expressions_agree_with_python(tree: Any, words: bool, minimal: bool) -> None:
    agrees(tree, words, minimal)


@FAST
@given(bool_exprs(), st.booleans(), st.booleans())
def test_boolean_expressions_agree_with_python(tree: Any, words: bool, minimal: bool) -> None:
    agrees(tree, words, minimal)


decimals = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=4
)


@FAST
@given(decimals, decimals)
def test_decimal_arithmetic_is_decimal128_arithmetic(x: Decimal, y: Decimal) -> None:
    env = {"x": x, "y": y}
    assert compile_juel("${x + y}")(env) == DECIMAL.add(x, y)
    assert compile_juel("${x - y}")(env) == DECIMAL.subtract(x, y)
    assert compile_juel("${x * y}")(env) == DECIMAL.multiply(x, y)
    if y:
        assert compile_juel("${x / y}")(env) == DECIMAL.divide(x, y)
    lt, eq, gt = (compile_juel(f"${{x {op} y}}")(env) for op in ("<", "==", ">"))
    assert [lt, eq, gt].count(True) == 1


@FAST
@given(st.integers(-(10**15), 10**15), st.integers(-(10**15), 10**15))
def test_numbers_compare_alike_as_int_decimal_and_text(i: int, j: int) -> None:
    forms = [i, Decimal(i), str(i)]
    expected = (i < j, i == j)
    for form in forms:
        env = {"x": form, "y": j}
        assert (compile_juel("${x < y}")(env), compile_juel("${x == y}")(env)) == expected
    assert compile_juel("${x == y}")({"x": str(i), "y": Decimal(i)}) is True


@FAST
@given(st.text(alphabet=st.characters(blacklist_characters="$#\\"), max_size=40))
def test_text_without_expressions_is_itself(text: str) -> None:
    assert compile_juel(text)({}) == text
    assert compile_juel(text + "${1}!")({}) == text + "1!"


_PIECES = [
    *"()[]{}.,:;?!+-*/%<>=&|'\"\\ \n1a0x_$#é中}",
    "${",
    "#{",
    "==",
    "&&",
    "1.5",
    "e3",
    *sorted(RESERVED),
    "execution",
    "getVariable",
    "vars",
    "now",
    "a",
    "xs",
]
JUNK = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)
JUNK_ENV: dict[str, Any] = {"a": 1, "x": "s", "xs": [1, Decimal(2)], "vars": {"a": None}}


@settings(max_examples=500, deadline=None)
@given(JUNK)
def test_junk_only_ever_raises_expression_error(text: str) -> None:
    for compile_ in (compile_juel, compile_juel_expression):
        try:
            fn = compile_(text)
        except ExpressionError as e:
            assert e.position is None or 0 <= e.position <= len(text)
            continue
        with contextlib.suppress(ExpressionError):
            fn(JUNK_ENV)


@settings(max_examples=300, deadline=None)
@given(JUNK)
def test_junk_inside_braces_only_ever_raises_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_juel("${" + text + "}")(JUNK_ENV)
