"""Case variables to JSON and back (liucheng.engine.codec)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucheng.engine.codec import (
    UnreadableValueError,
    UnstorableValueError,
    check_storable,
    dumps,
    from_jsonable,
    loads,
    register_type,
    to_jsonable,
)
from liucheng.errors import LiuchengError

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def assert_same(restored: Any, original: Any) -> None:
    """Equal in value *and* type, all the way down: Decimal scale, float sign, zone, offset."""
    assert type(restored) is type(original), (restored, original)
    if isinstance(original, dict):
        assert list(restored) == list(original)  # same keys in the same order
        for key in original:
            assert_same(restored[key], original[key])
    elif isinstance(original, list):
        assert len(restored) == len(original)
        for a, b in zip(restored, original, strict=True):
            assert_same(a, b)
    elif isinstance(original, float):
        assert repr(restored) == repr(original)
    elif isinstance(original, Decimal):
        assert restored.as_tuple() == original.as_tuple()
    elif isinstance(original, datetime | time):
        assert restored.replace(tzinfo=None) == original.replace(tzinfo=None)  # wall clock
        assert restored.tzinfo == original.tzinfo
        assert restored.utcoffset() == original.utcoffset()
    else:
        assert restored == original


def round_trip(value: Any) -> None:
    assert_same(loads(dumps(value)), value)
    assert_same(from_jsonable(to_jsonable(value)), value)
    assert_same(from_jsonable(json.loads(json.dumps(to_jsonable(value)))), value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -17,
        2**100,
        1.5,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        "",
        "流程 ✓",
        "\x00\n\"'",
        Decimal("50.00"),
        Decimal("50"),
        Decimal("-0.000"),
        Decimal("1E+3"),
        Decimal("1.2345678901234567890123456789012345"),
        datetime(2026, 1, 1, 10, 0),
        datetime(2026, 1, 1, 10, 0, 0, 123456),
        datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2026, 1, 1, 10, 0, tzinfo=SH),
        datetime(2026, 11, 1, 1, 30, tzinfo=NY),  # first of two 01:30s
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY),  # second 01:30
        datetime(2026, 3, 8, 2, 30, tzinfo=NY),  # inside the spring-forward gap
        datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")),
        datetime(9999, 12, 31, 23, 59, tzinfo=ZoneInfo("America/Los_Angeles")),
        date(2026, 1, 1),
        date(1, 1, 1),
        time(10, 0),
        time(23, 59, 59, 999999),
        time(10, 0, tzinfo=timezone(timedelta(hours=8))),
        time(10, 0, tzinfo=SH),
        timedelta(0),
        timedelta(days=3),
        timedelta(seconds=1.5),
        timedelta(microseconds=1),
        timedelta(microseconds=-1),
        timedelta(days=-1, seconds=5),
        timedelta.max,
        timedelta.min,
        [],
        {},
        [1, "a", None, [2.5, Decimal("1.10")]],
        {"a": {"b": {"c": [date(2026, 1, 1)]}}},
    ],
    ids=repr,
)
def test_every_supported_value_round_trips(value: Any) -> None:
    round_trip(value)
    round_trip({"variable": value})
    round_trip([value, value])


def test_tagged_json_shapes() -> None:
    assert dumps(Decimal("50.00")) == '{"$decimal":"50.00"}'
    assert dumps(datetime(2026, 1, 1, 10, tzinfo=SH)) == (
        '{"$datetime":"2026-01-01T10:00:00+08:00[Asia/Shanghai]"}'
    )
    assert dumps(datetime(2026, 1, 1, 10)) == '{"$datetime":"2026-01-01T10:00:00"}'
    assert dumps(date(2026, 1, 1)) == '{"$date":"2026-01-01"}'
    assert dumps(time(10, 30)) == '{"$time":"10:30:00"}'
    assert dumps(timedelta(days=1, seconds=1, microseconds=500000)) == '{"$timedelta":"86401.5"}'
    assert dumps(timedelta(microseconds=-1)) == '{"$timedelta":"-0.000001"}'
    assert dumps({"名": "张三", "b": 1, "a": 2}) == '{"名":"张三","b":1,"a":2}'


def test_zone_is_restored_as_the_same_zoneinfo() -> None:
    restored = loads(dumps(datetime(2026, 1, 1, 10, tzinfo=SH)))
    assert restored.tzinfo is SH
    assert loads(dumps(datetime(2026, 1, 1, tzinfo=UTC))).tzinfo is UTC
    later = loads(dumps(datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)))
    assert later.fold == 1 and later.utcoffset() == timedelta(hours=-5)


def test_tuples_are_stored_as_lists() -> None:
    assert loads(dumps((1, (2, Decimal("3"))))) == [1, [2, Decimal("3")]]
    assert to_jsonable({"t": ("a", "b")}) == {"t": ["a", "b"]}


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ({"$decimal": "1"}, '{"$$decimal":"1"}'),
        ({"$x": 1}, '{"$$x":1}'),
        ({"$$x": 1}, '{"$$$x":1}'),
        ({"$": 1}, '{"$$":1}'),
        ({"$date": Decimal("2")}, '{"$$date":{"$decimal":"2"}}'),
        ({"$a": 1, "$b": 2}, '{"$a":1,"$b":2}'),  # only one-key objects look like tags
        ({"x": {"$dict": {"$y": []}}}, '{"x":{"$$dict":{"$$y":[]}}}'),
    ],
)
def test_dollar_keys_are_escaped(value: dict[str, Any], stored: str) -> None:
    assert dumps(value) == stored
    round_trip(value)


def test_results_share_no_container_with_the_input() -> None:
    value = {"flat": {"a": 1}, "items": [1, 2], "mixed": [Decimal(1)]}
    encoded = to_jsonable(value)
    encoded["flat"]["a"] = 2
    encoded["items"].append(3)
    assert value == {"flat": {"a": 1}, "items": [1, 2], "mixed": [Decimal(1)]}
    stored = {"flat": {"a": 1}, "d": {"$decimal": "1"}}
    decoded = from_jsonable(stored)
    decoded["flat"]["a"] = 2
    assert stored == {"flat": {"a": 1}, "d": {"$decimal": "1"}}


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 1


class Text(str):
    pass


class OddZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "ODD"


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ({"items": [1, 2, {3}]}, "variables", "variables.items[2]: values of type 'set' cannot"),
        ({"items": [1, 2, {3}]}, "", "items[2]: values of type 'set' cannot be stored; use a list"),
        (frozenset(), "tags", "tags: values of type 'frozenset' cannot be stored"),
        (b"x", "blob", "blob: values of type 'bytes' cannot be stored; use text"),
        (object(), "", "values of type 'object' cannot be stored"),
        (float("nan"), "x", "x: the number nan cannot be stored"),
        ([float("inf")], "x", "x[0]: the number inf cannot be stored"),
        ({"a": 1.0, "b": float("-inf")}, "x", "x.b: the number -inf cannot be stored"),
        (Decimal("NaN"), "m", "m: the decimal NaN cannot be stored"),
        (Decimal("Infinity"), "m", "m: the decimal Infinity cannot be stored"),
        ({1: "a", 2: "b"}, "d", "d: dictionary keys must be text, not 'int' (key 1)"),
        ({None: 1}, "d", "dictionary keys must be text, not 'NoneType'"),
        ({"my key": {3}}, "v", "v['my key']: values of type 'set'"),
        (Colour.RED, "c", "c: values of type 'Colour' cannot be stored"),
        (Level.HIGH, "c", "it would come back as its base type"),
        (Text("x"), "c", "register it with liucheng.engine.codec.register_type"),
        (datetime(2026, 1, 1, tzinfo=OddZone()), "t", "time zones of type 'OddZone' cannot"),
        ({"a": ("x", {1})}, "v", "v.a[1]: values of type 'set'"),
    ],
)
def test_unstorable_values_are_refused_with_their_path(value: Any, path: str, message: str) -> None:
    with pytest.raises(UnstorableValueError) as caught:
        check_storable(value, path)
    assert message in str(caught.value)
    assert isinstance(caught.value, LiuchengError)
    with pytest.raises(UnstorableValueError):
        to_jsonable(value)
    with pytest.raises(UnstorableValueError):
        dumps(value)


def test_a_value_containing_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(UnstorableValueError, match="nested too deeply or contains itself"):
        check_storable(loop, "x")


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (2**64 - 1, "18446744073709551615"),
        (2**64, '{"$int":"18446744073709551616"}'),
        (-(2**63), "-9223372036854775808"),
        (-(2**63) - 1, '{"$int":"-9223372036854775809"}'),
        ([1, {"n": 10**30}], '[1,{"n":{"$int":"1000000000000000000000000000000"}}]'),
    ],
)
def test_integers_past_64_bits_are_tagged(value: Any, stored: str) -> None:
    """orjson reads a number past 64 bits back as a float, so such numbers are not written."""
    assert dumps(value) == stored
    assert_same(loads(stored), value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[NaN]", "[nan]"),
        ("[1e400]", "[inf]"),
        ('"a\\ud800"', "'a\\ud800'"),
        ('{"$decimal":"1.5","x":1}', "{'$decimal': '1.5', 'x': 1}"),
    ],
)
def test_text_orjson_refuses_is_read_as_before(text: str, expected: str) -> None:
    """What Python's json reads and orjson does not is still read (a case stored by an older
    release, or by another tool)."""
    assert repr(loads(text)) == expected


def test_lone_surrogates_are_refused() -> None:
    value = json.loads('{"name": "a\\ud800b"}')  # a client can send this
    with pytest.raises(UnstorableValueError, match=r"variables\.name: the text contains an inval"):
        check_storable(value, "variables")
    with pytest.raises(UnstorableValueError, match="name: the text contains an invalid"):
        dumps(value)
    check_storable({"name": "流程"}, "variables")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"$money":"1"}', "unknown type tag '$money'"),
        ('{"$decimal":"abc"}', "stored $decimal value 'abc' is malformed"),
        ('{"$decimal":"NaN"}', "stored $decimal value 'NaN' is malformed"),
        ('{"$decimal":1}', "stored $decimal value 1 is malformed"),
        ('{"$datetime":"yesterday"}', "stored $datetime value"),
        ('{"$datetime":"2026-01-01T10:00:00[No/Where]"}', "stored $datetime value"),
        ('{"$timedelta":"1.0000001"}', "stored $timedelta value"),
        ('{"$timedelta":"1e3"}', "stored $timedelta value"),
        ('{"$date":null}', "stored $date value"),
        ('{"$int":"12a"}', "stored $int value '12a' is malformed"),
        ('{"$int":"١٢"}', "stored $int value"),
        ('{"$int":12}', "stored $int value 12 is malformed"),
    ],
)
def test_unreadable_stored_values(text: str, message: str) -> None:
    with pytest.raises(UnreadableValueError, match=message.replace("$", r"\$")):
        loads(text)
    with pytest.raises(UnreadableValueError):
        from_jsonable(json.loads(text))


# == registered types =============================================================================


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Other:
    value: int


register_type(
    "test.money",
    Money,
    lambda m: {"amount": m.amount, "currency": m.currency},
    lambda j: Money(j["amount"], j["currency"]),
)


def test_registered_type_round_trips() -> None:
    value = {"deposit": Money(Decimal("50.00"), "CNY"), "list": [Money(Decimal("1"), "USD")]}
    text = dumps(value)
    assert '"$test.money":{"amount":{"$decimal":"50.00"},"currency":"CNY"}' in text
    assert loads(text) == value
    assert loads(text)["deposit"].amount.as_tuple() == Decimal("50.00").as_tuple()
    round_trip(value)


def test_registration_rules() -> None:
    def same(x: Any) -> Any:
        return x

    register_type("$test.money", Money, same, same)  # the same pair again: allowed
    register_type(  # restore working functions for the other tests
        "test.money",
        Money,
        lambda m: {"amount": m.amount, "currency": m.currency},
        lambda j: Money(j["amount"], j["currency"]),
    )
    with pytest.raises(ValueError, match="already registered for another class"):
        register_type("test.money", Other, same, same)
    with pytest.raises(ValueError, match="already registered under the tag"):
        register_type("test.cash", Money, same, same)
    with pytest.raises(ValueError, match="built in"):
        register_type("decimal", Other, same, same)
    with pytest.raises(ValueError, match="built in"):
        register_type("my.set", dict, same, same)
    with pytest.raises(ValueError, match="short name"):
        register_type("", Other, same, same)
    with pytest.raises(ValueError, match="short name"):
        register_type("$$x", Other, same, same)
    with pytest.raises(ValueError, match="short name"):
        register_type("a b", Other, same, same)


# == property =====================================================================================

zones = st.one_of(
    st.none(),
    st.just(UTC),
    st.timezones(),
    st.builds(
        timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=zones),
    st.dates(),
    st.times(timezones=zones),
    st.timedeltas(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=5), inner, max_size=5),
        st.dictionaries(st.text(max_size=4).map(lambda k: "$" + k), inner, max_size=1),
    ),
    max_leaves=25,
)


@given(values)
def test_any_supported_value_round_trips_exactly(value: Any) -> None:
    check_storable(value)
    round_trip(value)


def test_an_offset_with_microseconds_round_trips() -> None:
    """Python 3.11 reads ``+00:00:00.000001`` as UTC; the codec keeps the exact offset."""
    odd = timezone(-timedelta(hours=3, microseconds=5))
    for value in (datetime(2000, 1, 1, tzinfo=odd), time(1, 2, tzinfo=odd)):
        back = loads(dumps(value))
        assert back == value and back.utcoffset() == value.utcoffset()
