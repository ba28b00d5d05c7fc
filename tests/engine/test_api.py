"""The public Engine API: deployment and versions, refusals that change nothing, lookups."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import (
    BpmnParseError,
    BpmnValidationError,
    ConflictError,
    Engine,
    InstanceState,
    LiuchengError,
    UnknownInstanceError,
    UnknownProcessError,
)

from .conftest import MODELS
from .steps import complete_at, open_nodes

Deploy = Callable[..., Engine]
VERSIONED = MODELS / "test_redeploy_versions.bpmn"


def test_redeploy_versions(engine: Engine) -> None:
    [first] = engine.deploy(VERSIONED)
    assert (first.process_id, first.name, first.version, first.new) == (
        "versioned",
        "Versioned",
        1,
        True,
    )

    # The same bytes again, from a path or as bytes: nothing new.
    [again] = engine.deploy(VERSIONED)
    [as_bytes] = engine.deploy(VERSIONED.read_bytes())
    assert (again.version, again.new) == (1, False)
    assert (as_bytes.version, as_bytes.new) == (1, False)
    assert again.content_hash == first.content_hash

    old_case = engine.start("versioned")
    assert old_case.version == 1

    changed = VERSIONED.read_text().replace('id="first_step"', 'id="first_step" name="Check"')
    [second] = engine.deploy(changed)
    assert (second.version, second.new) == (2, True)
    assert second.content_hash != first.content_hash
    assert [p.version for p in engine.processes()] == [2]

    new_case = engine.start("versioned")
    assert new_case.version == 2
    assert engine.tasks(instance=new_case.id)[0].name == "Check"
    pinned = engine.start("versioned", version=1)
    assert pinned.version == 1
    assert engine.tasks(instance=pinned.id)[0].name is None

    # A running case stays on the version it started with.
    assert engine.instance(old_case.id).version == 1
    assert engine.tasks(instance=old_case.id)[0].name is None
    case = complete_at(engine, old_case.id, "first_step")
    assert case.state is InstanceState.COMPLETED
    assert case.version == 1

    # Version 1's bytes again differ from the latest: they become version 3 (as in Camunda).
    [back] = engine.deploy(VERSIONED)
    assert (back.version, back.new) == (3, True)
    assert [p.version for p in engine.processes()] == [3]

    for bad in (0, 5, -1):
        with pytest.raises(UnknownProcessError):
            engine.start("versioned", version=bad)


def test_unknown_process(engine: Engine) -> None:
    with pytest.raises(UnknownProcessError):
        engine.start("nope")
    engine.deploy(VERSIONED)
    with pytest.raises(UnknownProcessError, match="nope"):
        engine.start("nope")
    with pytest.raises(UnknownProcessError):
        engine.start("versioned", version=2)
    assert engine.instances() == []


def test_invalid_model_lists_all_issues(engine: Engine) -> None:
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_invalid_model_lists_all_issues.bpmn")

    issues = caught.value.issues
    assert sorted(issue.element or "" for issue in issues) == ["b", "choose", "f4"]
    assert all(issue.line for issue in issues)
    text = str(caught.value)
    assert "nowhere" in text and "default" in text and "complex gateway" in text
    # The valid process in the same file is not deployed either.
    assert engine.processes() == []
    with pytest.raises(UnknownProcessError):
        engine.start("fine_neighbour")


def test_unreadable_sources(engine: Engine, tmp_path: object) -> None:
    with pytest.raises(LiuchengError):
        engine.deploy(MODELS / "no_such_file.bpmn")
    with pytest.raises(BpmnParseError):
        engine.deploy(b"<definitions")
    with pytest.raises(LiuchengError):
        engine.deploy("<notbpmn/>")
    assert engine.processes() == []


def test_deploy_with_python_dialect(engine: Engine) -> None:
    model = MODELS / "test_deploy_with_python_dialect.bpmn"
    as_feel = Engine()
    as_feel.deploy(model)
    stuck = as_feel.start("python_dialect", {"visitors": ["a"], "banned": False})
    [incident] = stuck.incidents  # FEEL has no function `len`
    assert (incident.node, incident.kind) == ("size", "expression")

    engine.deploy(model, expression_language="python")
    group = engine.start("python_dialect", {"visitors": ["a", "b", "c"], "banned": False})
    small = engine.start("python_dialect", {"visitors": ["a"], "banned": False})
    assert engine.path(group.id) == ["start", "size", "group"]
    assert engine.path(small.id) == ["start", "size", "small"]


def test_default_language_of_the_engine() -> None:
    engine = Engine(expression_language="python")
    engine.deploy(MODELS / "test_deploy_with_python_dialect.bpmn")
    case = engine.start("python_dialect", {"visitors": [1, 2, 3], "banned": True})
    assert engine.path(case.id) == ["start", "size", "small"]


def test_business_key_is_unique_per_process(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    engine.deploy(VERSIONED)
    first = engine.start("one_task", business_key="B-1")
    with pytest.raises(ConflictError):
        engine.start("one_task", business_key="B-1")
    other = engine.start("versioned", business_key="B-1")  # another process may reuse it
    assert {c.id for c in engine.instances()} == {first.id, other.id}
    assert first.business_key == "B-1"
    assert engine.tasks(instance=first.id)[0].business_key == "B-1"


def test_unknown_case(engine: Engine) -> None:
    for call in (engine.instance, engine.history, engine.path, engine.dump, engine.cancel):
        with pytest.raises(UnknownInstanceError):
            call("no-such-case")
    with pytest.raises(UnknownInstanceError):
        engine.set_variables("no-such-case", {"a": 1})
    with pytest.raises(UnknownInstanceError):
        engine.retry("no-such-case")
    with pytest.raises(UnknownInstanceError):
        engine.tasks(instance="no-such-case")


def test_instances_filters(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    engine.deploy(VERSIONED)
    waiting = engine.start("one_task")
    done = engine.start("one_task")
    complete_at(engine, done.id, "fill_in")
    other = engine.start("versioned")

    assert {c.id for c in engine.instances(process="one_task")} == {waiting.id, done.id}
    assert [c.id for c in engine.instances(state=InstanceState.COMPLETED)] == [done.id]
    assert [c.id for c in engine.instances(state="completed")] == [done.id]
    assert {c.id for c in engine.instances(state=InstanceState.ACTIVE)} == {waiting.id, other.id}
    assert [c.id for c in engine.instances(process="versioned", state="active")] == [other.id]


def test_cancel_removes_open_tasks(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start("one_task")
    task = engine.tasks(instance=case.id)[0]

    case = engine.cancel(case.id)

    assert case.state is InstanceState.TERMINATED
    assert open_nodes(engine, case.id) == []
    assert engine.tasks() == []
    with pytest.raises(ConflictError):
        engine.complete(task.id)
