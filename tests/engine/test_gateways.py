"""Gateways: exclusive, parallel and inclusive splits and joins, conditional flows out of tasks,
and loops in the graph.

A join records its element as completed once for every token that arrived at it (as Camunda 7's
activity history does), so a three-way parallel join appears three times in the path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds
from .steps import PERSIST, complete_at, open_nodes, pause

Deploy = Callable[..., Engine]


# == exclusive gateway =========================================================================


@pytest.mark.parametrize(
    ("amount", "branch", "flow"),
    [(500, "large", "f_large"), (50, "medium", "f_medium"), (5, "small", "f_small")],
)
def test_xor_takes_first_true_condition_in_document_order(
    deploy: Deploy, amount: int, branch: str, flow: str
) -> None:
    engine = deploy("test_xor_takes_first_true_condition_in_document_order")

    case = engine.start("xor_document_order", {"amount": amount})

    # 500 satisfies both "amount > 100" and "amount > 10": the first in the file wins.
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "size", branch, f"end_{branch}"]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN) == ["f_start", flow, f"f_{branch}_end"]
    assert case.variables == {"amount": amount}
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == []


@PERSIST
def test_xor_without_match_or_default_raises_incident(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_xor_without_match_or_default_raises_incident")

    case = engine.start("xor_no_match", {"amount": 50})

    # The routing token is stuck; the case stays active and the other branch goes on.
    assert case.state is InstanceState.ACTIVE
    assert case.active == ("paperwork", "route")
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("route", "no_matching_flow")
    assert "no condition" in incident.message
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["route"]
    assert engine.incidents(case.id) == [(case.id, incident)]
    assert open_nodes(engine, case.id) == ["paperwork"]

    case = complete_at(engine, case.id, "paperwork", persist=persist)
    assert case.state is InstanceState.ACTIVE
    assert case.active == ("route",)
    assert engine.path(case.id) == ["start", "fork", "paperwork", "end_paperwork"]

    # Retrying without fixing the data raises the incident again.
    pause(engine, case.id, persist)
    case = engine.retry(case.id)
    assert [i.node for i in case.incidents] == ["route"]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["route", "route"]

    pause(engine, case.id, persist)
    engine.set_variables(case.id, {"amount": 500})
    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert case.incidents == ()
    assert engine.incidents(case.id) == []
    assert engine.path(case.id) == [
        "start",
        "fork",
        "paperwork",
        "end_paperwork",
        "route",
        "high",
        "end_route",
    ]
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RESOLVED) == ["route", "route"]
    assert case.variables == {"amount": 500}


@PERSIST
def test_xor_condition_failing_at_run_time_names_element(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_xor_condition_failing_at_run_time_names_element")

    case = engine.start("xor_runtime_failure", {"spent": 10, "budget": 0})

    assert case.state is InstanceState.ACTIVE
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("ratio_check", "expression")
    assert "f_ratio" in incident.message  # the sequence flow whose condition failed
    assert "division by zero" in incident.message
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["ratio_check"]
    assert engine.path(case.id) == ["start"]

    pause(engine, case.id, persist)
    engine.set_variables(case.id, {"budget": 4})
    case = engine.retry(case.id, incident.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "ratio_check", "unusual", "end"]
    assert case.variables == {"spent": 10, "budget": 4}


@PERSIST
def test_xor_merges_without_synchronising(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_xor_merges_without_synchronising")

    case = engine.start("xor_merge", {"approved": True})
    assert engine.path(case.id) == ["start", "decide", "approve", "merge", "fork"]
    assert open_nodes(engine, case.id) == ["notify_a", "notify_b"]

    # Each token that reaches the merging exclusive gateway passes on its own.
    case = complete_at(engine, case.id, "notify_b", persist=persist)
    assert case.state is InstanceState.ACTIVE
    assert engine.path(case.id)[-4:] == ["notify_b", "pass_through", "archive", "end"]

    case = complete_at(engine, case.id, "notify_a", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-4:] == ["notify_a", "pass_through", "archive", "end"]
    assert engine.path(case.id).count("archive") == 2
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN).count("f_archive_end") == 2
    assert case.variables == {"approved": True}


def test_xor_merge_after_default_branch(deploy: Deploy) -> None:
    engine = deploy("test_xor_merges_without_synchronising")
    case = engine.start("xor_merge", {"approved": False})
    assert engine.path(case.id) == ["start", "decide", "reject", "merge", "fork"]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN)[:2] == ["f_start", "f_reject"]


# == parallel gateway ==========================================================================


@PERSIST
def test_and_join_waits_for_all_three_branches(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_and_join_waits_for_all_three_branches")

    case = engine.start("and_three_branches")
    assert case.active == ("facilities", "finance", "security")
    assert open_nodes(engine, case.id) == ["facilities", "finance", "security"]

    case = complete_at(engine, case.id, "security", {"badge": "B-7"}, persist=persist)
    assert case.active == ("facilities", "finance", "join")
    case = complete_at(engine, case.id, "finance", persist=persist)
    assert case.active == ("facilities", "join")
    assert "issue" not in engine.path(case.id)
    case = complete_at(engine, case.id, "facilities", persist=persist)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "fork",
        "security",
        "finance",
        "facilities",
        "join",
        "join",
        "join",
        "issue",
        "end",
    ]
    assert kinds(engine, case.id, HistoryKind.ELEMENT_STARTED).count("join") == 3
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN).count("f_join_issue") == 1
    assert case.variables == {"badge": "B-7"}


@PERSIST
def test_and_blocks_nest(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_and_blocks_nest")

    case = engine.start("and_nested")
    assert open_nodes(engine, case.id) == ["a", "b", "c"]

    case = complete_at(engine, case.id, "c", persist=persist)
    assert case.active == ("a", "b", "outer_join")
    case = complete_at(engine, case.id, "a", persist=persist)
    assert case.active == ("b", "inner_join", "outer_join")
    case = complete_at(engine, case.id, "b", persist=persist)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "outer_fork",
        "inner_fork",
        "c",
        "a",
        "b",
        "inner_join",
        "inner_join",
        "ab_done",
        "outer_join",
        "outer_join",
        "end",
    ]


# == inclusive gateway =========================================================================


@pytest.mark.parametrize(
    ("variables", "branches"),
    [
        (
            {"needs_it": True, "deposit": 50, "contractor": False},
            ["finance_check", "it_check"],
        ),
        (
            {"needs_it": True, "deposit": 50, "contractor": True},
            ["finance_check", "it_check", "legal_check"],
        ),
        ({"needs_it": False, "deposit": 0, "contractor": True}, ["legal_check"]),
        ({"needs_it": False, "deposit": 0, "contractor": False}, ["basic_check"]),
    ],
    ids=["two", "three", "one", "default"],
)
@PERSIST
def test_or_split_runs_only_true_branches(
    deploy: Deploy, persist: bool, variables: dict[str, Any], branches: list[str]
) -> None:
    engine = deploy("test_or_split_runs_only_true_branches")

    case = engine.start("or_split_join", variables)
    assert open_nodes(engine, case.id) == branches

    # A branch not taken never blocks the join; it waits only for the branches taken.
    for done, branch in enumerate(branches, 1):
        assert case.state is InstanceState.ACTIVE
        case = complete_at(engine, case.id, branch, persist=persist)
        if done < len(branches):
            assert "join" in case.active
            assert "end" not in engine.path(case.id)

    assert case.state is InstanceState.COMPLETED
    path = engine.path(case.id)
    assert path[:2] == ["start", "split"]
    assert path[2 : 2 + len(branches)] == branches
    assert path[2 + len(branches) :] == ["join"] * len(branches) + ["end"]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN).count("f_join_end") == 1
    assert case.variables == variables


@PERSIST
def test_or_split_without_match_or_default_raises_incident(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_or_split_without_match_or_default_raises_incident")

    case = engine.start("or_no_default", {"a": False, "b": False})

    assert case.state is InstanceState.ACTIVE
    [incident] = case.incidents
    assert (incident.node, incident.kind) == ("split", "no_matching_flow")
    assert kinds(engine, case.id, HistoryKind.INCIDENT_RAISED) == ["split"]
    assert engine.path(case.id) == ["start"]

    pause(engine, case.id, persist)
    engine.set_variables(case.id, {"b": True})
    case = engine.retry(case.id)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "split", "b", "join", "end"]
    assert case.variables == {"a": False, "b": True}


@PERSIST
def test_or_join_waits_for_token_upstream(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_or_join_waits_for_token_upstream")

    case = engine.start("or_join_waits_upstream")

    # "quick" arrived; the token in the user task "slow" can still reach the join.
    assert case.active == ("join", "slow")
    assert engine.path(case.id) == ["start", "fork", "quick"]

    case = complete_at(engine, case.id, "slow", persist=persist)

    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "fork",
        "quick",
        "slow",
        "more",
        "join",
        "join",
        "done",
        "end",
    ]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN).count("f_join_done") == 1


# == conditional flows out of an activity ======================================================


@PERSIST
def test_conditional_flows_out_of_task(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_conditional_flows_out_of_task")

    # Both conditions hold: two parallel paths, the default flow is not taken.
    case = engine.start("conditional_flows_from_task", {"vehicles": 2, "hazardous": True})
    assert open_nodes(engine, case.id) == ["hazard_check", "vehicle_check"]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN) == ["f_start", "f_vehicle", "f_hazard"]
    case = complete_at(engine, case.id, "vehicle_check", persist=persist)
    assert case.state is InstanceState.ACTIVE
    case = complete_at(engine, case.id, "hazard_check", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "assess",
        "vehicle_check",
        "end_vehicle",
        "hazard_check",
        "end_hazard",
    ]

    # One holds: one path.
    one = engine.start("conditional_flows_from_task", {"vehicles": 0, "hazardous": True})
    assert open_nodes(engine, one.id) == ["hazard_check"]

    # None holds: the task's default flow.
    none = engine.start("conditional_flows_from_task", {"vehicles": 0, "hazardous": False})
    assert none.state is InstanceState.COMPLETED
    assert engine.path(none.id) == ["start", "assess", "routine", "end_routine"]
    assert kinds(engine, none.id, HistoryKind.FLOW_TAKEN) == [
        "f_start",
        "f_routine",
        "f_routine_end",
    ]


# == loops =====================================================================================


@PERSIST
def test_loop_exits_after_counter_reaches_bound(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_loop_exits_after_counter_reaches_bound")

    case = engine.start("loop_counter", {"rounds": 0})
    for round_ in (1, 2, 3):
        assert case.state is InstanceState.ACTIVE
        assert open_nodes(engine, case.id) == ["review"]
        case = complete_at(engine, case.id, "review", {"note": f"round {round_}"}, persist=persist)
        assert case.variables["rounds"] == round_

    assert case.state is InstanceState.COMPLETED
    one_round = ["again", "review", "count", "enough"]
    assert engine.path(case.id) == ["start", *one_round * 3, "end"]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN).count("f_loop") == 2
    assert case.variables == {"rounds": 3, "note": "round 3"}


def test_loop_driven_by_service_counter(deploy: Deploy) -> None:
    engine = deploy("test_loop_driven_by_service_counter")
    calls: list[int] = []

    @engine.service("bump")
    def bump(variables: dict[str, Any]) -> dict[str, Any]:
        calls.append(variables["n"])
        return {"n": variables["n"] + 1}

    case = engine.start("loop_service_counter", {"n": 0, "limit": 4})

    assert case.state is InstanceState.COMPLETED
    assert calls == [0, 1, 2, 3]
    assert engine.path(case.id) == ["start", *["again", "bump", "enough"] * 4, "end"]
    assert case.variables == {"n": 4, "limit": 4}
