"""Property test: compensation undoes exactly the completed work, most recent first.

Hypothesis builds a sequence of activities with compensation handlers — script tasks, and
embedded subprocesses holding more of them, some subprocesses with a handler of their own — and
a compensation throw at the end, after a user task (a wait state, where the case may be stored
and restored).  Whatever the shape, the handlers must run in exactly this order: walking the
completed work backwards, a subprocess with its own handler is undone by that handler alone,
one without by undoing its body backwards.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng import Clock, Engine, InstanceState

from .conftest import START, roundtrip

# ("task",) | ("sub", own_handler, [children])
Item = tuple[Any, ...]

ITEMS = st.recursive(
    st.just(("task",)),
    lambda children: st.tuples(
        st.just("sub"), st.booleans(), st.lists(children, min_size=1, max_size=3)
    ),
    max_leaves=10,
)
SEQUENCES = st.lists(ITEMS, min_size=1, max_size=4)

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
             id="defs" targetNamespace="https://liucheng.test/properties">
<process id="undo" isExecutable="true">
"""


class _Writer:
    """Writes the model and, alongside, what completes: ``done`` entries are a task's name or
    ``(subprocess name, has its own handler, its body's entries)``."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)

    def handler(self, name: str, for_id: str) -> str:
        """A compensation boundary on ``for_id`` and its script handler, which logs ``name``."""
        n = next(self.ids)
        return (
            f'<boundaryEvent id="b{n}" attachedToRef="{for_id}"><compensateEventDefinition/>'
            f"</boundaryEvent>"
            f'<scriptTask id="h{n}" isForCompensation="true"><extensionElements>'
            f'<zeebe:script expression="=append(undone, &quot;{name}&quot;)" '
            f'resultVariable="undone"/></extensionElements></scriptTask>'
            f'<association id="a{n}" sourceRef="b{n}" targetRef="h{n}"/>'
        )

    def sequence(self, items: list[Item], start: str, end: str, done: list[Any]) -> str:
        """Elements from ``start`` through each item to ``end``, linked by flows."""
        parts = []
        previous = start
        for item in items:
            n = next(self.ids)
            if item[0] == "task":
                node = f"t{n}"
                parts.append(
                    f'<scriptTask id="{node}"><extensionElements>'
                    f'<zeebe:script expression="=true" resultVariable="done_{node}"/>'
                    f"</extensionElements></scriptTask>"
                )
                parts.append(self.handler(node, node))
                done.append(node)
            else:
                _, own, children = item
                node = f"s{n}"
                body: list[Any] = []
                inner = self.sequence(children, f"{node}_start", f"{node}_end", body)
                parts.append(
                    f'<subProcess id="{node}"><startEvent id="{node}_start"/>{inner}'
                    f'<endEvent id="{node}_end"/></subProcess>'
                )
                if own:
                    parts.append(self.handler(node, node))
                done.append((node, own, body))
            parts.append(self.flow(previous, node))
            previous = node
        parts.append(self.flow(previous, end))
        return "".join(parts)

    def flow(self, source: str, target: str) -> str:
        return f'<sequenceFlow id="f{next(self.ids)}" sourceRef="{source}" targetRef="{target}"/>'


def model(items: list[Item]) -> tuple[bytes, list[str]]:
    """The BPMN file, and the handlers that must run, in order."""
    writer = _Writer()
    done: list[Any] = []
    body = writer.sequence(items, "start", "review", done)
    tail = (
        '<userTask id="review"/><intermediateThrowEvent id="throw"><compensateEventDefinition/>'
        '</intermediateThrowEvent><endEvent id="end"/>'
        + writer.flow("review", "throw")
        + writer.flow("throw", "end")
    )
    xml = HEADER + '<startEvent id="start"/>' + body + tail + "</process></definitions>"
    return xml.encode(), _undo(done)


def _undo(done: list[Any]) -> list[str]:
    """Backwards through the completed work; a subprocess by its own handler, else its body."""
    result: list[str] = []
    for entry in reversed(done):
        if isinstance(entry, str):
            result.append(entry)
        else:
            name, own, inner = entry
            result.extend([name] if own else _undo(inner))
    return result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=SEQUENCES, persist=st.booleans())
def test_compensation_undoes_completed_work_backwards(items: list[Item], persist: bool) -> None:
    engine = Engine(clock=Clock.frozen(START))
    xml, expected = model(items)
    engine.deploy(xml)
    case = engine.start("undo", {"undone": []})
    if persist:
        roundtrip(engine, case.id)
    (review,) = engine.tasks(instance=case.id)
    done = engine.complete(review.id)
    assert done.state is InstanceState.COMPLETED
    assert done.variables["undone"] == expected
    assert engine.instance(done.id).incidents == ()
