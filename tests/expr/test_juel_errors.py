"""JUEL refusals: syntax errors and escape attempts name their offset in the whole attribute
text; runtime failures name the operator or name that failed; hostile sizes and nesting end in
an ExpressionError, never a RecursionError or a hang."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest

from liucheng.errors import ExpressionError
from liucheng.expr import compile_expression, compile_value
from liucheng.expr.juel import compile_juel, compile_juel_expression, evaluate_juel
from liucheng.expr.juel.limits import MAX_INT_BITS, MAX_LEN, MAX_NESTING, MAX_TEXT

VARS: dict[str, Any] = {
    "x": 1,
    "s": "abc",
    "xs": [1, 2],
    "m": {"k": 1},
    "d": dt.date(2026, 1, 31),
    "at": dt.datetime(2026, 1, 31, 9, 0, tzinfo=dt.UTC),
    "naive": dt.datetime(2026, 1, 31, 9, 0),
    "price": D("1.5"),
    "big": 2 ** (MAX_INT_BITS - 1),
    "long": "y" * 600_000,
    "obj": object(),
}


def error_of(text: str, variables: dict[str, Any] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_juel(text)(VARS if variables is None else variables)
    return info.value


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("${1 + * 2}", 6, "unexpected '*'"),
        ("${(1 + 2}", 8, "expected ')'"),
        ("${'abc}", 2, "string is never closed"),
        ("${x $ y}", 4, "unexpected '$'"),
        ("${}", 2, "empty"),
        ("${  }", 4, "empty"),
        ("${1 +}", 5, "expected a value"),
        ("${x", 0, "never closed"),
        ("Dear ${name", 5, "never closed"),
        ("ok #{x", 3, "'#{' is never closed"),
        ("${1 2}", 4, "unexpected '2'"),
        ("${a = 1}", 4, "'=='"),
        ("${a += 'b'}", 4, "+="),
        ("${x -> x}", 4, "lambda"),
        ("${a; b}", 3, "';'"),
        ("${{1, 2}}", 2, "set and map literals"),
        ("${a & b}", 4, "'&&'"),
        ("${a | b}", 4, "'||'"),
        ("${'\\n'}", 3, "invalid escape"),
        ("${x.}", 4, "property name"),
        ("${x[1}", 5, "expected ']'"),
        ("${x ? 1}", 7, "expected ':'"),
        ("${empty}", 7, "expected a value"),
        ("${div}", 2, "reserved word"),
        ("${x instanceof y}", 4, "unexpected 'instanceof'"),
        ("${instanceof}", 2, "reserved word"),
        ("${x # y}", 4, "unexpected character '#'"),
        ("${99999999999999999999e99999999999}", 2, "out of range"),
        ("${" + "9" * 1300 + "}", 2, "larger than"),
        ("${f(}", 4, "expected a value"),
        ("${s.length(}", 11, "expected a value"),
        ("${xs[0](1)}", 7, "unexpected '('"),
    ],
)
def test_syntax_errors_name_their_offset(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_juel(text)
    assert info.value.position == position
    assert message in info.value.message
    assert info.value.text == text


def test_bare_expression_errors_name_their_offset() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_juel_expression("amount > ")
    assert info.value.position == 9
    with pytest.raises(ExpressionError) as info:
        compile_juel_expression("a }")
    assert info.value.position == 2


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("${''.getClass()}", 5),
        ("${s.getClass().forName('java.lang.Runtime')}", 4),
        ("${execution.getClass().forName('java.lang.Runtime')}", 12),
        ("${x.__class__}", 4),
        ("${x.__class__.__mro__}", 4),
        ("${s._private}", 4),
        ("${s.__len__()}", 4),
        ("${xs.pop()}", 5),
        ("${m.clear()}", 4),
        ("${m.update(m)}", 4),
        ("${s.format(x)}", 4),
        ("${s.join(xs)}", 4),
        ("${s.replace('a', s)}", 4),
        ("${execution.setVariable('x', 1)}", 12),
        ("${execution.getVariables()}", 12),
        ("${execution.processBusinessKey}", 12),
        ("${execution}", 2),
        ("${execution['x']}", 11),
        ("${task.assignee.getClass()}", 16),
        ("${Runtime.getRuntime().exec('ls')}", 10),
        ("${T(java.lang.Runtime)}", 2),
        ("${fn:forName('x')}", 4),
        ("${eval('1')}", 2),
        ("${__import__('os')}", 2),
        ("${currentUser()}", 2),
        ("${now(1)}", 2),
        ("${variables:exec(x)}", 2),
        ("${variables:get(1 + 1)}", 16),
        ("${variables:get()}", 2),
        ("${variables:equals(x)}", 2),
        ("${execution.getVariable()}", 12),
    ],
)
def test_escape_attempts_are_refused_when_compiling(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_juel(text)
    assert info.value.position == position, info.value.message


def test_index_by_dunder_name_reads_data_only() -> None:
    assert compile_juel("${m['__class__']}")(VARS) is None  # a dict key, never an attribute
    assert "cannot index" in error_of("${s['__class__']}").message
    assert "no property" in error_of("${d['__class__']}").message


def test_host_objects_in_variables_expose_nothing() -> None:
    for text in ("${obj.x}", "${obj['x']}", "${obj.toString().x}", "${obj.size()}"):
        error = error_of(text)
        assert "value of type object" in error.message or "string" in error.message


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("${missing}", 2, "unknown property used in expression"),
        ("${x + missing}", 6, "'missing'"),
        ("${empty missing}", 8, "unknown property"),
        ("${missing.field}", 2, "unknown property"),
        ("${missing > 5}", 2, "unknown property"),
        ("${1 / 0}", 4, "division by zero"),
        ("${price div 0}", 8, "division by zero"),
        ("${1 % 0}", 4, "division by zero"),
        ("${price mod 0}", 8, "division by zero"),
        ("${'a' + 'b'}", 6, "adds numbers only"),
        ("${s + 1}", 4, "adds numbers only"),
        ("${true + 1}", 7, "cannot use true"),
        ("${xs + 1}", 5, "cannot use a list"),
        ("${s == 5}", 4, "cannot use 'abc' as an integer"),
        ("${'1.5' > 1}", 8, "decimal literal"),
        ("${1 == true}", 4, "cannot use true"),
        ("${x && true}", 2, "expected a boolean"),
        ("${true && x}", 10, "expected a boolean"),
        ("${!x}", 2, "expected a boolean"),
        ("${x ? 1 : 2}", 2, "expected a boolean"),
        ("${-s}", 2, "cannot use 'abc'"),
        ("${-xs}", 2, "cannot negate"),
        ("${d < at}", 4, "cannot compare a date with a date-time"),
        ("${at < naive}", 5, "cannot compare"),
        ("${xs < xs}", 5, "cannot compare a list"),
        ("${x.y}", 4, "cannot read property 'y' of an integer"),
        ("${xs.size}", 5, "list.size()"),
        ("${d.hour}", 4, "has no property 'hour'"),
        ("${s[0]}", 3, "cannot index a string"),
        ("${m[xs]}", 3, "cannot be a map key"),
        ("${xs[true]}", 4, "not a boolean"),
        ("${xs['a']}", 4, "cannot use 'a' as an integer"),
        ("${xs.get(5)}", 5, "outside a list"),
        ("${s.substring(2, 1)}", 4, "outside a text"),
        ("${s.length(1)}", 4, "takes 0 arguments"),
        ("${s.size()}", 4, "has no method size()"),
        ("${x.length()}", 4, "has no method length()"),
        ("${d.plusHours(1)}", 4, "has no method plusHours()"),
        ("${d.plusYears(99999)}", 4, "out of range"),
        ("${d.plusDays(99999999)}", 4, "out of range"),
        ("${m.missing.length()}", 12, "on null"),
        ("${s.contains(null)}", 4, "null"),
        ("${execution.getVariable(null)}", 12, "null"),
        ("${big * big}", 6, "bits"),
        ("${big + big}", 6, "bits"),
        ("${1e6000 * 1e6000}", 9, "out of range"),
        ("${x * 1.0E-6000 * 1.0E-6000}", 16, "out of range"),
        ("Dear ${missing}", 7, "unknown property"),
    ],
)
def test_runtime_errors_name_the_failing_operator(text: str, position: int, message: str) -> None:
    error = error_of(text)
    assert error.text == text
    assert error.position == position, error.message
    assert message in error.message


def test_division_by_zero_with_floats_is_an_error_not_infinity() -> None:
    assert "division by zero" in error_of("${r / 0}", {"r": 0.5}).message
    assert "out of range" in error_of("${r * r}", {"r": 1e300}).message


def test_errors_keep_the_element_when_the_engine_adds_it() -> None:
    error = error_of("${missing}").at_element("gateway_1")
    assert error.element == "gateway_1"
    assert error.position == 2
    assert "gateway_1" in str(error)


def test_compile_expression_and_compile_value_report_positions_in_the_whole_text() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_value("Dear ${name.getClass()}", "feel")
    assert info.value.position == 12
    with pytest.raises(ExpressionError) as info:
        compile_expression("${a ==}", "python")
    assert info.value.position == 6


# -- limits ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "${" + "(" * 5000 + "1" + ")" * 5000 + "}",
        "${" + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + "}",
        "${" + "xs[" * 500 + "0" + "]" * 500 + "}",
        "${" + "x ? " * 500 + "1" + " : 2" * 500 + "}",
        "${" + "s.substring(" * 500 + "0" + ")" * 500 + "}",
        "${" + "-(" * 500 + "1" + ")" * 500 + "}",
        "${" + "[" * 5000 + "}",
    ],
)
def test_deep_nesting_is_refused_cleanly(text: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_juel(text)
    assert "nested more than" in info.value.message or "unexpected" in info.value.message


def test_nesting_up_to_the_limit_works() -> None:
    depth = MAX_NESTING - 1
    assert compile_juel("${" + "(" * depth + "1" + ")" * depth + "}")({}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "${" + " + ".join(["x"] * 20_000) + "}",
        "${" + " && ".join(["true"] * 10_000) + "}",
        "${" + "-" * 20_000 + "x}",
        "${" + "!" * 20_001 + "false}",
        "${m" + ".k2" * 20_000 + "}",
        "${s" + ".toString()" * 5_000 + "}",
        "${x < 2" + " == true" * 5_000 + "}",
    ],
)
def test_long_flat_chains_do_not_recurse(text: str) -> None:
    compile_juel(text)(VARS)


def test_text_length_is_bounded() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        compile_juel("${" + "1+" * MAX_TEXT + "1}")
    with pytest.raises(ExpressionError, match="longer than"):
        compile_juel_expression("1" * (MAX_TEXT + 1))


def test_built_text_is_bounded() -> None:
    assert len(evaluate_juel("${long}${long}"[:7], VARS)) == 600_000
    with pytest.raises(ExpressionError, match=f"{MAX_LEN:,}"):
        evaluate_juel("${long}${long}", VARS)
    with pytest.raises(ExpressionError, match=f"{MAX_LEN:,}"):
        evaluate_juel("${items}!", {"items": ["y" * 1000] * 2000})


def test_deeply_nested_data_is_refused_when_written_as_text() -> None:
    deep: list[Any] = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(ExpressionError, match="nested"):
        evaluate_juel("value: ${deep}", {"deep": deep})


def test_string_with_many_escapes_is_read_in_linear_time() -> None:
    body = "\\'" * 40_000
    assert compile_juel("${'" + body + "'}")({}) == "'" * 40_000
