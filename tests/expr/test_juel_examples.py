"""Example tables: one row per behaviour of JUEL (EL 2.2) as Camunda 7, Flowable and Activiti
models use it, grouped by feature; then the wiring into ``liucheng.expr``."""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng.errors import ExpressionError
from liucheng.expr import (
    FEEL,
    JUEL,
    PYTHON,
    compile_expression,
    compile_value,
    language_name,
)
from liucheng.expr.clock import CLOCK
from liucheng.expr.feel import YearsMonthsDuration
from liucheng.expr.juel import compile_juel, compile_juel_expression, evaluate_juel

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 1, 30, 9, 30, tzinfo=SH)

VARS: dict[str, Any] = {
    "amount": 1500,
    "price": D("120.50"),
    "rate": 0.5,
    "n": 3,
    "type": "external",
    "name": "Liu",
    "approved": True,
    "rejected": False,
    "flag": "TRUE",
    "five": "5",
    "half": "0.5",
    "blank": "",
    "pad": "  x \t\n",
    "nothing": None,
    "xs": [1, 5, 7],
    "names": ["wang", "li"],
    "none": [],
    "order": {"id": "A-1", "total": D("99.90"), "lines": [{"sku": "p1"}], "div": 4},
    "empty_map": {},
    "day": dt.date(2026, 1, 31),
    "at": dt.datetime(2026, 1, 31, 18, 45, 10, tzinfo=SH),
    "clock": dt.time(8, 15),
    "span": dt.timedelta(days=2, seconds=30),
    "term": YearsMonthsDuration(14),
    "金额": 2000,
    "$legacy": 1,
}


def cases(*rows: tuple[str, Any]) -> Any:
    return pytest.mark.parametrize(("text", "expected"), rows, ids=[r[0] for r in rows])


def check(text: str, expected: Any) -> None:
    token = CLOCK.set(lambda: NOW)
    try:
        result = evaluate_juel(text, VARS)
    finally:
        CLOCK.reset(token)
    assert result == expected
    assert type(result) is type(expected)


@cases(
    ("${1}", 1),
    ("${0}", 0),
    ("${1.50}", D("1.50")),
    ("${.5}", D("0.5")),
    ("${1e3}", D("1E+3")),
    ("${2.5E-1}", D("0.25")),
    ("${-3}", -3),
    ("${-2.5}", D("-2.5")),
    ("${'single'}", "single"),
    ('${"double"}', "double"),
    ("${'it\\'s'}", "it's"),
    ('${"say \\"hi\\""}', 'say "hi"'),
    ("${'back\\\\slash'}", "back\\slash"),
    ("${'a}b'}", "a}b"),
    ("${'中文'}", "中文"),
    ("${true}", True),
    ("${false}", False),
    ("${null}", None),
    ("${123456789012345678901234567890}", 123456789012345678901234567890),
)
def test_literals(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("${1 + 2}", 3),
    ("${7 - 10}", -3),
    ("${6 * 7}", 42),
    ("${7 / 2}", 3.5),
    ("${6 div 2}", 3.0),
    ("${7 % 3}", 1),
    ("${-7 % 3}", -1),
    ("${7 % -3}", 1),
    ("${7 mod 3}", 1),
    ("${1 + 2 * 3}", 7),
    ("${(1 + 2) * 3}", 9),
    ("${10 - 4 - 3}", 3),
    ("${2 * 3 % 4}", 2),
    ("${- -2}", 2),
    ("${-(1 + 2)}", -3),
    ("${0.1 + 0.2}", D("0.3")),
    ("${price + 1}", D("121.50")),
    ("${price * 2}", D("241.00")),
    ("${price * 1.1}", D("132.550")),
    ("${price - order.total}", D("20.60")),
    ("${price / 2}", D("60.25")),
    ("${price / 3}", D("40.16666666666666666666666666666667")),
    ("${price % 100}", D("20.50")),
    ("${rate * 2}", 1.0),
    ("${rate + 1}", 1.5),
    ("${rate * 1.5}", D("0.75")),
    ("${amount * 2}", 3000),
    ("${five + 1}", 6),
    ("${half + 1}", 1.5),
    ("${five * price}", D("602.50")),
    ("${nothing + 1}", 1),
    ("${nothing + nothing}", 0),
    ("${blank + 1}", 1),
    ("${-nothing}", 0),
    ("${-five}", -5),
    ("${-half}", -0.5),
    ("${5.0 % 3}", D("2.0")),
    ("${rate % 0.3}", D("0.2")),
    ("${7.5 div 2.5}", D("3")),
    ("${金额 + 1}", 2001),
    ("${$legacy}", 1),
)
def test_arithmetic(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("${amount > 1000}", True),
    ("${amount gt 1000}", True),
    ("${amount < 1000}", False),
    ("${amount lt 1000}", False),
    ("${amount >= 1500}", True),
    ("${amount ge 1501}", False),
    ("${amount <= 1500}", True),
    ("${amount le 1499}", False),
    ("${amount == 1500}", True),
    ("${amount eq 1500}", True),
    ("${amount != 1500}", False),
    ("${amount ne 1}", True),
    ("${price > 100}", True),
    ("${price == 120.5}", True),
    ("${price == 120.50}", True),
    ("${price > 120.499}", True),
    ("${rate == 0.5}", True),
    ("${rate < 1}", True),
    ("${five == 5}", True),
    ("${5 == five}", True),
    ("${five > 4}", True),
    ("${five < 10}", True),
    ("${half == 0.5}", True),
    ("${'5' == '5.0'}", False),
    ("${'abc' < 'abd'}", True),
    ("${'b' > 'abc'}", True),
    ("${type == 'external'}", True),
    ('${type eq "external"}', True),
    ("${type != 'internal'}", True),
    ("${approved == true}", True),
    ("${flag == true}", True),
    ("${'yes' == true}", False),
    ("${approved == 'true'}", True),
    ("${nothing == null}", True),
    ("${nothing != null}", False),
    ("${nothing == 0}", False),
    ("${nothing < 1}", False),
    ("${nothing > 1}", False),
    ("${nothing <= nothing}", True),
    ("${null == null}", True),
    ("${xs == xs}", True),
    ("${order.lines == order.lines}", True),
    ("${day == day.plusDays(0)}", True),
    ("${day > day.minusDays(1)}", True),
    ("${true > false}", True),
    ("${day == '2026-01-31'}", True),
    ("${1 < 2 == true}", True),
)
def test_comparisons(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("${approved && !rejected}", True),
    ("${approved and not rejected}", True),
    ("${rejected || approved}", True),
    ("${rejected or rejected}", False),
    ("${approved && rejected}", False),
    ("${flag && approved}", True),
    ("${'false' || blank}", False),
    ("${nothing && approved}", False),
    ("${!nothing}", True),
    ("${!!approved}", True),
    ("${not not not approved}", False),
    ("${rejected && missing_is_not_read}", False),
    ("${approved || missing_is_not_read}", True),
    ("${approved && approved && !rejected && flag}", True),
    ("${rejected || rejected || rejected}", False),
    ("${rejected || rejected || approved}", True),
    ("${amount > 1000 && type == 'external'}", True),
    ("${amount > 1000 and type eq 'internal'}", False),
    ("${approved ? 'yes' : 'no'}", "yes"),
    ("${rejected ? 'yes' : 'no'}", "no"),
    ("${flag ? 1 : 2}", 1),
    ("${nothing ? 1 : 2}", 2),
    ("${rejected ? 1 : approved ? 2 : 3}", 2),
    ("${approved ? amount : missing}", 1500),
    ("${amount > 2000 ? 'big' : amount > 1000 ? 'medium' : 'small'}", "medium"),
)
def test_logic(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("${empty nothing}", True),
    ("${empty blank}", True),
    ("${empty none}", True),
    ("${empty empty_map}", True),
    ("${empty xs}", False),
    ("${empty name}", False),
    ("${empty 0}", False),
    ("${empty rejected}", False),
    ("${!empty xs}", True),
    ("${not empty names}", True),
    ("${empty order.missing}", True),
    ("${empty order.lines}", False),
)
def test_empty(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("${order.id}", "A-1"),
    ("${order['id']}", "A-1"),
    ('${order["total"]}', D("99.90")),
    ("${order.lines[0].sku}", "p1"),
    ("${order['lines'][0]['sku']}", "p1"),
    ("${order.missing}", None),
    ("${order.missing.deeper}", None),
    ("${nothing.anything}", None),
    ("${nothing[0]}", None),
    ("${xs[0]}", 1),
    ("${xs[2]}", 7),
    ("${xs['1']}", 5),
    ("${xs[1.9]}", 5),
    ("${xs[3]}", None),
    ("${xs[-1]}", None),
    ("${xs[null]}", None),
    ("${xs[n - 1]}", 7),
    ("${order.div}", 4),
    ("${day.year}", 2026),
    ("${day.month}", 1),
    ("${day.day}", 31),
    ("${day.dayOfWeek}", 6),
    ("${day['year']}", 2026),
    ("${at.hour}", 18),
    ("${at.minute}", 45),
    ("${at.dayOfYear}", 31),
    ("${clock.hour}", 8),
    ("${span.days}", 2),
    ("${term.years}", 1),
    ("${term.months}", 2),
)
def test_property_and_index_access(text: str, expected: Any) -> None:
    check(text, expected)


def test_maps_other_than_dict_are_read_by_key() -> None:
    scopes = ChainMap({"local": 1}, {"order": ChainMap({"id": "B"})})
    assert compile_juel("${order.id}")(scopes) == "B"
    assert compile_juel("${order.size()}")(scopes) == 1


@cases(
    ("${execution.getVariable('amount')}", 1500),
    ('${execution.getVariable("type") == "external"}', True),
    ("${execution.getVariable('missing')}", None),
    ("${execution.getVariable('missing') == null}", True),
    ("${execution.getVariable('order').lines[0].sku}", "p1"),
    ("${execution.getVariableLocal('amount')}", 1500),
    ("${execution.hasVariable('amount')}", True),
    ("${execution.hasVariable('missing')}", False),
    ("${execution.hasVariableLocal('nothing')}", True),
    ("${execution.getVariable(type == 'external' ? 'name' : 'n')}", "Liu"),
    ("${variables:get(missing)}", None),
    ("${variables:get(amount)}", 1500),
    ("${vars:get('amount')}", 1500),
    ("${var:getOrDefault(missing, 'none')}", "none"),
    ("${var:getOrDefault(amount, 0)}", 1500),
    ("${variables:exists(nothing)}", True),
    ("${variables:exists(missing)}", False),
    ("${variables:isEmpty(missing)}", True),
    ("${variables:isNotEmpty(names)}", True),
    ("${variables:equals(type, 'external')}", True),
    ("${variables:eq(missing, 'x')}", False),
    ("${variables:notEquals(type, 'external')}", False),
    ("${variables:greaterThan(amount, 1000)}", True),
    ("${variables:lt(amount, 1000)}", False),
    ("${variables:gte(amount, 1500)}", True),
    ("${variables:lowerThanOrEquals(missing, 1)}", False),
    ("${variables:contains(names, 'wang', 'li')}", True),
    ("${variables:contains(names, 'wang', 'zhao')}", False),
    ("${variables:containsAny(names, 'zhao', 'li')}", True),
    ("${variables:contains(name, 'iu')}", True),
    ("${variables:contains(missing, 'x')}", False),
    ("${rejected ? vars : n}", 3),  # "vars :" before a name without "(" is no function
)
def test_engine_names(text: str, expected: Any) -> None:
    check(text, expected)


def test_get_variable_local_reads_the_innermost_scope() -> None:
    scopes = ChainMap({"inner": 1}, {"outer": 2})
    assert compile_juel("${execution.getVariableLocal('outer')}")(scopes) is None
    assert compile_juel("${execution.getVariable('outer')}")(scopes) == 2
    assert compile_juel("${execution.hasVariableLocal('inner')}")(scopes) is True
    assert compile_juel("${execution.hasVariableLocal('outer')}")(scopes) is False


@cases(
    ("${name.length()}", 3),
    ("${blank.isEmpty()}", True),
    ("${name.toUpperCase()}", "LIU"),
    ("${name.toLowerCase()}", "liu"),
    ("${pad.trim()}", "x"),
    ("${type.contains('tern')}", True),
    ("${type.startsWith('ex')}", True),
    ("${type.endsWith('nal')}", True),
    ("${type.indexOf('t')}", 2),
    ("${type.indexOf('z')}", -1),
    ("${type.substring(2)}", "ternal"),
    ("${type.substring(0, 2)}", "ex"),
    ("${type.equals('external')}", True),
    ("${five.equals(5)}", False),
    ("${type.equalsIgnoreCase('EXTERNAL')}", True),
    ("${'abc'.length()}", 3),
    ("${amount.toString()}", "1500"),
    ("${approved.toString()}", "true"),
    ("${approved.equals(true)}", True),
    ("${xs.size()}", 3),
    ("${xs.isEmpty()}", False),
    ("${xs.contains(5)}", True),
    ("${xs.contains('5')}", False),
    ("${names.contains(name.toLowerCase())}", False),
    ("${names.contains('li')}", True),
    ("${names.indexOf('li')}", 1),
    ("${xs.get(0)}", 1),
    ("${order.size()}", 4),
    ("${order.containsKey('id')}", True),
    ("${order.containsKey('nope')}", False),
    ("${order.get('id')}", "A-1"),
    ("${order.containsValue('A-1')}", True),
    ("${empty_map.isEmpty()}", True),
    ("${day.plusDays(1)}", dt.date(2026, 2, 1)),
    ("${day.plusMonths(1)}", dt.date(2026, 2, 28)),
    ("${day.plusYears(-2)}", dt.date(2024, 1, 31)),
    ("${day.minusWeeks(1)}", dt.date(2026, 1, 24)),
    ("${day.isBefore(day.plusDays(1))}", True),
    ("${day.isAfter(day.plusDays(1))}", False),
    ("${at.plusHours(6)}", dt.datetime(2026, 2, 1, 0, 45, 10, tzinfo=SH)),
    ("${at.minusMinutes(45).minute}", 0),
    ("${at.plusSeconds(50).second}", 0),
    ("${now()}", NOW),
    ("${dateTime()}", NOW),
    ("${dateTime().plusDays(2).toDate()}", dt.datetime(2026, 2, 1, 9, 30, tzinfo=SH)),
    ("${now().plusMonths(1).day}", 28),
    ("${now() < at}", True),
)
def test_methods_and_functions(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("plain text", "plain text"),
    ("", ""),
    ("Dear ${name}, pass ${amount}", "Dear Liu, pass 1500"),
    ("#{name}-#{n}", "Liu-3"),
    ("${name}${n}", "Liu3"),
    ("${name} ", "Liu"),
    ("\n  ${amount}\n", 1500),
    ("${approved}", True),
    ("ok: ${approved}", "ok: true"),
    ("${nothing}", None),
    ("[${nothing}]", "[]"),
    ("${rate * 2}/${price}", "1.0/120.50"),
    ("${xs}", [1, 5, 7]),
    ("xs=${xs}", "xs=[1, 5, 7]"),
    ("${order.lines} ${names}", "[{sku=p1}] [wang, li]"),
    ("on ${day}", "on 2026-01-31"),
    ("price \\${price} is ${price}", "price ${price} is 120.50"),
    ("\\#{x}", "#{x}"),
    ("cost $ and # { } alone", "cost $ and # { } alone"),
    ("${'}'}", "}"),
    ("finance,${type}", "finance,external"),
)
def test_composite_text(text: str, expected: Any) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (3.0, "3.0"),
        (0.001, "0.001"),
        (-0.5, "-0.5"),
        (1e7, "1.0E7"),
        (1.5e-4, "1.5E-4"),
        (0.0, "0.0"),
    ],
)
def test_floats_are_written_as_java_writes_them(value: float, java: str) -> None:
    assert evaluate_juel("${v}!", {"v": value}) == java + "!"


# -- wiring into liucheng.expr ------------------------------------------------------------------
def test_language_name_knows_juel_and_reads_xpath_as_juel() -> None:
    assert language_name("juel") == JUEL == "juel"
    assert language_name(" JUEL ") == "juel"
    assert language_name("http://www.w3.org/1999/XPath") == "juel"
    assert language_name(None) is None
    with pytest.raises(ExpressionError, match="not supported"):
        language_name("javascript")


@pytest.mark.parametrize("language", [FEEL, PYTHON, JUEL])
def test_dollar_brace_text_is_juel_whatever_the_language(language: str) -> None:
    condition = compile_expression("${amount > 1000 && type == 'external'}", language)
    assert condition(VARS) is True
    assert compile_expression("  #{approved}\n", language)(VARS) is True
    assert compile_value("${amount}", language)(VARS) == 1500


def test_bare_text_is_a_juel_expression_when_the_language_is_juel() -> None:
    assert compile_expression("amount > 1000 and not rejected", JUEL)(VARS) is True
    assert compile_juel_expression("xs[1] + 1")(VARS) == 6
    assert compile_expression("amount > 1000", FEEL)(VARS) is True  # FEEL still FEEL


def test_compile_value_keeps_literals_and_renders_composites() -> None:
    assert compile_value("finance", FEEL)(VARS) == "finance"
    assert compile_value("finance", JUEL)(VARS) == "finance"
    assert compile_value("Dear ${name}, pass ${amount}", FEEL)(VARS) == "Dear Liu, pass 1500"
    assert compile_value("Dear ${name}", JUEL)(VARS) == "Dear Liu"
    assert compile_value("=amount + 1", JUEL)(VARS) == D(1501)  # "=" still marks FEEL
    assert compile_value("amount + 1", PYTHON)(VARS) == 1501
    assert compile_value("${price}", PYTHON)(VARS) == D("120.50")
    token = CLOCK.set(lambda: NOW)
    try:
        due = compile_value("${dateTime().plusDays(2).toDate()}", FEEL)(VARS)
    finally:
        CLOCK.reset(token)
    assert due == NOW + dt.timedelta(days=2)


def test_compiled_once_per_text() -> None:
    assert compile_juel("${amount + 1}") is compile_juel("${amount + 1}")
    assert compile_juel_expression("amount + 1") is compile_juel_expression("amount + 1")
