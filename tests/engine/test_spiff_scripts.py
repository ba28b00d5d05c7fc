"""SpiffWorkflow models: files in the Spiff namespace default to Python, and an element's
``preScript`` runs before it starts its work and its ``postScript`` as it completes."""

from __future__ import annotations

from collections.abc import Callable

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import roundtrip


def test_pre_script_runs_before_the_task_and_post_script_as_it_completes(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_spiff_pre_and_post_scripts")
    case = engine.start("spiff_scripts_process", {"amount": 60, "reviews": []})
    assert case.variables["limit"] == 120
    assert case.variables["reviews"] == ["opened"]
    roundtrip(engine, case.id)
    task = engine.tasks(instance=case.id)[0]
    case = engine.complete(task.id, {"approved": True})
    assert case.state is InstanceState.COMPLETED
    assert case.variables["reviews"] == ["opened", "approved"]
    assert engine.path(case.id) == ["start", "review", "check", "big"]
    changes = [
        e.variables for e in engine.history(case.id) if e.kind is HistoryKind.VARIABLES_CHANGED
    ]
    assert {"limit": 120, "reviews": ["opened"]} in changes
    assert {"reviews": ["opened", "approved"]} in changes


def test_a_failing_post_script_is_an_incident_and_retry_completes(
    deploy: Callable[..., Engine],
) -> None:
    engine = deploy("test_spiff_pre_and_post_scripts")
    case = engine.start("spiff_scripts_process", {"amount": 10, "reviews": []})
    task = engine.tasks(instance=case.id)[0]
    case = engine.complete(task.id, {})  # 'approved' is missing: the post-script fails
    assert case.state is InstanceState.ACTIVE
    assert [i.node for i in case.incidents] == ["review"]
    assert "approved" in case.incidents[0].message
    engine.set_variables(case.id, {"approved": False})
    case = engine.retry(case.id)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "review", "check", "small"]
