"""Example tables: one row per behaviour of the FEEL language, grouped by feature."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng.expr.feel import YearsMonthsDuration, compile_feel, evaluate_feel

SH = ZoneInfo("Asia/Shanghai")

VARS: dict[str, Any] = {
    "x": D(7),
    "n": 3,
    "f": 0.1,
    "name": "Liu",
    "xs": [1, 5, 7],
    "people": [{"name": "a", "age": 30}, {"name": "b", "age": 17}],
    "order": {"total": D("120.50"), "customer": {"level": "gold"}},
    "nothing": None,
    "first name": "Wei",
}


def cases(*rows: tuple[str, Any]) -> Any:
    return pytest.mark.parametrize(("text", "expected"), rows, ids=[r[0] for r in rows])


def check(text: str, expected: Any) -> None:
    result = evaluate_feel(text, VARS)
    assert result == expected
    assert type(result) is type(expected)


@cases(
    ("1", D(1)),
    ("1.50", D("1.50")),
    (".5", D("0.5")),
    ('"a\\"b\\n\\u4e2d"', 'a"b\n中'),
    ("true", True),
    ("false", False),
    ("null", None),
    ('@"2026-01-01"', dt.date(2026, 1, 1)),
    ('@"10:00:00"', dt.time(10, 0)),
    (
        '@"2026-01-01T10:00:00+08:00"',
        dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    ),
    ('@"P3DT4H"', dt.timedelta(days=3, hours=4)),
    ('@"P1Y2M"', YearsMonthsDuration(14)),
    ("= 1 + 1", D(2)),
    ("// comment\n 1 /* inline */ + 1", D(2)),
)
def test_literals(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("1 + 2 * 3", D(7)),
    ("(1 + 2) * 3", D(9)),
    ("0.1 + 0.2", D("0.3")),
    ("10 / 4", D("2.5")),
    ("1 / 3", D("0.3333333333333333333333333333333333")),
    ("2 ** 10", D(1024)),
    ("-2 ** 2", D(4)),
    ("-x", D(-7)),
    ("1 / 0", None),
    ("1 + null", None),
    ('1 + "a"', None),
    ('"a" + "b"', "ab"),
    ("n + 1", D(4)),
    ("f = 0.1", True),
    ("x - 10", D(-3)),
    ("10 ** 6145", None),
)
def test_arithmetic(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ('date("2026-01-31") + duration("P1M")', dt.date(2026, 2, 28)),
    ('date("2026-01-01") + duration("P1D")', dt.date(2026, 1, 2)),
    ('date("2026-03-01") - date("2026-02-01")', dt.timedelta(days=28)),
    ('date and time("2026-01-01T23:00:00") + duration("PT2H")', dt.datetime(2026, 1, 2, 1)),
    ('time("23:00:00") + duration("PT2H")', dt.time(1, 0)),
    ('duration("P1D") * 2', dt.timedelta(days=2)),
    ('duration("P2D") / duration("P1D")', D(2)),
    ('duration("P1Y") + duration("P2M")', YearsMonthsDuration(14)),
    ('date("2026-01-01") < date("2026-01-02")', True),
    ('date("2026-01-01").year', D(2026)),
    ('date("2026-01-01").weekday', D(4)),
    ('duration("P3DT4H").days', D(3)),
    ('duration("P3DT4H").hours', D(4)),
    ('duration("P1Y2M").years', D(1)),
    ('date and time("2026-01-01T10:00:00@Asia/Shanghai").hour', D(10)),
    ('date and time("2026-01-01T10:00:00@Asia/Shanghai")', dt.datetime(2026, 1, 1, 10, tzinfo=SH)),
    ('date and time("2026-01-01T10:00:00") = date and time("2026-01-01T10:00:00Z")', None),
    ('date("2026-02-30")', None),
    ('duration("P1Y2D")', None),
    ('date("2026-01-01") + 1', None),
    ('years and months duration(date("2025-01-15"), date("2026-03-14"))', YearsMonthsDuration(13)),
    ('day of week(date("2026-01-01"))', "Thursday"),
    ('month of year(date("2026-01-01"))', "January"),
    ('day of year(date("2026-02-01"))', D(32)),
    ('week of year(date("2026-01-01"))', D(1)),
    ('abs(duration("-P1D"))', dt.timedelta(days=1)),
    ('string(duration("PT90M"))', "PT1H30M"),
    ('string(date and time("2026-01-01T10:00:00+08:00"))', "2026-01-01T10:00:00+08:00"),
    ("date(2026, 1, 31)", dt.date(2026, 1, 31)),
    ("time(10, 30, 0)", dt.time(10, 30)),
)
def test_temporal(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("x > 5", True),
    ("x = 7", True),
    ("x != 7", False),
    ("x <= 6", False),
    ('name = "Liu"', True),
    ('1 = "1"', None),
    ("null = null", True),
    ("nothing = null", True),
    ("missing = null", True),
    ("1 = null", False),
    ("[1, 2] = [1, 2]", True),
    ("{a: 1} = {a: 1}", True),
    ("true < false", None),
    ("true and null", None),
    ("false and null", False),
    ("true or null", True),
    ("false or null", None),
    ("1 and true", None),
    ("not(true)", False),
    ("not(null)", None),
    ("if x > 5 then 1 else 2", D(1)),
    ("if null then 1 else 2", D(2)),
    ("x in [1..10]", True),
    ("x in (7..10]", False),
    ("x in ]1..7[", False),
    ("x in (1, 2, 7)", True),
    ('name in ["Liu", "Li"]', True),
    ("x in < 10", True),
    ("x in (< 5, > 6)", True),
    ("x in (? > 3)", True),
    ("x between 1 and 7", True),
    ("x between 8 and 9", False),
    ("x instance of number", True),
    ('"a" instance of string', True),
    ('date("2026-01-01") instance of date', True),
    ("null instance of number", False),
    ("x in [1..10] and x > 2", True),
)
def test_logic_and_comparison(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("order.total", D("120.50")),
    ("order.customer.level", "gold"),
    ("order.missing.level", None),
    ("people.name", ["a", "b"]),
    ("people[age > 18].name", ["a"]),
    ("people[item.age > 18]", [{"name": "a", "age": D(30)}]),
    ("xs[item > 3]", [D(5), D(7)]),
    ("xs[1]", D(1)),
    ("xs[-1]", D(7)),
    ("xs[4]", None),
    ("xs[0]", None),
    ("[1, 2, 3][item > x - 6]", [D(2), D(3)]),
    ('{a: 1, "b c": 2}', {"a": D(1), "b c": D(2)}),
    ("{a: 1, b: a + 1}.b", D(2)),
    ("{a: {b: 3}}.a.b", D(3)),
    ("first name", "Wei"),
    ("`first name`", "Wei"),
    ("5[1]", D(5)),
    ("[]", []),
    ("[1, [2]]", [D(1), [D(2)]]),
    ("[1..3].start", D(1)),
)
def test_paths_lists_contexts(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("for i in 1..3 return i * 2", [D(2), D(4), D(6)]),
    ("for i in 3..1 return i", [D(3), D(2), D(1)]),
    ("for i in [1..3] return i", [D(1), D(2), D(3)]),
    ("for i in xs return i + 1", [D(2), D(6), D(8)]),
    ("for a in [1, 2], b in [10, 20] return a + b", [D(11), D(21), D(12), D(22)]),
    ("for i in 1..4 return if i = 1 then 1 else i * partial[-1]", [D(1), D(2), D(6), D(24)]),
    ("for i in null return i", None),
    ("some i in xs satisfies i > 6", True),
    ("some i in xs satisfies i > 7", False),
    ("every i in xs satisfies i > 0", True),
    ("every i in xs satisfies i > 1", False),
    ("every i in [] satisfies false", True),
    ("(function(a, b) a + b)(1, 2)", D(3)),
    ("{add: function(a, b) a + b, r: add(b: 1, a: 2)}.r", D(3)),
    ("{fs: for i in 1..3 return function() i}.fs[2]()", D(2)),
)
def test_loops_and_functions(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ('substring("foobar", 3)', "obar"),
    ('substring("foobar", 3, 2)', "ob"),
    ('substring("foobar", -2, 1)', "a"),
    ('substring(string: "foobar", start position: 2)', "oobar"),
    ('string length("中文")', D(2)),
    ('upper case("aB")', "AB"),
    ('lower case("aB")', "ab"),
    ('substring before("foobar", "bar")', "foo"),
    ('substring after("foobar", "ob")', "ar"),
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"),
    ('replace("AbC", "b", "x", "i")', "AxC"),
    ('contains("foobar", "of")', False),
    ('starts with("foobar", "fo")', True),
    ('ends with("foobar", "r")', True),
    ('matches("foobar", "^fo*b")', True),
    ('matches("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "(a+)+$")', None),
    ('split("a,b;c", "[,;]")', ["a", "b", "c"]),
    ('string join(["a", null, "c"], "-")', "a-c"),
    ('string join(["a", 1])', None),
    ("string(1.10)", "1.1"),
    ("string(1000000)", "1000000"),
    ('string([1, "a"])', '[1, "a"]'),
    ("upper case(1)", None),
    ("upper case(null)", None),
    ('upper case(["x"])', "X"),
)
def test_string_builtins(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("decimal(1/3, 2)", D("0.33")),
    ("decimal(2.5, 0)", D(2)),
    ("floor(1.5)", D(1)),
    ("floor(-1.5)", D(-2)),
    ("ceiling(1.1)", D(2)),
    ("round up(5.5)", D(6)),
    ("round down(-5.5)", D(-5)),
    ("round half up(2.5)", D(3)),
    ("round half down(2.5)", D(2)),
    ("round half up(1.125, 2)", D("1.13")),
    ("abs(-3)", D(3)),
    ("modulo(12, 5)", D(2)),
    ("modulo(-12, 5)", D(3)),
    ("modulo(12, -5)", D(-3)),
    ("modulo(1, 0)", None),
    ("sqrt(16)", D(4)),
    ("sqrt(-1)", None),
    ("odd(5)", True),
    ("even(5)", False),
    ("even(1.5)", None),
    ('number("1,000.5", ",", ".")', D("1000.5")),
    ('number("abc")', None),
    ("exp(0)", D(1)),
    ("log(1)", D(0)),
)
def test_numeric_builtins(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ("list contains([1, 2], 2)", True),
    ("list contains([1, null], null)", True),
    ("count([1, 2, 3])", D(3)),
    ("min([3, 1, 2])", D(1)),
    ("max(3, 1, 2)", D(3)),
    ('max(["a", "b"])', "b"),
    ('min([1, "a"])', None),
    ("min([])", None),
    ("sum([1, 2, 3])", D(6)),
    ("sum(xs)", D(13)),
    ("mean([1, 2, 3, 4])", D("2.5")),
    ("median([3, 1, 2])", D(2)),
    ("median([1, 2, 3, 4])", D("2.5")),
    ("stddev([2, 4, 7, 5])", D("2.081665999466132735282297706979931")),
    ("mode([1, 2, 2, 3, 3])", [D(2), D(3)]),
    ("product([2, 3, 4])", D(24)),
    ("all([true, true])", True),
    ("all([true, null])", None),
    ("all([false, null])", False),
    ("any([false, true])", True),
    ("and([true, false])", False),
    ("or([false, false])", False),
    ("sublist([1, 2, 3], 2)", [D(2), D(3)]),
    ("sublist([1, 2, 3], 1, 2)", [D(1), D(2)]),
    ("append([1], 2, 3)", [D(1), D(2), D(3)]),
    ("concatenate([1], [2], [3])", [D(1), D(2), D(3)]),
    ("insert before([1, 3], 2, 2)", [D(1), D(2), D(3)]),
    ("remove([1, 2, 3], 2)", [D(1), D(3)]),
    ("reverse([1, 2, 3])", [D(3), D(2), D(1)]),
    ("index of([1, 2, 1], 1)", [D(1), D(3)]),
    ("union([1, 2], [2, 3])", [D(1), D(2), D(3)]),
    ("distinct values([1, 2, 1])", [D(1), D(2)]),
    ("flatten([1, [2, [3]]])", [D(1), D(2), D(3)]),
    ("sort([3, 1, 2])", [D(1), D(2), D(3)]),
    ("sort([3, 1, 2], function(a, b) a > b)", [D(3), D(2), D(1)]),
    ("sort(list: [3, 1], precedes: function(a, b) a < b)", [D(1), D(3)]),
)
def test_list_builtins(text: str, expected: Any) -> None:
    check(text, expected)


@cases(
    ('get value({a: 1}, "a")', D(1)),
    ('get value({a: {b: 2}}, ["a", "b"])', D(2)),
    ("get entries({a: 1})", [{"key": "a", "value": D(1)}]),
    ('context put({a: 1}, "b", 2)', {"a": D(1), "b": D(2)}),
    ('context put({a: {b: 1}}, ["a", "b"], 2)', {"a": {"b": D(2)}}),
    ("context merge([{a: 1}, {b: 2}])", {"a": D(1), "b": D(2)}),
    ("is defined(x)", True),
    ("is defined(nothing)", True),
    ("is defined(missing)", False),
    ("is defined(order.total)", True),
    ("is defined(order.nope)", False),
    ("is defined(missing.a.b)", False),
    ("is defined(1)", True),
    ("get or else(nothing, 5)", D(5)),
    ("get or else(x, 5)", D(7)),
    ("is(1, 1)", True),
    ('is(1, "1")', False),
)
def test_context_and_boolean_builtins(text: str, expected: Any) -> None:
    check(text, expected)


def test_clock_is_injectable() -> None:
    from liucheng.expr.feel import set_clock

    fixed = dt.datetime(2026, 5, 1, 23, 30, tzinfo=SH)
    set_clock(lambda: fixed)
    try:
        assert evaluate_feel("now()") == fixed
        assert evaluate_feel("today()") == dt.date(2026, 5, 1)
    finally:
        set_clock(None)
    assert evaluate_feel("now()").tzinfo is not None


def test_compiled_function_is_cached_and_reusable() -> None:
    f = compile_feel("x > 5")
    assert f is compile_feel("x > 5")
    assert f({"x": 6}) is True
    assert f({"x": 5}) is False
    assert f({"x": 5.5}) is True
    assert f({}) is None


def test_variables_may_be_any_mapping() -> None:
    from types import MappingProxyType

    assert evaluate_feel("a.b + 1", MappingProxyType({"a": {"b": 1}})) == D(2)
