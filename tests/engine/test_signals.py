"""Signals: thrown by a case or from outside, heard by every case waiting for them
(intermediate catch, boundary event), and starting cases (signal start events)."""

from __future__ import annotations

from collections.abc import Callable

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import kinds
from .steps import PERSIST, pause

Deploy = Callable[..., Engine]


@PERSIST
def test_a_thrown_signal_reaches_every_waiting_case(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_signals")
    waiting = [engine.start("application").id for _ in range(2)]
    inspection = engine.start("inspection").id
    security = engine.start("security").id
    for case_id in [*waiting, inspection, security]:
        pause(engine, case_id, persist)

    (decide,) = engine.tasks(instance=security)
    case = engine.complete(decide.id)
    assert case.state is InstanceState.COMPLETED
    assert kinds(engine, security, HistoryKind.SIGNAL_THROWN) == ["close_gates"]
    for case_id in waiting:
        assert engine.instance(case_id).state is InstanceState.COMPLETED
        assert kinds(engine, case_id, HistoryKind.SIGNAL_RECEIVED) == ["wait_closure"]
    assert engine.path(inspection) == ["i_start", "closed", "i_stopped"]
    assert engine.tasks(instance=inspection) == []
    (notice,) = engine.instances(process="notice")
    assert [t.node for t in engine.tasks(instance=notice.id)] == ["post_notice"]


def test_a_signal_from_outside(deploy: Deploy) -> None:
    engine = deploy("test_signals")
    case = engine.start("application")
    assert engine.signal("gates_closed", {"reason": "typhoon"}) == 2  # one case, one start
    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {"reason": "typhoon"}
    assert engine.signal("gates_closed") == 1  # only the start event still listens
    assert engine.signal("nobody_listens") == 0
