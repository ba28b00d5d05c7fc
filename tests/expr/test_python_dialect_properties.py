"""Property tests: the dialect computes what CPython computes on safe numbers, and no input text,
however malformed, makes it raise anything but ScriptError (an ExpressionError)."""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.errors import ExpressionError
from liucheng.expr.python_dialect import compile_python, compile_python_script

BIG = 1 << 4096


class _TooBig(Exception):
    """The reference evaluation made an int the sandbox would refuse."""


# A tree is ("num", value) | ("var", name) | ("neg", tree) | (op, tree, tree)
# | ("pow", tree, small_exponent) | ("cmp", op, tree, tree) | ("if", tree, tree, tree)
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
    "/": operator.truediv,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
}
VARIABLES = {"a": 7, "b": -3, "c": 2.5}

numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda f: round(f, 3)),
)
leaves = st.one_of(
    numbers.map(lambda v: ("num", v)), st.sampled_from(["a", "b", "c"]).map(lambda n: ("var", n))
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(st.sampled_from(sorted(_BINARY)), children, children),
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("pow"), children, st.integers(min_value=0, max_value=3)),
        st.tuples(st.just("cmp"), st.sampled_from(sorted(_COMPARE)), children, children),
        st.tuples(st.just("if"), children, children, children),
    )


trees = st.recursive(leaves, _extend, max_leaves=12)


def render(tree: Any) -> str:
    kind = tree[0]
    if kind == "num":
        return f"({tree[1]!r})"
    if kind == "var":
        return str(tree[1])
    if kind == "neg":
        return f"(-{render(tree[1])})"
    if kind == "pow":
        return f"({render(tree[1])} ** {tree[2]})"
    if kind == "cmp":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "if":
        return f"({render(tree[2])} if {render(tree[1])} else {render(tree[3])})"
    return f"({render(tree[1])} {kind} {render(tree[2])})"


def reference(tree: Any) -> Any:
    """What CPython computes, written out by hand (the tests do not eval either)."""
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "var":
        return VARIABLES[tree[1]]
    if kind == "neg":
        result = -reference(tree[1])
    elif kind == "pow":
        result = reference(tree[1]) ** tree[2]
    elif kind == "cmp":
        return _COMPARE[tree[1]](reference(tree[2]), reference(tree[3]))
    elif kind == "if":
        return reference(tree[2]) if reference(tree[1]) else reference(tree[3])
    else:
        result = _BINARY[kind](reference(tree[1]), reference(tree[2]))
    if isinstance(result, int) and not -BIG < result < BIG:
        raise _TooBig
    return result


@settings(max_examples=400, deadline=None)
@given(trees)
def test_arithmetic_matches_cpython(tree: Any) -> None:
    text = render(tree)
    try:
        expected: Any = reference(tree)
    except (ZeroDivisionError, TypeError, OverflowError, _TooBig) as e:
        expected = e
    try:
        actual = compile_python(text)(VARIABLES)
    except ExpressionError as e:
        assert isinstance(expected, Exception), (
            f"{text}: refused with {e}, CPython gives {expected!r}"
        )
        return
    assert not isinstance(expected, Exception), (
        f"{text}: gave {actual!r}, CPython raises {expected!r}"
    )
    assert type(actual) is type(expected)
    assert actual == expected or (actual != actual and expected != expected)


TOKENS = [
    "x", "s", "l", "d", "1", "0", "10**9", "'a'", "f'{x}'", "f'{x:>5}'", "+", "-", "*", "**", "/",
    "%", "<<", "(", ")", "[", "]", "{", "}", ".", ",", ":", "=", "==", "+=", "\n", "    ",
    "upper", "append", "__class__", "__globals__", "format", "join", "for", "in", "if", "else",
    "while", "True", "break", "lambda", "import", "os", "def", "del", "not", "and", "len",
    "range", "sorted", "datetime", "now", "getattr", "type", "\\", "#", "'", '"', "@", ";",
    "\x00", "é", "ｘ", "...", "yield", "global", "await", ":=",
]  # fmt: skip

junk = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=25).map("".join),
)


def _fresh() -> dict[str, Any]:
    return {"x": 3, "s": "ab", "l": [1, 2], "d": {"k": 1}}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk)
def test_junk_never_raises_anything_but_expression_errors(text: str) -> None:
    for compile_ in (compile_python, compile_python_script):
        try:
            compiled: Any = compile_(text)
        except ExpressionError:
            continue
        with contextlib.suppress(ExpressionError):
            compiled(_fresh())
