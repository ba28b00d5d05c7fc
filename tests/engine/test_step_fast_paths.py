"""What the engine skips on its hot path changes nothing a caller can see.

An in-memory engine finds a task's case from the task id instead of an index, keeps an ended
case as plain values the garbage collector forgets, leaves the expression clock alone while
its own clock follows the system time, and lets tokens pass plain elements without checks;
each is checked here against what the slow path gives.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from liucheng import Clock, Engine, HistoryKind, InstanceState
from liucheng.bpmn.parse import parse_bpmn
from liucheng.engine.graph import compile_process
from liucheng.expr.feel.clock import reset_clock, set_clock
from liucheng.memory_store import MemoryStore

from .conftest import MODELS, START

KEPT = MODELS / "test_memory_store_keeps_ended_cases.bpmn"
CLOCK_MODEL = MODELS / "test_expressions_read_the_engine_clock.bpmn"


def test_a_task_id_leads_to_its_case_only_while_the_task_is_open() -> None:
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(KEPT)
    case = engine.start("kept", {"plate": "沪A·12345"})
    task = engine.tasks(instance=case.id)[0]
    store = engine.store
    assert isinstance(store, MemoryStore)
    loaded = store.load_for_task(task.id)
    assert loaded is not None and loaded.id == case.id
    assert store.instance_of_task(task.id) == case.id
    for unknown in ("nope", f"{case.id}.999", f"{case.id}x.{task.id.rpartition('.')[2]}", ""):
        assert store.load_for_task(unknown) is None
        assert store.instance_of_task(unknown) is None
    engine.complete(task.id, {"approved": True})
    assert store.load_for_task(task.id) is None
    assert store.instance_of_task(task.id) is None
    assert engine.tasks() == []


def test_an_ended_case_is_kept_whole_as_plain_values() -> None:
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(KEPT)
    variables = {"plate": "沪A·12345", "deposit": Decimal("50.00"), "due": START}
    case = engine.start("kept", variables, business_key="P-1")
    task = engine.tasks(instance=case.id)[0]
    ended = engine.complete(task.id, {"approved": True})
    assert ended.state is InstanceState.COMPLETED
    store = engine.store
    assert isinstance(store, MemoryStore)
    frozen = store._ended[case.id]
    gc.collect()
    assert not gc.is_tracked(frozen)  # forgotten by the collector at its first look
    again = engine.instance(case.id)
    assert again == ended
    assert again.variables == {**variables, "approved": True}
    assert again.business_key == "P-1"
    assert engine.path(case.id) == ["start", "review", "done"]
    kinds = [e.kind for e in engine.history(case.id)]
    assert kinds[0] is HistoryKind.INSTANCE_STARTED
    assert kinds[-1] is HistoryKind.INSTANCE_COMPLETED
    restored = Engine(clock=Clock.frozen(START))
    restored.deploy(KEPT)
    assert restored.load(engine.dump(case.id)) == ended


def test_a_case_holding_a_list_stays_tracked_and_intact() -> None:
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(KEPT)
    case = engine.start("kept", {"tags": ["a", "b"]})
    engine.complete(engine.tasks(instance=case.id)[0].id)
    store = engine.store
    assert isinstance(store, MemoryStore)
    gc.collect()
    assert gc.is_tracked(store._ended[case.id])  # it holds a list, which may point anywhere
    assert engine.instance(case.id).variables == {"tags": ["a", "b"]}


def test_history_events_are_forgotten_by_the_collector_before_the_oldest_generation() -> None:
    """Changed variables are one flat tuple in an event, so two young collections forget every
    event; as pairs, events that changed variables reached the oldest generation still tracked,
    and their numbers started full collections (``Instance.history``)."""
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(KEPT)
    gc.disable()  # only the two collections below look at the new events
    try:
        case = engine.start("kept", {"plate": "沪A·12345", "deposit": Decimal("50.00")})
        engine.complete(engine.tasks(instance=case.id)[0].id, {"approved": True, "n": 3})
        events = engine.store.history(case.id)
        with_changes = [e for e in events if e[5] is not None]
        assert len(with_changes) >= 3  # the start's variables, the task's completion, its change
        gc.collect(0)
        gc.collect(1)
        assert [e for e in events if gc.is_tracked(e)] == []
    finally:
        gc.enable()
    completed = [e for e in engine.history(case.id) if e.kind is HistoryKind.TASK_COMPLETED]
    assert completed[0].variables == {"approved": True, "n": 3}


def _stamped(case_variables: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(case_variables["stamped_at"]))


def test_an_engine_on_the_system_clock_gives_expressions_its_own_time() -> None:
    engine = Engine()
    assert engine.clock.follows_system
    engine.deploy(CLOCK_MODEL)
    past = datetime(2001, 1, 1, tzinfo=UTC)
    before = datetime.now(UTC) - timedelta(seconds=1)
    token = set_clock(lambda: past)  # someone else's clock in the caller's context
    try:
        first = engine.start("clock_process")
    finally:
        reset_clock(token)
    second = engine.start("clock_process")
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert before <= _stamped(first.variables) <= after
    assert before <= _stamped(second.variables) <= after
    engine.clock.advance(days=2)
    assert not engine.clock.follows_system
    third = engine.start("clock_process")
    assert _stamped(third.variables) >= before + timedelta(days=2)


def test_a_clock_follows_the_system_until_it_is_moved() -> None:
    clock = Clock()
    assert clock.follows_system
    clock.advance()
    assert clock.follows_system  # moving by nothing changes nothing
    clock.advance(seconds=1)
    assert not clock.follows_system
    assert not Clock.frozen(START).follows_system
    held = Clock()
    held.set(START)
    assert not held.follows_system and held.now() == START


@pytest.mark.parametrize(
    ("model", "process", "node", "entry", "exit"),
    [
        ("test_memory_store_keeps_ended_cases", "kept", "review", True, True),
        ("test_boundary_timer_interrupts_user_task", None, "review", True, False),
        ("test_listeners", None, "review", False, False),
        ("test_subprocess_input_mapping_makes_variables_local", None, "inspect", True, True),
    ],
)
def test_only_elements_without_extra_work_are_plain(
    model: str, process: str | None, node: str, entry: bool, exit: bool
) -> None:
    defs = parse_bpmn((MODELS / f"{model}.bpmn").read_bytes())
    chosen = defs.processes[process] if process else next(iter(defs.processes.values()))
    compiled = compile_process(defs, chosen, language="feel")
    assert (compiled.nodes[node].plain_entry, compiled.nodes[node].plain_exit) == (entry, exit)
