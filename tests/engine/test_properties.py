"""Property tests: random *sound* block-structured processes always run to completion.

The generator builds a tree of blocks — user tasks, plain tasks, FEEL script tasks, sequences,
exclusive blocks (conditions on a per-gateway variable, always with a default), parallel blocks,
inclusive blocks (conditions on a per-gateway list of booleans, with a default branch) and loops
(reset a counter, run the body, increment, leave when the counter reaches a bound) — and writes it
out as BPMN XML.  Every such process is sound, so whatever the data and whatever order the open
user tasks are completed in:

* the case completes;
* at every wait state each live token waits in a user task (one open task each) or at a join,
  nothing is stuck in an incident, and the history accounts for every live token: each
  ELEMENT_STARTED is matched by a COMPLETED or CANCELLED except for exactly the live tokens;
* a twin case stored and restored at every wait state has the same history (kinds, elements,
  variables, details) as the one that stayed in memory.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng import Clock, Engine, HistoryKind, InstanceState

from .conftest import START, roundtrip
from .steps import comparable_history

# == the block tree ============================================================================

# ("user",) | ("task",) | ("script",) | (kind, [children]) | ("loop", child)
Block = tuple[Any, ...]

LEAVES = st.sampled_from([("user",), ("task",), ("script",)])


def _extend(children: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
    several = st.lists(children, min_size=2, max_size=3)
    return st.one_of(
        several.map(lambda cs: ("seq", cs)),
        several.map(lambda cs: ("xor", cs)),
        several.map(lambda cs: ("and", cs)),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: ("or", cs)),
        children.map(lambda c: ("loop", c)),
    )


BLOCKS = st.recursive(LEAVES, _extend, max_leaves=8)


# == BPMN writer ===============================================================================

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
             id="defs" targetNamespace="https://liucheng.test/properties">
  <process id="generated" isExecutable="true">
"""
FOOTER = """  </process>
</definitions>
"""


@dataclass
class Model:
    """A generated process: its XML and the variables its gateways and loops read."""

    nodes: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    xors: dict[str, int] = field(default_factory=dict)  # variable -> number of branches
    ors: dict[str, int] = field(default_factory=dict)  # variable -> number of conditional branches
    loops: list[str] = field(default_factory=list)  # counter variables
    joins: set[str] = field(default_factory=set)
    user_tasks: set[str] = field(default_factory=set)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def node(self, xml: str) -> None:
        self.nodes.append("    " + xml)

    def flow(self, source: str, target: str, condition: str | None = None) -> str:
        flow_id = self.new("f")
        if condition is None:
            self.flows.append(
                f'    <sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
            )
        else:
            self.flows.append(
                f'    <sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
                f'<conditionExpression xsi:type="tFormalExpression">{condition}'
                "</conditionExpression></sequenceFlow>"
            )
        return flow_id

    def script(self, expression: str, result: str) -> str:
        node_id = self.new("s")
        self.node(
            f'<scriptTask id="{node_id}"><extensionElements><zeebe:script '
            f'expression="{expression}" resultVariable="{result}"/></extensionElements>'
            "</scriptTask>"
        )
        return node_id

    def gateway(self, tag: str, prefix: str, default: str | None = None) -> str:
        node_id = self.new(prefix)
        attr = f' default="{default}"' if default else ""
        self.node(f'<{tag} id="{node_id}"{attr}/>')
        return node_id

    def emit(self, block: Block) -> tuple[str, str]:
        """Write ``block``; return its entry and exit nodes."""
        kind = block[0]
        if kind == "user":
            node_id = self.new("u")
            self.node(f'<userTask id="{node_id}"/>')
            self.user_tasks.add(node_id)
            return node_id, node_id
        if kind == "task":
            node_id = self.new("t")
            self.node(f'<task id="{node_id}"/>')
            return node_id, node_id
        if kind == "script":
            node_id = self.script("=steps + 1", "steps")
            return node_id, node_id
        if kind == "seq":
            parts = [self.emit(child) for child in block[1]]
            for (_, out), (entry, _) in itertools.pairwise(parts):
                self.flow(out, entry)
            return parts[0][0], parts[-1][1]
        if kind == "loop":
            counter = self.new("n")
            bound = f"{counter}_bound"
            self.loops.append(counter)
            reset = self.script("=0", counter)
            merge = self.gateway("exclusiveGateway", "lm")
            entry, out = self.emit(block[1])
            count = self.script(f"={counter} + 1", counter)
            check_id = self.new("lx")
            exit_id = self.new("le")
            self.flow(reset, merge)
            self.flow(merge, entry)
            self.flow(out, count)
            self.flow(count, check_id)
            self.flow(check_id, exit_id, f"{counter} &gt;= {bound}")
            back = self.flow(check_id, merge)
            self.node(f'<exclusiveGateway id="{check_id}" default="{back}"/>')
            self.node(f'<task id="{exit_id}"/>')
            return reset, exit_id
        children: list[Block] = block[1]
        if kind == "and":
            split = self.gateway("parallelGateway", "as")
            join = self.gateway("parallelGateway", "aj")
            for child in children:
                entry, out = self.emit(child)
                self.flow(split, entry)
                self.flow(out, join)
            self.joins.add(join)
            return split, join
        if kind == "xor":
            var = self.new("x")
            self.xors[var] = len(children)
            split_id, join = self.new("xs"), self.gateway("exclusiveGateway", "xj")
            default = None
            for i, child in enumerate(children):
                entry, out = self.emit(child)
                last = i == len(children) - 1
                flow_id = self.flow(split_id, entry, None if last else f"{var} = {i}")
                default = flow_id if last else default
                self.flow(out, join)
            self.node(f'<exclusiveGateway id="{split_id}" default="{default}"/>')
            return split_id, join
        assert kind == "or"
        var = self.new("o")
        self.ors[var] = len(children)
        split_id, join = self.new("os"), self.gateway("inclusiveGateway", "oj")
        for i, child in enumerate(children):
            entry, out = self.emit(child)
            self.flow(split_id, entry, f"{var}[{i + 1}]")
            self.flow(out, join)
        fallback = self.new("od")
        self.node(f'<task id="{fallback}"/>')
        default = self.flow(split_id, fallback)
        self.flow(fallback, join)
        self.node(f'<inclusiveGateway id="{split_id}" default="{default}"/>')
        self.joins.add(join)
        return split_id, join

    def xml(self) -> str:
        return HEADER + "\n".join(self.nodes + self.flows) + "\n" + FOOTER


def build(tree: Block) -> Model:
    model = Model()
    model.node('<startEvent id="start"/>')
    model.node('<endEvent id="end"/>')
    entry, out = model.emit(tree)
    model.flow("start", entry)
    model.flow(out, "end")
    return model


def variables_for(model: Model, data: st.DataObject) -> dict[str, Any]:
    """Draw the data that steers the gateways and bounds the loops."""
    values: dict[str, Any] = {"steps": 0}
    for var, branches in model.xors.items():
        values[var] = data.draw(st.integers(0, branches - 1), label=var)
    for var, branches in model.ors.items():
        values[var] = data.draw(st.lists(st.booleans(), min_size=branches, max_size=branches))
    for counter in model.loops:
        values[f"{counter}_bound"] = data.draw(st.integers(1, 3), label=f"{counter}_bound")
    return values


# == running a case ============================================================================

MAX_STEPS = 200


def check_tokens(engine: Engine, case_id: str, model: Model) -> None:
    """Every live token is accounted for, in the case state and in its history."""
    stored = json.loads(engine.dump(case_id))
    tokens = {tid: (node, state, via) for tid, node, _scope, state, via, _local in stored["tokens"]}
    assert stored["incidents"] == [], stored["incidents"]
    tasks = engine.tasks(instance=case_id)
    assert sorted(t.token for t in tasks) == sorted(
        tid for tid, (node, _, _) in tokens.items() if node in model.user_tasks
    )
    for node, state, _via in tokens.values():
        assert state == "waiting"
        assert node in model.user_tasks or node in model.joins, node
    # At most one token per user task; at a join, at most one per incoming flow.
    per_node = Counter(node for node, _, _ in tokens.values())
    for node, count in per_node.items():
        if node in model.user_tasks:
            assert count == 1, (node, count)
        else:
            vias = [via for n, _, via in tokens.values() if n == node]
            assert len(set(vias)) == len(vias), (node, vias)
    # The history's open elements are exactly the live tokens.
    open_: dict[int, str] = {}
    for event in engine.history(case_id):
        if event.kind is HistoryKind.ELEMENT_STARTED:
            assert event.token is not None and event.token not in open_, event
            open_[event.token] = event.element or ""
        elif event.kind in (HistoryKind.ELEMENT_COMPLETED, HistoryKind.ELEMENT_CANCELLED):
            assert event.token is not None
            assert open_.pop(event.token) == event.element, event
    assert open_ == {tid: node for tid, (node, _, _) in tokens.items()}


def run(
    engine: Engine,
    model: Model,
    variables: dict[str, Any],
    choices: list[int],
    *,
    persist: bool,
) -> str:
    """Start a case and complete its open tasks in the order ``choices`` picks."""
    case = engine.start("generated", variables)
    for step in itertools.count():
        assert step < MAX_STEPS, "the case did not finish"
        check_tokens(engine, case.id, model)
        tasks = sorted(engine.tasks(instance=case.id), key=lambda t: t.node)
        if not tasks:
            break
        if persist:
            roundtrip(engine, case.id)
        pick = choices[step] % len(tasks)
        engine.complete(tasks[pick].id, {"last": tasks[pick].node})
    case = engine.instance(case.id)
    assert case.state is InstanceState.COMPLETED, case
    assert engine.dump(case.id)
    return case.id


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tree=BLOCKS, data=st.data())
def test_generated_processes_complete_and_survive_roundtrips(
    tree: Block, data: st.DataObject
) -> None:
    model = build(tree)
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(model.xml().encode())
    variables = variables_for(model, data)
    choices = data.draw(st.lists(st.integers(0, 7), min_size=MAX_STEPS, max_size=MAX_STEPS))

    plain = run(engine, model, variables, choices, persist=False)
    stored = run(engine, model, variables, choices, persist=True)

    assert comparable_history(engine, stored) == comparable_history(engine, plain)
    assert engine.path(stored) == engine.path(plain)
    assert engine.instance(stored).variables == engine.instance(plain).variables
    assert kinds_balance(engine, plain)


def kinds_balance(engine: Engine, case_id: str) -> bool:
    """After completion every element started was completed or cancelled."""
    count = Counter(e.kind for e in engine.history(case_id))
    ended = count[HistoryKind.ELEMENT_COMPLETED] + count[HistoryKind.ELEMENT_CANCELLED]
    return count[HistoryKind.ELEMENT_STARTED] == ended and count[HistoryKind.INCIDENT_RAISED] == 0


def test_a_known_tricky_shape() -> None:
    """An inclusive block inside a parallel block inside a loop (a classic OR-join trap)."""
    tree: Block = ("loop", ("and", [("or", [("user",), ("user",)]), ("user",)]))
    model = build(tree)
    engine = Engine(clock=Clock.frozen(START))
    engine.deploy(model.xml().encode())
    variables: dict[str, Any] = {"steps": 0}
    variables.update({var: [True, False] for var in model.ors})
    variables.update({f"{c}_bound": 2 for c in model.loops})
    for choices in ([0] * MAX_STEPS, [1] * MAX_STEPS):
        run(engine, model, variables, choices, persist=False)
