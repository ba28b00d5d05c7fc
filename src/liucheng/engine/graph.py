"""Compile a parsed BPMN process into the structure the executor walks.

Everything that can be decided before a case runs is decided here, once per deployment: which
behaviour each node has, its outgoing flows with their conditions already compiled, its boundary
events, the start event of each subprocess, and for inclusive joins the set of nodes from which a
token could still arrive.  The executor's hot path then does dictionary lookups and calls
closures, nothing more.

A model that cannot run (an expression that does not compile, a subprocess without a start
event) fails here with an error naming the element, so a bad deployment changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from liucheng.bpmn.model import (
    ACTIVITI_NS,
    CAMUNDA_NS,
    FLOWABLE_NS,
    Definitions,
    EventDefinition,
    FlowNode,
    Process,
    Scope,
)
from liucheng.engine import timers
from liucheng.errors import BpmnValidationError, ExpressionError, ValidationIssue
from liucheng.expr import PYTHON, Evaluator, Script, compile_expression, compile_script
from liucheng.expr import compile_value as _compile_value

Condition = Callable[[Mapping[str, Any]], bool]


@dataclass(slots=True)
class Flow:
    id: str
    source: str
    target: str
    condition: Condition | None = None


@dataclass(slots=True)
class Node:
    """A flow node with everything the executor needs, precomputed."""

    id: str
    tag: str
    name: str | None
    behaviour: str
    model: FlowNode
    parent: str | None  # the subprocess whose body holds this node; None at process level
    incoming: tuple[str, ...] = ()
    outgoing: tuple[Flow, ...] = ()  # in document order, the default flow excluded
    default: Flow | None = None
    unconditional: bool = True  # no outgoing flow has a condition: take them all
    boundaries: tuple[str, ...] = ()
    start: str | None = None  # subprocess: its none start event
    inputs: tuple[tuple[str, Evaluator], ...] = ()
    outputs: tuple[tuple[str, Evaluator], ...] = ()
    # events
    message: str | None = None
    correlation_key: Evaluator | None = None
    timer_type: str | None = None
    timer: Evaluator | None = None
    code: str | None = None  # error / escalation code (None on a catch: catch all)
    interrupting: bool = True
    # tasks
    service: str | None = None
    external: bool = False  # the service is an external task's topic
    result_variable: str | None = None
    script: Script | None = None
    pre_script: Script | None = None  # SpiffWorkflow preScript: runs before the element
    post_script: Script | None = None  # SpiffWorkflow postScript: runs as it completes
    expression: Evaluator | None = None
    decision: str | None = None
    assignee: Evaluator | None = None
    candidate_groups: Evaluator | None = None
    candidate_users: Evaluator | None = None
    due: Evaluator | None = None
    form_key: str | None = None
    priority: Evaluator | None = None
    computed_task: bool = False  # a user task property needs the case's variables
    # asynchronous continuation before the element (camunda:asyncBefore, flowable:async):
    # how many attempts its job gets and how long to wait between them
    async_before: bool = False
    job_attempts: int = 3
    job_delay: str | None = None  # ISO 8601 duration text
    # inclusive joins: nodes of the same scope from which a token may still arrive ...
    reach: frozenset[str] = frozenset()
    # ... the source of each incoming flow, the nodes that reach each incoming flow (its source
    # included), and the predecessors of every node in ``reach`` (see ``Run.join_must_wait``)
    flow_sources: dict[str, str] = field(default_factory=dict)
    reach_by_flow: dict[str, frozenset[str]] = field(default_factory=dict)
    upstream: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(slots=True)
class CompiledProcess:
    id: str
    name: str | None
    version: int
    definitions: Definitions
    process: Process
    language: str
    nodes: dict[str, Node] = field(default_factory=dict)
    start: str | None = None  # the none start event at process level
    timer_starts: tuple[str, ...] = ()
    message_starts: dict[str, str] = field(default_factory=dict)  # message name -> start event
    content_hash: str = ""
    has_inclusive_joins: bool = False  # lets the executor skip the join check entirely


def _behaviour(node: FlowNode) -> str:
    tag = node.tag
    kind = node.event_kind
    if tag in ("task", "manualTask"):
        return "pass"
    if tag == "startEvent":
        return "pass"
    if tag == "endEvent":
        return {
            None: "end",
            "terminate": "end_terminate",
            "error": "end_error",
            "escalation": "end_escalation",
            "message": "end_message",
        }.get(kind, "unsupported")
    if tag == "intermediateCatchEvent":
        return {"timer": "catch_timer", "message": "catch_message"}.get(kind or "", "unsupported")
    if tag == "intermediateThrowEvent":
        return {None: "pass", "message": "throw_message", "escalation": "throw_escalation"}.get(
            kind, "unsupported"
        )
    if tag == "boundaryEvent":
        return "boundary" if kind in ("timer", "message", "error", "escalation") else "unsupported"
    return {
        "userTask": "user",
        "serviceTask": "service",
        "scriptTask": "script",
        "businessRuleTask": "rule",
        "sendTask": "send",
        "receiveTask": "receive",
        "exclusiveGateway": "xor",
        "parallelGateway": "and",
        "inclusiveGateway": "or",
        "subProcess": "sub",
    }.get(tag, "unsupported")


class _Compiler:
    def __init__(self, definitions: Definitions, process: Process, language: str) -> None:
        self.definitions = definitions
        self.process = process
        self.language = language
        self.issues: list[ValidationIssue] = []
        self.nodes: dict[str, Node] = {}

    def issue(self, message: str, node: FlowNode | None) -> None:
        self.issues.append(
            ValidationIssue(
                message,
                element=node.id if node else self.process.id,
                line=node.line if node else self.process.line,
                source=self.definitions.source,
            )
        )

    # -- expressions ---------------------------------------------------------------------------
    def expression(self, text: str, node: FlowNode, language: str | None = None) -> Evaluator:
        try:
            if text.startswith("="):
                return compile_expression(text[1:], "feel")
            return compile_expression(text, language or self.language)
        except ExpressionError as exc:
            self.issue(str(exc.at_element(node.id)), node)
            return _fail(exc)

    def value(self, text: str | None, node: FlowNode) -> Evaluator | None:
        """A property that is literal text unless written as an expression (``=x``)."""
        if text is None or text == "":
            return None
        try:
            return _compile_value(text, "feel")
        except ExpressionError as exc:
            self.issue(str(exc.at_element(node.id)), node)
            return _fail(exc)

    def condition(self, text: str, language: str | None, node: FlowNode) -> Condition:
        lang = language or self.language
        if text.startswith("="):
            text, lang = text[1:], "feel"
        evaluate = self.expression(text, node, lang)
        return _truthy(evaluate) if lang == PYTHON else _is_true(evaluate)

    # -- structure -----------------------------------------------------------------------------
    def compile_scope(self, scope: Scope, parent: str | None) -> str | None:
        """Compile the nodes of one scope; return its none start event."""
        start: str | None = None
        attached: dict[str, list[str]] = {}
        for fn in scope.nodes.values():
            node = self.compile_node(fn, parent)
            self.nodes[fn.id] = node
            if fn.tag == "boundaryEvent" and fn.attached_to:
                attached.setdefault(fn.attached_to, []).append(fn.id)
            if fn.tag == "startEvent" and not fn.event_definitions and start is None:
                start = fn.id
        for activity, boundary_ids in attached.items():
            if activity in self.nodes:
                self.nodes[activity].boundaries = tuple(boundary_ids)
        for fn in scope.nodes.values():
            self.link(fn, scope)
        joins = [
            f for f in scope.nodes.values() if f.tag == "inclusiveGateway" and len(f.incoming) > 1
        ]
        if joins:
            predecessors = _predecessors(scope, attached)
            for fn in joins:
                node = self.nodes[fn.id]
                node.reach = _reaching([fn.id], fn.id, predecessors)
                node.upstream = {n: frozenset(predecessors.get(n, ())) for n in node.reach}
                for flow_id in fn.incoming:
                    sf = scope.flows.get(flow_id)
                    if sf is None or sf.source == fn.id:
                        continue
                    node.flow_sources[flow_id] = sf.source
                    node.reach_by_flow[flow_id] = _reaching([sf.source], fn.id, predecessors) | {
                        sf.source
                    }
        return start

    def link(self, fn: FlowNode, scope: Scope) -> None:
        node = self.nodes[fn.id]
        outgoing: list[Flow] = []
        for flow_id in fn.outgoing:
            sf = scope.flows.get(flow_id)
            if sf is None:
                self.issue(f"outgoing sequence flow '{flow_id}' does not exist", fn)
                continue
            flow = Flow(sf.id, sf.source, sf.target)
            if sf.condition is not None and sf.condition.text.strip():
                flow.condition = self.condition(
                    sf.condition.text.strip(), _lang(sf.condition.language, fn, self), fn
                )
            if fn.default == sf.id:
                node.default = flow
            else:
                outgoing.append(flow)
        node.outgoing = tuple(outgoing)
        node.unconditional = node.default is None and all(f.condition is None for f in outgoing)
        node.incoming = tuple(fn.incoming)

    def compile_node(self, fn: FlowNode, parent: str | None) -> Node:
        node = Node(fn.id, fn.tag, fn.name, _behaviour(fn), fn, parent)
        if node.behaviour == "unsupported":
            kind = f" with a {fn.event_kind} event definition" if fn.event_kind else ""
            self.issue(f"'{fn.tag}'{kind} is not supported yet", fn)
        if fn.loop is not None:
            self.issue(f"{fn.loop.kind} loop characteristics are not supported yet", fn)
        if fn.triggered_by_event:
            self.issue("event subprocesses are not supported yet", fn)
        props = fn.properties
        node.inputs = tuple(
            (m.target, self.value(m.source, fn) or _constant(None)) for m in fn.inputs
        )
        node.outputs = tuple(
            (m.target, self.value(m.source, fn) or _constant(None)) for m in fn.outputs
        )
        node.result_variable = props.get("result_variable") or None
        self.compile_async(node, fn)
        node.pre_script = self.spiff_script(props.get("pre_script"), fn)
        node.post_script = self.spiff_script(props.get("post_script"), fn)
        if fn.event_definitions:
            self.compile_event(node, fn, fn.event_definitions[0])
        if fn.tag == "boundaryEvent":
            node.interrupting = fn.cancel_activity
        if node.behaviour == "user":
            node.assignee = self.value(props.get("assignee"), fn)
            node.candidate_groups = self.value(props.get("candidate_groups"), fn)
            node.candidate_users = self.value(props.get("candidate_users"), fn)
            node.due = self.value(props.get("due_date"), fn)
            node.priority = self.value(props.get("priority"), fn)
            node.form_key = props.get("form_key") or None
            node.computed_task = any(
                (
                    node.assignee,
                    node.candidate_groups,
                    node.candidate_users,
                    node.due,
                    node.priority,
                )
            )
        elif node.behaviour in ("service", "send"):
            node.service = _service_name(props.get("service"), props.get("service_type"))
            node.external = props.get("service_type") == "external"
            if props.get("expression"):
                node.expression = self.expression(props["expression"], fn)
        elif node.behaviour == "script":
            self.compile_script(node, fn)
        elif node.behaviour == "rule":
            node.decision = props.get("decision_ref") or None
            if node.decision is None:
                self.issue("business rule task names no decision", fn)
        elif node.behaviour in ("receive",):
            self.compile_message(node, fn, fn.message_ref)
        if node.behaviour == "send":
            node.message = self.message_name(fn.message_ref) if fn.message_ref else None
        if fn.body is not None:
            node.start = self.compile_scope(fn.body, fn.id)
            if node.start is None and not fn.triggered_by_event:
                self.issue("subprocess has no none start event", fn)
        return node

    def compile_async(self, node: Node, fn: FlowNode) -> None:
        """``asyncBefore``: the token stops before the element and a job carries it on.

        The job's retry policy comes from ``camunda:failedJobRetryTimeCycle`` ("R5/PT1M": five
        attempts a minute apart); without one, three attempts one after the other, as Camunda.
        """
        after = fn.attrs.get(f"{{{CAMUNDA_NS}}}asyncAfter")
        if after is not None and after.strip() == "true":
            self.issue("asyncAfter is not supported yet (asyncBefore is)", fn)
        flags = [fn.attrs.get(f"{{{ns}}}{name}") for ns, name in _ASYNC_BEFORE]
        node.async_before = any(flag is not None and flag.strip() == "true" for flag in flags)
        if not node.async_before:
            return
        for xml in fn.extension_xml:
            found = _RETRY_CYCLE.search(xml)
            if found is None:
                continue
            text = found.group(1).strip()
            try:
                cycle = timers.parse_cycle(text, UTC)
            except ExpressionError as exc:
                self.issue(f"failedJobRetryTimeCycle {text!r}: {exc.message}", fn)
                return
            if cycle.repetitions is None or cycle.repetitions < 1 or cycle.start is not None:
                self.issue(f"failedJobRetryTimeCycle {text!r}: write Rn/duration, e.g. R3/PT5M", fn)
                return
            node.job_attempts = cycle.repetitions
            node.job_delay = str(cycle.interval)

    def spiff_script(self, text: str | None, fn: FlowNode) -> Script | None:
        """SpiffWorkflow's pre- and post-scripts are always Python, whatever the file's default."""
        if text is None or not text.strip():
            return None
        try:
            return compile_script(text, PYTHON)
        except ExpressionError as exc:
            self.issue(str(exc.at_element(fn.id)), fn)
            return None

    def compile_script(self, node: Node, fn: FlowNode) -> None:
        if fn.properties.get("expression"):  # zeebe:script: a FEEL expression with a result
            node.expression = self.expression(fn.properties["expression"], fn)
            return
        fmt = (fn.script_format or "").strip().lower()
        lang = fmt or self.language
        if lang in ("python", "python3", "text/x-python"):
            lang = PYTHON
        if not fn.script:
            self.issue("script task has no script", fn)
            return
        try:
            if lang == "feel":
                node.expression = compile_expression(fn.script.strip().lstrip("="), "feel")
            else:
                node.script = compile_script(fn.script, lang)
        except ExpressionError as exc:
            self.issue(str(exc.at_element(fn.id)), fn)

    def message_name(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        message = self.definitions.messages.get(ref)
        if message is None:
            return ref
        return message.name or message.id

    def compile_message(self, node: Node, fn: FlowNode, ref: str | None) -> None:
        node.message = self.message_name(ref)
        if node.message is None:
            self.issue("message event or task names no message", fn)
        key = fn.properties.get("correlation_key")
        if key:
            node.correlation_key = self.expression(key, fn)

    def compile_event(self, node: Node, fn: FlowNode, ev: EventDefinition) -> None:
        if ev.kind == "timer":
            node.timer_type = ev.timer_type
            if ev.timer is None or not ev.timer.text.strip():
                self.issue("timer event has no time date, duration or cycle", fn)
                return
            text = ev.timer.text.strip()
            if text.startswith("="):
                node.timer = self.expression(text[1:], fn, "feel")
            elif (ev.timer.language and _lang(ev.timer.language, fn, self) == PYTHON) or (
                self.language == PYTHON
            ):
                node.timer = self.expression(text, fn, PYTHON)
            else:
                node.timer = self.value(text, fn)
        elif ev.kind == "message":
            self.compile_message(node, fn, ev.ref)
        elif ev.kind == "error":
            if ev.ref is not None:
                err = self.definitions.errors.get(ev.ref)
                node.code = (err.error_code or err.name or err.id) if err else ev.ref
        elif ev.kind == "escalation" and ev.ref is not None:
            esc = self.definitions.escalations.get(ev.ref)
            node.code = (esc.escalation_code or esc.name or esc.id) if esc else ev.ref


_ASYNC_BEFORE = (
    (CAMUNDA_NS, "asyncBefore"),
    (FLOWABLE_NS, "async"),
    (ACTIVITI_NS, "async"),
)
_RETRY_CYCLE = re.compile(r"failedJobRetryTimeCycle[^>]*>([^<]*)<")


def _lang(declared: str | None, fn: FlowNode, compiler: _Compiler) -> str | None:
    from liucheng.expr import language_name

    try:
        return language_name(declared)
    except ExpressionError as exc:
        compiler.issue(str(exc.at_element(fn.id)), fn)
        return None


def _predecessors(scope: Scope, attached: dict[str, list[str]]) -> dict[str, set[str]]:
    """Each node's predecessors in ``scope``.

    An activity precedes its boundary events, since a boundary event can fire while a token waits
    in the activity: the activity reaches whatever its boundary events reach.
    """
    predecessors: dict[str, set[str]] = {}
    for sf in scope.flows.values():
        predecessors.setdefault(sf.target, set()).add(sf.source)
    for activity, boundary_ids in attached.items():
        for b in boundary_ids:
            predecessors.setdefault(b, set()).add(activity)
    return predecessors


def _reaching(targets: list[str], join: str, predecessors: dict[str, set[str]]) -> frozenset[str]:
    """Nodes from which a path leads to one of ``targets`` without passing through ``join``."""
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        current = stack.pop()
        for pred in predecessors.get(current, ()):
            if pred != join and pred not in seen:
                seen.add(pred)
                stack.append(pred)
    return frozenset(seen)


def _service_name(service: str | None, kind: str | None) -> str | None:
    """The handler's name; a Camunda delegate expression ``${ledger}`` names ``ledger``."""
    if not service:
        return None
    text = service.strip()
    if kind == "delegate" and text[:2] in ("${", "#{") and text.endswith("}"):
        inner = text[2:-1].strip()
        if inner.isidentifier():
            return inner
    return service


def _fail(exc: ExpressionError) -> Evaluator:
    def evaluate(_variables: Mapping[str, Any]) -> Any:
        raise exc

    return evaluate


def _constant(value: Any) -> Evaluator:
    def evaluate(_variables: Mapping[str, Any]) -> Any:
        return value

    return evaluate


def _is_true(evaluate: Evaluator) -> Condition:
    def condition(variables: Mapping[str, Any]) -> bool:
        return evaluate(variables) is True

    return condition


def _truthy(evaluate: Evaluator) -> Condition:
    def condition(variables: Mapping[str, Any]) -> bool:
        return bool(evaluate(variables))

    return condition


def compile_process(
    definitions: Definitions, process: Process, *, language: str, version: int = 1
) -> CompiledProcess:
    """Compile one process of a parsed file; raise BpmnValidationError listing every problem."""
    compiler = _Compiler(definitions, process, language)
    start = compiler.compile_scope(process.body, None)
    compiled = CompiledProcess(
        process.id, process.name, version, definitions, process, language, compiler.nodes, start
    )
    timer_starts: list[str] = []
    for fn in process.body.nodes.values():
        if fn.tag != "startEvent" or not fn.event_definitions:
            continue
        node = compiler.nodes[fn.id]
        if fn.event_kind == "timer":
            timer_starts.append(fn.id)
        elif fn.event_kind == "message" and node.message:
            compiled.message_starts[node.message] = fn.id
        else:
            compiler.issue(f"start events with a {fn.event_kind} trigger are not supported yet", fn)
    compiled.timer_starts = tuple(timer_starts)
    compiled.has_inclusive_joins = any(
        n.behaviour == "or" and len(n.incoming) > 1 for n in compiler.nodes.values()
    )
    if start is None and not timer_starts and not compiled.message_starts:
        compiler.issue("process has no start event", None)
    if compiler.issues:
        raise BpmnValidationError(compiler.issues)
    return compiled
