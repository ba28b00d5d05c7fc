"""Behaviour of the sandboxed Python dialect on the kind of text real models contain:
gateway conditions, timer values and SpiffWorkflow-style script tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from liucheng.errors import ExpressionError, ScriptError
from liucheng.expr.python_dialect import (
    compile_python,
    compile_python_script,
    reset_clock,
    set_clock,
    using_clock,
)

SHANGHAI = timezone(timedelta(hours=8))


def run(script: str, **variables: object) -> dict[str, object]:
    data = dict(variables)
    compile_python_script(script)(data)
    return data


# --- conditions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "kind", "expected"),
    [(150, "external", True), (150, "internal", False), (100, "external", False)],
)
def test_gateway_condition(amount: int, kind: str, expected: bool) -> None:
    condition = compile_python('amount > 100 and kind == "external"')
    assert condition({"amount": amount, "kind": kind}) is expected


def test_condition_with_surrounding_whitespace_from_xml() -> None:
    assert compile_python("\n    approved == True\n  ")({"approved": True}) is True


def test_condition_is_cached_per_text() -> None:
    assert compile_python("a < b") is compile_python("a < b")


def test_comparison_chain_evaluates_middle_once_and_short_circuits() -> None:
    f = compile_python("1 < x <= 10 != y")
    assert f({"x": 5, "y": 3}) is True
    assert f({"x": 0, "y": 3}) is False
    assert compile_python("0 < x < 1 < undefined")({"x": 5}) is False


def test_membership_and_identity() -> None:
    f = compile_python('kind in ("a", "b") and note is not None and "x" not in tags')
    assert f({"kind": "a", "note": "", "tags": ["y"]}) is True


def test_conditional_expression_and_boolean_values() -> None:
    f = compile_python('"high" if score >= 80 else ("mid" if score >= 50 else "low")')
    assert [f({"score": s}) for s in (90, 60, 10)] == ["high", "mid", "low"]
    assert compile_python("a or b")({"a": 0, "b": "x"}) == "x"
    assert compile_python("a and b and c")({"a": 1, "b": 2, "c": 3}) == 3


def test_variable_shadows_builtin_name() -> None:
    assert compile_python('type == "external"')({"type": "external"}) is True
    assert compile_python("len")({"len": 3}) == 3


def test_decimal_money() -> None:
    f = compile_python('(deposit * 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)')
    assert f({"deposit": Decimal("25.125")}) == Decimal("50.25")


def test_mixed_decimal_float_is_a_positioned_type_error() -> None:
    with pytest.raises(ScriptError, match=r"line 1, column 1: TypeError"):
        compile_python("deposit + 1.5")({"deposit": Decimal("1")})


def test_fstrings() -> None:
    f = compile_python('f"{name!r} owes {amount:,.2f} by {due:%Y-%m-%d} ({n:>3})"')
    out = f({"name": "王", "amount": Decimal("1234.5"), "due": date(2024, 5, 1), "n": 7})
    assert out == "'王' owes 1,234.50 by 2024-05-01 (  7)"


def test_subscripts_slices_and_displays() -> None:
    f = compile_python('[order["lines"][-1], code[1:3], {*tags, "z"}, {**a, "k": 1}, (1,)]')
    out = f({"order": {"lines": [1, 2]}, "code": "ABCD", "tags": ["x"], "a": {"j": 0}})
    assert out == [2, "BC", {"x", "z"}, {"j": 0, "k": 1}, (1,)]


def test_comprehensions_have_their_own_scope() -> None:
    data = run(
        "x = 'outer'\nys = [x * 2 for x in range(3) if x]\nd = {k: v for k, v in pairs}",
        pairs=[("a", 1)],
    )
    assert data["x"] == "outer"
    assert data["ys"] == [2, 4]
    assert data["d"] == {"a": 1}
    assert "k" not in data and "v" not in data
    data = run("s = {c.upper() for w in words for c in w}", words=["ab", "b"])
    assert data["s"] == {"A", "B"}


def test_generator_expression_in_builtins() -> None:
    f = compile_python("sum(i * i for i in range(n)) + max(len(w) for w in words)")
    assert f({"n": 4, "words": ["a", "abc"]}) == 14 + 3


def test_builtins_and_methods() -> None:
    f = compile_python(
        "[sorted(names, key=len, reverse=True), list(enumerate('ab', 1)), "
        "dict(zip('ab', [1, 2])), ' x '.strip().upper(), ', '.join(reversed(names)), "
        "round(2.675, 2), abs(-3), int('42'), float('1.5'), isinstance(n, (int, float)), "
        "any([0, 1]), all([]), min(3, 1, key=abs), '2024-01-05'.split('-')]"
    )
    out = f({"names": ["bo", "alice"], "n": 1})
    assert out == [
        ["alice", "bo"],
        [(1, "a"), (2, "b")],
        {"a": 1, "b": 2},
        "X",
        "alice, bo",
        round(2.675, 2),
        3,
        42,
        1.5,
        True,
        True,
        True,
        1,
        ["2024", "01", "05"],
    ]


def test_sort_key_may_be_a_bound_method() -> None:
    data = run("order = sorted(prices, key=prices.get)", prices={"a": 3, "b": 1})
    assert data["order"] == ["b", "a"]


# --- timers ---------------------------------------------------------------------------------


def test_timer_values() -> None:
    assert compile_python('"PT1H"')({}) == "PT1H"
    assert compile_python("timedelta(hours=2)")({}) == timedelta(hours=2)
    deadline = compile_python("created + timedelta(days=3)")(
        {"created": datetime(2024, 1, 1, 9, tzinfo=SHANGHAI)}
    )
    assert deadline == datetime(2024, 1, 4, 9, tzinfo=SHANGHAI)


def test_datetime_now_reads_the_engine_clock() -> None:
    fixed = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    token = set_clock(lambda: fixed)
    try:
        assert compile_python("datetime.now()")({}) == fixed
        now_sh = compile_python("datetime.now(tz)")({"tz": SHANGHAI})
        assert now_sh.hour == 20 and now_sh == fixed
        assert compile_python("date.today()")({}) == date(2024, 3, 1)
    finally:
        reset_clock(token)
    with using_clock(lambda: fixed + timedelta(days=1)):
        assert compile_python("datetime.now().day")({}) == 2


def test_default_clock_is_timezone_aware_utc() -> None:
    now = compile_python("datetime.now()")({})
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_datetime_properties_and_methods() -> None:
    f = compile_python(
        "[d.year, d.month, d.day, d.hour, d.minute, d.weekday(), d.isoformat(), d.date(), "
        "(d - d.replace(hour=0)).total_seconds(), timedelta(days=1, seconds=5).days, "
        "d.astimezone(timezone.utc).hour, datetime.fromisoformat('2024-01-02T03:04:05+08:00')]"
    )
    d = datetime(2024, 1, 2, 3, 4, tzinfo=SHANGHAI)
    assert f({"d": d}) == [
        2024, 1, 2, 3, 4, 1, d.isoformat(), date(2024, 1, 2), 10800.0, 1, 19,
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=SHANGHAI),
    ]  # fmt: skip


# --- scripts --------------------------------------------------------------------------------


def test_spiffworkflow_style_script() -> None:
    script = """
applicant = {"name": name, "type": "external" if external else "internal"}
approvers = []
for dept in ["security", "finance"]:
    if dept == "finance" and not needs_payment:
        continue
    approvers.append(dept)
deposit = Decimal("50") if applicant["type"] == "external" else Decimal("0")
applicant["deposit"] = deposit
count = 0
while count < 3:
    count += 1
    if count == 2:
        break
else:
    count = -1
valid_until = start + timedelta(days=30)
a, (b, c) = 1, [2, 3]
"""
    start = datetime(2024, 1, 1, tzinfo=SHANGHAI)
    data = run(script, name="李", external=True, needs_payment=False, start=start)
    assert data["applicant"] == {"name": "李", "type": "external", "deposit": Decimal("50")}
    assert data["approvers"] == ["security"]
    assert data["count"] == 2
    assert data["valid_until"] == start + timedelta(days=30)
    assert (data["a"], data["b"], data["c"]) == (1, 2, 3)


def test_script_updates_deletes_and_mutates_in_place() -> None:
    data = {"keep": 1, "drop": 2, "items": [1]}
    items = data["items"]
    compile_python_script("del drop\nitems += [2]\nitems[0] = 0\nnew = keep + 1")(data)
    assert data == {"keep": 1, "items": [0, 2], "new": 2}
    assert items is data["items"]  # += on a list extends it, as in Python


def test_augmented_assignment_on_subscripts() -> None:
    data = run("totals['a'] += 5\ncounts[1] *= 3\nx = 2\nx **= 10", totals={"a": 1}, counts=[1, 2])
    assert data["totals"] == {"a": 6} and data["counts"] == [1, 6] and data["x"] == 1024


def test_failing_script_leaves_top_level_variables_unchanged() -> None:
    data = {"a": 1, "b": 2}
    with pytest.raises(ScriptError, match="line 3"):
        compile_python_script("a = 10\ndel b\nc = 1 / 0")(data)
    assert data == {"a": 1, "b": 2}


def test_empty_script_and_print_are_harmless() -> None:
    data = run('\n# only a comment\nprint("debug", x)\n', x=1)
    assert data == {"x": 1}


# --- errors ---------------------------------------------------------------------------------


def test_runtime_error_names_line_and_column() -> None:
    with pytest.raises(ScriptError) as info:
        compile_python_script("x = 1\ny = x + missing")({})
    assert "line 2, column 9: name 'missing' is not defined" in str(info.value)
    assert info.value.position == len("x = 1\ny = x + ")


def test_column_counts_characters_not_utf8_bytes() -> None:
    with pytest.raises(ScriptError) as info:
        compile_python('"申请人" + 金额 + oops')({"金额": "1"})
    assert info.value.position == len('"申请人" + 金额 + ')


def test_position_of_indented_expression_points_into_original_text() -> None:
    text = "\n   amount >  \n"
    with pytest.raises(ScriptError) as info:
        compile_python(text)
    assert info.value.text == text
    assert info.value.position is not None and 0 <= info.value.position <= len(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 +", "invalid syntax"),
        ("x = = 1", "invalid syntax"),
        ("if x:\npass", "expected an indented block"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        compile_python_script(text)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("1 / 0", "ZeroDivisionError"),
        ("int('x')", "ValueError"),
        ("[1][5]", "IndexError"),
        ("{}['k']", "KeyError"),
        ("'a' + 1", "TypeError"),
        ("x()", "not callable"),
        ("(1, 2).append", "no attribute 'append'"),
    ],
)
def test_runtime_errors_are_script_errors(text: str, error: str) -> None:
    with pytest.raises(ScriptError, match=error) as info:
        compile_python(text)({"x": 1})
    assert isinstance(info.value, ExpressionError)
    assert str(info.value).count("line 1, column") == 1


def test_non_string_text_is_refused() -> None:
    with pytest.raises(ScriptError):
        compile_python(42)  # type: ignore[arg-type]


def test_errors_raised_by_the_iterator_itself_are_positioned() -> None:
    with pytest.raises(ScriptError, match=r"line 1, column 1: RuntimeError: dictionary changed"):
        compile_python_script("for k in d:\n    d[k + 'x'] = 1")({"d": {"a": 1}})
    with pytest.raises(ScriptError, match="RuntimeError"):
        compile_python("[d.pop(k) for k in d]")({"d": {"a": 1, "b": 2}})


def test_missing_python_builtin_is_explained() -> None:
    with pytest.raises(ScriptError, match="not available in scripts"):
        compile_python("getattr(x, 'y')")({"x": 1})


def test_every_class_attribute_is_in_the_compile_time_whitelist() -> None:
    from liucheng.expr.python_dialect.attributes import ALLOWED_ATTRIBUTES
    from liucheng.expr.python_dialect.builtins import BUILTINS
    from liucheng.expr.python_dialect.callables import SafeType

    for value in BUILTINS.values():
        if isinstance(value, SafeType):
            assert set(value.attrs) <= ALLOWED_ATTRIBUTES, value.name


def test_error_position_in_indented_multiline_expression() -> None:
    text = "\n    (amount >\n     oops)\n"
    with pytest.raises(ScriptError) as info:
        compile_python(text)({"amount": 1})
    assert info.value.position == text.index("oops")
    assert "line 3, column 6: name 'oops' is not defined" in info.value.message
