"""Variables: exact money, dates and times, starting with variables, setting them from outside."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import ConflictError, Engine, HistoryKind, InstanceState, LiuchengError

from .conftest import MODELS, kinds, roundtrip
from .steps import PERSIST, complete_at, open_nodes, pause

Deploy = Callable[..., Engine]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@PERSIST
def test_decimal_money_stays_exact(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_decimal_money_stays_exact")

    # 33.10 * 3 + 11.00 = 110.30 exactly; in binary floating point it is 110.30000000000001.
    case = engine.start(
        "money", {"unit_price": Decimal("33.10"), "quantity": 3, "deposit": Decimal("11.00")}
    )

    assert open_nodes(engine, case.id) == ["exact_amount"]
    assert engine.path(case.id) == ["start", "price", "route"]
    total = case.variables["total"]
    assert type(total) is Decimal
    assert str(total) == "110.30"  # the scale of the money is kept

    pause(engine, case.id, persist)
    restored = engine.instance(case.id).variables
    assert type(restored["total"]) is Decimal and str(restored["total"]) == "110.30"
    assert type(restored["deposit"]) is Decimal and str(restored["deposit"]) == "11.00"

    case = complete_at(
        engine, case.id, "exact_amount", {"paid": Decimal("110.30")}, persist=persist
    )
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {
        "unit_price": Decimal("33.10"),
        "quantity": 3,
        "deposit": Decimal("11.00"),
        "total": Decimal("110.30"),
        "paid": Decimal("110.30"),
    }
    changed = [e.variables for e in engine.history(case.id) if e.variables]
    assert changed[1] == {"total": Decimal("110.30")}


def test_decimal_money_through_dump_load(deploy: Deploy) -> None:
    engine = deploy("test_decimal_money_stays_exact")
    amounts = {
        "unit_price": Decimal("0.10"),
        "quantity": 3,
        "deposit": Decimal("-0.00"),
        "big": Decimal("12345678901234567890.123456789"),
        "tiny": Decimal("1E-28"),
    }
    case = engine.start("money", amounts)
    text = engine.dump(case.id)

    other = Engine()
    other.deploy(MODELS / "test_decimal_money_stays_exact.bpmn")
    restored = other.load(text).variables
    for name, value in amounts.items():
        assert type(restored[name]) is type(value)
        assert str(restored[name]) == str(value)
    assert str(restored["total"]) == "0.30"
    assert open_nodes(other, case.id) == ["cashier"]


@PERSIST
def test_dates_survive_dump_load(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_dates_survive_dump_load")
    values: dict[str, Any] = {
        "visit_day": date(2026, 3, 10),
        "visit_at": datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI),
        "valid_until": datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI),
        "utc_stamp": datetime(2026, 3, 10, 1, 30, tzinfo=UTC),
        "offset_stamp": datetime(2026, 3, 10, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        "naive": datetime(2026, 3, 10, 9, 30),
        "opens": time(8, 30),
        "grace": timedelta(days=2, hours=3),
    }

    case = engine.start("dates", values)
    pause(engine, case.id, persist)

    restored = engine.instance(case.id).variables
    assert restored == values
    for name, value in values.items():
        assert type(restored[name]) is type(value), name
        if isinstance(value, datetime):
            assert restored[name].tzinfo == value.tzinfo, name
            assert restored[name].utcoffset() == value.utcoffset(), name
    assert restored["visit_at"].tzinfo.key == "Asia/Shanghai"

    case = complete_at(engine, case.id, "schedule", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "schedule", "check", "in_time"]


@PERSIST
def test_start_with_variables_and_set_variables(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_start_with_variables_and_set_variables")

    case = engine.start("set_vars", {"vip": False, "visitors": ["li"]})
    assert case.variables == {"vip": False, "visitors": ["li"]}
    start_change = engine.history(case.id)[1]
    assert start_change.kind is HistoryKind.VARIABLES_CHANGED
    assert start_change.variables == {"vip": False, "visitors": ["li"]}

    pause(engine, case.id, persist)
    case = engine.set_variables(case.id, {"vip": True, "note": "board member"})
    assert case.variables == {"vip": True, "visitors": ["li"], "note": "board member"}
    assert kinds(engine, case.id, HistoryKind.VARIABLES_CHANGED) == [None, None]
    assert engine.history(case.id)[-1].variables == {"vip": True, "note": "board member"}
    assert open_nodes(engine, case.id) == ["review"]  # setting variables moves no token

    case = complete_at(engine, case.id, "review", {"visitors": ["li", "wang"]}, persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "review", "route", "priority"]
    assert case.variables == {"vip": True, "visitors": ["li", "wang"], "note": "board member"}
    assert kinds(engine, case.id, HistoryKind.VARIABLES_CHANGED) == [None, None, "review"]

    with pytest.raises(ConflictError):
        engine.set_variables(case.id, {"vip": False})


def test_caller_values_are_not_shared_with_the_case(deploy: Deploy) -> None:
    engine = deploy("test_start_with_variables_and_set_variables")
    visitors = ["li"]
    case = engine.start("set_vars", {"vip": True, "visitors": visitors})
    visitors.append("intruder")  # the caller keeps changing its own list

    roundtrip(engine, case.id)
    assert engine.instance(case.id).variables["visitors"] == ["li"]


@pytest.mark.parametrize(
    "variables",
    [{"tags": {"a"}}, {"score": float("nan")}, {"obj": object()}, {1: "x"}, {"d": {2: "x"}}],
    ids=["set", "nan", "object", "int_name", "int_key"],
)
def test_unstorable_variables_are_refused(deploy: Deploy, variables: dict[Any, Any]) -> None:
    engine = deploy("test_start_with_variables_and_set_variables")

    with pytest.raises(LiuchengError):
        engine.start("set_vars", variables)
    assert engine.instances() == []

    case = engine.start("set_vars", {"vip": False, "visitors": []})
    before = engine.dump(case.id)
    with pytest.raises(LiuchengError):
        engine.set_variables(case.id, variables)
    assert engine.dump(case.id) == before
