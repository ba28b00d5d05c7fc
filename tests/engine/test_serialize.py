"""Serialisation of one case: dump -> load -> continue is indistinguishable from never stopping."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine, InstanceState, LiuchengError, UnknownProcessError

from .conftest import MODELS, START
from .steps import comparable_history, open_nodes, task_at

Deploy = Callable[..., Engine]
TWIN = MODELS / "test_dump_load_continue_matches_twin.bpmn"
# Which task to complete next, and with what: the same script for both twins.
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("finance", {"approved_by": "zhou"}),
    ("security", {"cleared": False, "escort_by": "sun"}),
    ("countersign", {}),
    ("escort", {"escorted": True}),
]


def _twin_engine() -> Engine:
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(TWIN)
    engine.register_service("book", lambda v: {"entry": f"L-{v['amount']}"})
    return engine


def _drive(engine: Engine, case_id: str, between: Callable[[str], None]) -> None:
    for node, variables in SCRIPT:
        between(case_id)
        engine.complete(task_at(engine, case_id, node).id, variables)
        engine.clock.advance(minutes=5)


def test_dump_load_continue_matches_twin() -> None:
    engine = _twin_engine()
    start = {"days": 3, "rate": Decimal("12.50")}
    plain = engine.start("twin", start)
    stored = engine.start("twin", start)

    def restore(case_id: str) -> None:
        text = engine.dump(case_id)
        json.loads(text)  # real JSON
        engine.load(text)

    _drive(engine, plain.id, lambda _: None)
    engine.clock = Clock.frozen(START)  # the second twin lives through the same instants
    _drive(engine, stored.id, restore)

    a, b = engine.instance(plain.id), engine.instance(stored.id)
    assert a.state is b.state is InstanceState.COMPLETED
    assert comparable_history(engine, stored.id) == comparable_history(engine, plain.id)
    assert [e.time for e in engine.history(stored.id)] == [e.time for e in engine.history(plain.id)]
    assert engine.path(stored.id) == engine.path(plain.id)
    assert b.variables == a.variables
    assert a.variables["fee"] == Decimal("37.50")
    assert a.variables["ledger_entry"] == "L-37.50"
    assert "join" in engine.path(plain.id)


def test_case_moves_to_another_engine_at_each_wait() -> None:
    home = _twin_engine()
    start = {"days": 1, "rate": Decimal("9.90")}
    reference = home.start("twin", start)
    _drive(home, reference.id, lambda _: None)

    engines = [_twin_engine() for _ in range(len(SCRIPT) + 1)]
    case = engines[0].start("twin", start)
    for i, (node, variables) in enumerate(SCRIPT):
        here, there = engines[i], engines[i + 1]
        there.clock = Clock.frozen(here.clock.now())
        there.load(here.dump(case.id))
        assert open_nodes(there, case.id) == open_nodes(here, case.id)
        there.complete(task_at(there, case.id, node).id, variables)
        there.clock.advance(minutes=5)

    last = engines[-1]
    assert last.instance(case.id).state is InstanceState.COMPLETED
    assert comparable_history(last, case.id) == comparable_history(home, reference.id)
    assert last.instance(case.id).variables == home.instance(reference.id).variables


def test_dump_is_stable() -> None:
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    text = engine.dump(case.id)
    engine.load(text)
    assert engine.dump(case.id) == text

    # Loading an older dump puts the case back where it was, open tasks included.
    engine.complete(task_at(engine, case.id, "finance").id)
    assert "finance" not in open_nodes(engine, case.id)
    engine.load(text)
    assert open_nodes(engine, case.id) == ["finance", "security"]
    assert engine.dump(case.id) == text


def test_completed_case_dumps_and_loads() -> None:
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    _drive(engine, case.id, lambda _: None)
    text = engine.dump(case.id)

    other = _twin_engine()
    restored = other.load(text)
    assert restored.state is InstanceState.COMPLETED
    assert restored.ended is not None
    assert other.history(case.id) == engine.history(case.id)
    assert other.tasks() == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        "{}",
        '{"format": 99}',
        '{"format": "1"}',
        '{"format": 1, "id": "x"}',
    ],
    ids=["empty", "not_json", "list", "no_format", "future_format", "text_format", "missing"],
)
def test_malformed_dump_raises(text: str) -> None:
    engine = _twin_engine()
    with pytest.raises(LiuchengError):
        engine.load(text)
    assert engine.instances() == []


def test_corrupted_dump_raises() -> None:
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    data = json.loads(engine.dump(case.id))

    def changed(edit: Callable[[dict[str, Any]], None]) -> str:
        copy = json.loads(json.dumps(data))
        edit(copy)
        return json.dumps(copy)

    bad = {
        "state": changed(lambda d: d.update(state="exploded")),
        "token_shape": changed(lambda d: d.update(tokens=[["x"]])),
        "decimal": changed(lambda d: d["scopes"][0][4].update(rate={"$decimal": "twelve"})),
        "unknown_tag": changed(lambda d: d["scopes"][0][4].update(rate={"$money": "1"})),
        "variables_not_object": changed(lambda d: d["scopes"][0].__setitem__(4, "text")),
        "no_process_scope": changed(lambda d: d.update(scopes=[])),
        "id_not_text": changed(lambda d: d.update(id=5)),
        "no_start_time": changed(lambda d: d.update(started=None)),
        "task_without_token": changed(lambda d: d["tasks"][0].update(token=999)),
        "history_kind": changed(lambda d: d["history"][0].__setitem__(2, "exploded")),
    }
    other = _twin_engine()
    for name, text in bad.items():
        with pytest.raises(LiuchengError):
            other.load(text)
            pytest.fail(f"{name} loaded")
    assert other.instances() == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h[0].__setitem__(2, "exploded"), "unknown history event kind 'exploded'"),
        (lambda h: h[0].__setitem__(2, 7), "unknown history event kind 7"),
        (lambda h: h[0].__setitem__(1, -1), "time reference -1 is not in the time table"),
        (lambda h: h[0].__setitem__(1, 99), "time reference 99 is not in the time table"),
        (lambda h: h[0].__setitem__(1, 0.0), "time reference 0.0 is not in the time table"),
        (lambda h: h[-1].__setitem__(1, True), "time reference True is not in the time table"),
        (lambda h: h[1].__setitem__(5, ["x"]), "history variables must be an object, not list"),
        (lambda h: h[1].__setitem__(5, "x"), "history variables must be an object, not str"),
        (lambda h: h[2].pop(), "a history event is a list of 7 fields"),
        (lambda h: h.append("abcdefg"), "a history event is a list of 7 fields"),
    ],
    ids=[
        "kind",
        "kind_number",
        "negative_time",
        "time_past_table",
        "time_float",
        "time_bool",
        "variables_list",
        "variables_text",
        "short_event",
        "event_text",
    ],
)
def test_corrupted_history_is_named(edit: Callable[[list[Any]], None], message: str) -> None:
    """The event that does not fit is named; nothing is loaded."""
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    data = json.loads(engine.dump(case.id))
    assert data["history"][1][5] is not None  # the start's variables
    edit(data["history"])
    other = _twin_engine()
    with pytest.raises(LiuchengError, match=f"stored case is malformed: .*{message}"):
        other.load(json.dumps(data))
    assert other.instances() == []


def test_history_not_a_list_is_refused() -> None:
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    data = json.loads(engine.dump(case.id))
    data["history"] = {"a": 1}
    with pytest.raises(LiuchengError, match="the history must be a list"):
        _twin_engine().load(json.dumps(data))


def test_integers_past_64_bits_survive_a_dump() -> None:
    """orjson would read them back as floats: they are stored tagged, and come back exact."""
    engine = _twin_engine()
    big, low = 2**64, -(2**63) - 1
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05"), "big": big, "low": low})
    text = engine.dump(case.id)
    assert '"big":{"$int":"18446744073709551616"}' in text
    other = _twin_engine()
    restored = other.load(text).variables
    assert (restored["big"], restored["low"]) == (big, low)
    assert type(restored["big"]) is int and type(restored["low"]) is int


def test_load_needs_the_process_deployed() -> None:
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    empty = Engine()
    with pytest.raises(UnknownProcessError):
        empty.load(engine.dump(case.id))
    assert empty.instances() == []


def test_equal_times_in_other_zones_stay_apart() -> None:
    """Events at the same instant in two zones (a dump from elsewhere) come back each in its
    own zone: the time table tells them apart, and a dump keeps them apart."""
    engine = _twin_engine()
    case = engine.start("twin", {"days": 2, "rate": Decimal("1.05")})
    data = json.loads(engine.dump(case.id))
    first = datetime.fromisoformat(data["times"][0])
    shanghai = first.astimezone(ZoneInfo("Asia/Shanghai"))
    data["times"].append({"$datetime": shanghai.isoformat() + "[Asia/Shanghai]"})
    for event in data["history"][3:]:
        event[1] = len(data["times"]) - 1
    other = _twin_engine()
    other.load(json.dumps(data))
    again = _twin_engine()
    again.load(other.dump(case.id))
    zones = [event.time.tzinfo for event in again.history(case.id)]
    assert zones[:3] == [UTC] * 3
    assert zones[3:] == [ZoneInfo("Asia/Shanghai")] * (len(zones) - 3)
    assert {event.time for event in again.history(case.id)} == {first}
