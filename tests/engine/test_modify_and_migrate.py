"""Operators correcting running cases: moving a token (process instance modification) and
moving a case to a new version with a mapping of element ids (migration), both in history."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import ConflictError, Engine, HistoryKind, InstanceState, LiuchengError

from .conftest import MODELS
from .steps import PERSIST, complete_at, open_nodes, pause

Deploy = Callable[..., Engine]


def _details(engine: Engine, case_id: str, kind: HistoryKind) -> list[str | None]:
    return [e.detail for e in engine.history(case_id) if e.kind is kind]


@PERSIST
def test_move_a_token_forward(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_modify_v1")
    case = engine.start("licence")
    (review,) = engine.tasks(instance=case.id)
    pause(engine, case.id, persist)
    case = engine.move(case.id, "review", "approve", reason="reviewed on paper")
    assert open_nodes(engine, case.id) == ["approve"]
    assert _details(engine, case.id, HistoryKind.MODIFIED) == [
        "review -> approve: reviewed on paper"
    ]
    with pytest.raises(ConflictError):
        engine.complete(review.id)
    case = complete_at(engine, case.id, "approve", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == ["start", "approve", "end"]


def test_move_refuses_what_is_not_there(deploy: Deploy) -> None:
    engine = deploy("test_modify_v1")
    case = engine.start("licence")
    with pytest.raises(ConflictError, match="no token at 'approve'"):
        engine.move(case.id, "approve", "review")
    with pytest.raises(LiuchengError, match="no element 'nowhere'"):
        engine.move(case.id, "review", "nowhere")
    assert open_nodes(engine, case.id) == ["review"]  # nothing changed


@PERSIST
def test_migrate_a_waiting_case_to_the_new_version(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_modify_v1")
    case = engine.start("licence")
    engine.deploy(MODELS / "test_modify_v2.bpmn")
    pause(engine, case.id, persist)
    with pytest.raises(LiuchengError, match="'review' \\(version 2 has no 'review'\\)"):
        engine.migrate(case.id, 2)
    assert engine.instance(case.id).version == 1  # a refused migration changes nothing

    case = engine.migrate(case.id, 2, {"review": "document_review"}, reason="new rules")
    assert case.version == 2
    assert open_nodes(engine, case.id) == ["document_review"]
    assert _details(engine, case.id, HistoryKind.MIGRATED) == [
        "version 1 -> 2 (review -> document_review): new rules"
    ]
    for node in ("document_review", "approve", "notify"):
        case = complete_at(engine, case.id, node, persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id)[-3:] == ["approve", "notify", "end"]
