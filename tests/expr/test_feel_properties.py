"""Property tests: FEEL arithmetic is Decimal arithmetic, comparisons are a total order on
numbers, junk never escapes as a non-ExpressionError, and printed trees reparse identically."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.errors import ExpressionError
from liucheng.expr.feel import compile_feel, compile_unary_tests
from liucheng.expr.feel import nodes as n
from liucheng.expr.feel.parser import KEYWORDS, parse_expression
from liucheng.expr.feel.values import CTX

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20)
decimals = decimals.map(lambda d: CTX.plus(d))


@FAST
@given(decimals, decimals)
def test_arithmetic_is_decimal_arithmetic(a: Decimal, b: Decimal) -> None:
    env = {"a": a, "b": b}
    assert compile_feel("a + b")(env) == CTX.add(a, b)
    assert compile_feel("a - b")(env) == CTX.subtract(a, b)
    assert compile_feel("a * b")(env) == CTX.multiply(a, b)
    expected = None if b == 0 else CTX.divide(a, b)
    assert compile_feel("a / b")(env) == expected


@FAST
@given(decimals, decimals)
def test_comparisons_are_consistent(a: Decimal, b: Decimal) -> None:
    env = {"a": a, "b": b}
    lt, eq, gt = (compile_feel(f"a {op} b")(env) for op in ("<", "=", ">"))
    assert [lt, eq, gt].count(True) == 1
    assert compile_feel("a <= b")(env) == (lt or eq)
    assert compile_feel("a != b")(env) == (not eq)
    assert compile_feel("a between b and b")(env) == eq
    assert compile_unary_tests("< b")(a, env) == lt


@FAST
@given(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False))
def test_host_numbers_compare_like_their_decimal_text(i: int, f: float) -> None:
    assert compile_feel("x = y")({"x": i, "y": Decimal(i)}) is True
    assert compile_feel("x = y")({"x": f, "y": Decimal(repr(f))}) is True


_PIECES = [*"()[]{}.,:;+-*/=<>!?@\"'`\\ \n1a0x_é中", *sorted(KEYWORDS), "..", "**", "not", "item"]
JUNK = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(JUNK)
def test_junk_raises_only_expression_errors(text: str) -> None:
    try:
        f = compile_feel(text)
    except ExpressionError:
        return
    with contextlib.suppress(ExpressionError):
        f({"x": Decimal(1), "a": [1, 2], "xs": {"a": 1}})


@settings(max_examples=300, deadline=None)
@given(JUNK)
def test_junk_unary_tests_raise_only_expression_errors(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        compile_unary_tests(text)(Decimal(1), {})


# -- printing and reparsing random trees ---------------------------------------------------------

names = st.sampled_from(["x", "y", "total", "item", "名字"]).map(n.Name)
literals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-999, max_value=999),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
).map(n.Literal)


def _extend(children: st.SearchStrategy[n.Node]) -> st.SearchStrategy[n.Node]:
    ops = st.sampled_from(["+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "and", "or"])
    return st.one_of(
        st.builds(n.Binary, ops, children, children),
        st.builds(n.Neg, st.one_of(names, st.builds(n.Binary, ops, children, children))),
        st.builds(n.If, children, children, children),
        st.builds(n.ListNode, st.lists(children, max_size=3).map(tuple)),
        st.builds(
            n.ContextNode,
            st.dictionaries(st.sampled_from(["a", "b c", "d"]), children, max_size=2).map(
                lambda d: tuple(d.items())
            ),
        ),
        st.builds(n.Path, st.one_of(names, st.builds(n.Path, names, st.just("b"))), st.just("a")),
        st.builds(n.Filter, names, children),
        st.builds(n.Between, children, children, children),
        st.builds(n.In, children, st.lists(children, min_size=1, max_size=2).map(tuple)),
        st.builds(n.InstanceOf, children, st.sampled_from(["number", "date and time", "list"])),
        st.builds(
            n.Call,
            st.sampled_from(["abs", "string length", "sum"]).map(n.Name),
            st.lists(children, max_size=2).map(tuple),
            st.just(()),
        ),
        st.builds(
            n.For,
            st.builds(n.Iteration, st.just("i"), children).map(lambda it: (it,)),
            children,
        ),
        st.builds(
            n.Quantified,
            st.sampled_from(["some", "every"]),
            st.builds(n.Iteration, st.just("i"), children).map(lambda it: (it,)),
            children,
        ),
        st.builds(n.RangeNode, children, children, st.booleans(), st.booleans()),
    )


trees = st.recursive(st.one_of(names, literals), _extend, max_leaves=8)


@settings(max_examples=120, deadline=None)
@given(trees)
def test_print_then_parse_is_identity(tree: n.Node) -> None:
    text = n.unparse(tree)
    assert parse_expression(text) == tree, text


@settings(max_examples=80, deadline=None)
@given(trees)
def test_random_trees_evaluate_without_crashing(tree: n.Node) -> None:
    env: dict[str, Any] = {"x": Decimal(2), "y": "s", "total": [1, 2], "item": {"a": 1}}
    with contextlib.suppress(ExpressionError):
        compile_feel(n.unparse(tree))(env)
