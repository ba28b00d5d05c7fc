"""Expressions see the engine's clock: ``now()`` follows ``engine.clock``, not the wall clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from liucheng import Engine, HistoryKind, InstanceState

from .conftest import START, kinds


def test_feel_now_reads_the_engine_clock(deploy: Callable[..., Engine]) -> None:
    engine = deploy("test_expressions_read_the_engine_clock")
    case = engine.start("clock_process")
    assert datetime.fromisoformat(case.variables["stamped_at"]) == START
    engine.clock.advance(minutes=59)
    assert engine.run_due_jobs() == 0
    engine.clock.advance(minutes=1)
    assert engine.run_due_jobs() == 1
    assert engine.instance(case.id).state is InstanceState.COMPLETED
    assert kinds(engine, case.id, HistoryKind.TIMER_FIRED) == ["wait"]
    assert engine.path(case.id) == ["start", "stamp", "wait", "end"]


def test_python_scripts_read_the_engine_clock(engine: Engine) -> None:
    xml = """<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
      targetNamespace="t" expressionLanguage="python"><process id="p" isExecutable="true">
      <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
      <scriptTask id="t" scriptFormat="python"><script>year = datetime.now().year</script>
      </scriptTask><sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>
      </process></definitions>"""
    engine.deploy(xml)
    engine.clock.advance(days=366)
    case = engine.start("p")
    assert case.variables["year"] == START.year + 1
