"""Multi-instance activities (会签 "all approve", 或签 "any one approves", rounds, one subprocess
per item) and standard loops: instances, counters, output collections in input order, completion
conditions, boundary events and errors on the activity as a whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from liucheng import BpmnValidationError, Engine, HistoryKind, InstanceState

from .conftest import MODELS, kinds
from .steps import PERSIST, pause

Deploy = Callable[..., Engine]
BODY = "#multiInstanceBody"


def _by_assignee(engine: Engine, case_id: str) -> dict[str | None, str]:
    return {t.assignee: t.id for t in engine.tasks(instance=case_id)}


@PERSIST
def test_all_approve_collects_votes_in_input_order(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_multi_instance_all_approve")
    case = engine.start("countersign", {"approvers": ["wang", "li", "zhao"]})
    tasks = _by_assignee(engine, case.id)
    assert list(tasks) == ["wang", "li", "zhao"]  # created in the collection's order
    pause(engine, case.id, persist)

    # Completed in another order: the votes still line up with the approvers.
    engine.complete(tasks["zhao"], {"approved": True})
    pause(engine, case.id, persist)
    engine.complete(tasks["wang"], {"approved": True})
    pause(engine, case.id, persist)
    assert [t.assignee for t in engine.tasks(instance=case.id)] == ["li"]
    case = engine.complete(tasks["li"], {"approved": False})

    assert case.state is InstanceState.COMPLETED
    assert case.variables["votes"] == [True, False, True]
    assert engine.path(case.id) == [
        "start",
        "approve",
        "approve",
        "approve",
        f"approve{BODY}",
        "all_yes",
        "rejected_end",
    ]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_STARTED)[:5] == [
        "start",
        f"approve{BODY}",
        "approve",
        "approve",
        "approve",
    ]
    # The counters and the element variable lived in the activity's scopes, not the case's.
    assert set(case.variables) == {"approvers", "approved", "votes"}


def test_all_approve_with_everyone_agreeing_takes_the_yes_branch(deploy: Deploy) -> None:
    engine = deploy("test_multi_instance_all_approve")
    case = engine.start("countersign", {"approvers": ["wang", "li"]})
    for task_id in _by_assignee(engine, case.id).values():
        case = engine.complete(task_id, {"approved": True})
    assert case.variables["votes"] == [True, True]
    assert engine.path(case.id)[-1] == "approved_end"


@PERSIST
def test_any_one_approves_withdraws_the_other_tasks(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_multi_instance_any_approves")
    case = engine.start("any_approves", {"approvers": ["wang", "li", "zhao"]})
    tasks = _by_assignee(engine, case.id)
    assert list(tasks) == ["wang", "li", "zhao"]
    pause(engine, case.id, persist)

    case = engine.complete(tasks["li"], {"decision": "yes"})
    assert case.state is InstanceState.COMPLETED
    assert engine.tasks(instance=case.id) == []
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["approve", "approve"]
    assert engine.path(case.id) == ["start", "approve", f"approve{BODY}", "end"]
    assert case.variables == {"approvers": ["wang", "li", "zhao"], "decision": "yes"}
    with pytest.raises(Exception, match="already completed or cancelled"):
        engine.complete(tasks["wang"])


@PERSIST
def test_sequential_rounds_one_after_another(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_multi_instance_sequential_cardinality")
    case = engine.start("rounds", {"rounds": 3})
    seen = []
    while not case.is_ended:
        (task,) = engine.tasks(instance=case.id)  # never more than one at a time
        seen.append(task.id)
        pause(engine, case.id, persist)
        case = engine.complete(task.id, {"note": f"round {len(seen)}"})
    assert len(seen) == 3 and len(set(seen)) == 3
    assert case.variables == {"rounds": 3, "note": "round 3"}
    assert engine.path(case.id) == [
        "start",
        "inspect",
        "inspect",
        "inspect",
        f"inspect{BODY}",
        "end",
    ]


def test_loop_counter_and_counters_are_visible_to_each_instance(deploy: Deploy) -> None:
    engine = deploy("test_multi_instance_sequential_cardinality")
    case = engine.start("rounds", {"rounds": 2})
    (task,) = engine.tasks(instance=case.id)
    engine.complete(task.id)
    # BPMN's loopCounter counts from 0 (as in Camunda 7 and Flowable); Zeebe's from 1.
    inst = engine.store.load(case.id)
    assert inst is not None
    scopes = {s.id: s for s in inst.scopes.values()}
    (instance_scope,) = [s for s in scopes.values() if "loopCounter" in s.variables]
    assert instance_scope.variables == {"loopCounter": 1}
    body = scopes[instance_scope.parent]  # type: ignore[index]
    assert body.variables == {
        "nrOfInstances": 2,
        "nrOfCompletedInstances": 1,
        "nrOfActiveInstances": 1,
    }


def test_zero_instances_pass_straight_through(deploy: Deploy) -> None:
    engine = deploy("test_multi_instance_sequential_cardinality")
    case = engine.start("rounds", {"rounds": 0})
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", f"inspect{BODY}", "end"]


@pytest.mark.parametrize(
    ("rounds", "message"),
    [
        (Decimal("1.5"), "whole number"),
        (-1, "whole number"),
        ("three", "must be a number"),
    ],
)
def test_bad_cardinality_is_an_incident_then_retried(
    deploy: Deploy, rounds: object, message: str
) -> None:
    engine = deploy("test_multi_instance_sequential_cardinality")
    case = engine.start("rounds", {"rounds": rounds})
    (incident,) = case.incidents
    assert incident.node == "inspect" and message in incident.message
    engine.set_variables(case.id, {"rounds": 1})
    engine.retry(case.id)
    (task,) = engine.tasks(instance=case.id)
    case = engine.complete(task.id)
    assert engine.path(case.id) == ["start", "inspect", f"inspect{BODY}", "end"]


@PERSIST
def test_parallel_subprocesses_collect_results_in_input_order(
    deploy: Deploy, persist: bool
) -> None:
    engine = deploy("test_multi_instance_subprocess")
    case = engine.start("vehicles", {"plates": ["沪A1", "沪B2", "沪C3"]})
    tasks = engine.tasks(instance=case.id)
    assert [t.node for t in tasks] == ["check_plate"] * 3
    pause(engine, case.id, persist)
    for task, result in zip(reversed(tasks), ["ok", "stolen", "ok"], strict=True):
        case = engine.complete(task.id, {"result": result})
        pause(engine, case.id, persist)
    assert case.state is InstanceState.COMPLETED
    assert case.variables["checks"] == ["沪A1:ok", "沪B2:stolen", "沪C3:ok"]
    assert engine.path(case.id)[-2:] == [f"per_vehicle{BODY}", "end"]
    assert engine.next_due() is None  # the boundary timer went with the activity


@PERSIST
def test_boundary_timer_on_the_activity_cancels_every_instance(
    deploy: Deploy, persist: bool
) -> None:
    engine = deploy("test_multi_instance_subprocess")
    case = engine.start("vehicles", {"plates": ["沪A1", "沪B2"]})
    first = engine.tasks(instance=case.id)[0]
    engine.complete(first.id, {"result": "ok"})
    assert engine.next_due() == engine.clock.now() + timedelta(hours=2)
    pause(engine, case.id, persist)
    engine.clock.advance(hours=2)
    assert engine.run_due_jobs() == 1
    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.tasks(instance=case.id) == []
    assert engine.path(case.id)[-2:] == ["too_late", "timed_out"]
    assert "checks" not in case.variables
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["too_late"]
    # The armed timer was one for the whole activity, not one per instance.
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED).count("per_vehicle") == 2


def test_error_in_one_instance_ends_the_whole_activity(deploy: Deploy) -> None:
    engine = deploy("test_multi_instance_error_in_instance")
    case = engine.start("plates_error")
    tasks = engine.tasks(instance=case.id)
    assert len(tasks) == 3
    engine.complete(tasks[0].id, {"fake": False})
    case = engine.complete(tasks[1].id, {"fake": True})
    assert case.state is InstanceState.COMPLETED
    assert engine.tasks(instance=case.id) == []
    assert engine.path(case.id)[-2:] == ["caught", "refused"]
    assert kinds(engine, case.id, HistoryKind.ERROR_THROWN) == ["sub_error"]


@PERSIST
def test_standard_loop_repeats_while_the_condition_holds(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_standard_loop")
    case = engine.start("corrections")
    for complete in (False, False, True):
        (task,) = engine.tasks(instance=case.id)
        pause(engine, case.id, persist)
        case = engine.complete(task.id, {"complete": complete})
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "correct",
        "correct",
        "correct",
        f"correct{BODY}",
        "end",
    ]


def test_standard_loop_stops_at_its_maximum(deploy: Deploy) -> None:
    engine = deploy("test_standard_loop")
    case = engine.start("corrections")
    rounds = 0
    while not case.is_ended:
        (task,) = engine.tasks(instance=case.id)
        case = engine.complete(task.id, {"complete": False})
        rounds += 1
    assert rounds == 5


def test_multi_instance_without_cardinality_or_collection_is_refused() -> None:
    text = (MODELS / "test_multi_instance_sequential_cardinality.bpmn").read_bytes()
    broken = text.replace(b"<loopCardinality>= rounds</loopCardinality>", b"")
    with pytest.raises(BpmnValidationError, match=r"inspect.*cardinality or a collection"):
        Engine().deploy(broken)


def test_collection_that_is_not_a_list_is_an_incident(deploy: Deploy) -> None:
    engine = deploy("test_multi_instance_all_approve")
    case = engine.start("countersign", {"approvers": "wang"})
    (incident,) = case.incidents
    assert "not a list" in incident.message
    engine.set_variables(case.id, {"approvers": ["wang"]})
    case = engine.retry(case.id)
    assert [t.assignee for t in engine.tasks(instance=case.id)] == ["wang"]


def test_flowable_model_with_juel_completes_at_half(deploy: Deploy) -> None:
    """A Flowable-drawn 会签 in JUEL: collection, element variable, assignee and a completion
    condition over a counter the tasks keep."""
    engine = deploy("test_multi_instance_flowable_juel")
    case = engine.start("half_approve", {"approvers": ["a", "b", "c", "d"], "yes": 0})
    tasks = _by_assignee(engine, case.id)
    assert list(tasks) == ["a", "b", "c", "d"]
    engine.complete(tasks["c"], {"yes": 1})
    assert len(engine.tasks(instance=case.id)) == 3
    case = engine.complete(tasks["a"], {"yes": 2})
    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.ELEMENT_CANCELLED) == ["approve", "approve"]
