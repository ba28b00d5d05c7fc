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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from lxml import etree

from liucheng.bpmn.model import (
    ACTIVITI_NS,
    BPMN_NS,
    CAMUNDA_NS,
    FLOWABLE_NS,
    LIUCHENG_NS,
    ZEEBE_NS,
    Definitions,
    EventDefinition,
    FlowNode,
    Process,
    Scope,
)
from liucheng.bpmn.xml_safety import fragments_mentioning, string_to_element
from liucheng.calendar import parse_working_duration
from liucheng.engine import timers
from liucheng.engine.data import DataObjects, plan_data
from liucheng.engine.data_associations import Passing, call_passings, variables_by_element
from liucheng.engine.listeners import Listener, Listeners, read_listeners
from liucheng.engine.vartypes import VarType
from liucheng.errors import BpmnValidationError, ExpressionError, LiuchengError, ValidationIssue
from liucheng.expr import PYTHON, Evaluator, Script, compile_expression, compile_script
from liucheng.expr import compile_value as _compile_value

Condition = Callable[[Mapping[str, Any]], bool]
_CALLER_KEY = re.compile(
    r"[#$]\{\s*execution\s*\.\s*(processBusinessKey|getProcessBusinessKey\(\s*\))\s*\}"
)
_CALL_MAPPING_TAGS = frozenset(
    f"{{{ns}}}{local}" for ns in (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS) for local in ("in", "out")
)
_CALENDAR_ATTR = f"{{{LIUCHENG_NS}}}calendar"


@dataclass(slots=True)
class Loop:
    """How an activity repeats: multi-instance (sequential or parallel) or a standard loop.

    A token entering the activity becomes its *body*: it waits while instance tokens run the
    activity itself, each in a scope of its own holding ``loopCounter`` and the element
    variable (see ``Run.start_loop``).
    """

    body_id: str  # the element id history gives the whole activity: ``<id>#multiInstanceBody``
    standard: bool = False  # a standard loop: one instance after another while the condition holds
    sequential: bool = False
    cardinality: Evaluator | None = None
    collection: Evaluator | None = None
    element_variable: str | None = None
    output_collection: str | None = None
    output_element: Evaluator | None = None
    completion: Condition | None = None  # multi-instance: stop early when true
    condition: Condition | None = None  # standard loop: go on while true
    test_before: bool = False
    maximum: int | None = None
    counter_base: int = 0  # Zeebe counts loopCounter from 1, Camunda and Flowable from 0


@dataclass(slots=True)
class Call:
    """What a call activity calls, and which variables go into the called case and back.

    Camunda 7 and Flowable pass only what ``camunda:in``/``camunda:out`` (``flowable:``) name,
    or everything with ``variables="all"``; Zeebe passes every visible variable in and every
    variable of the called case out unless told otherwise.  The activity's own input/output
    mappings (``zeebe:ioMapping``, ``camunda:inputOutput``) apply around that as for any task.
    """

    process: Evaluator  # the called process id
    version: int | None = None  # a fixed version; None means the latest
    all_in: bool = False
    inputs: tuple[tuple[str, Evaluator], ...] = ()
    all_out: bool = False
    outputs: tuple[tuple[str, Evaluator], ...] = ()
    business_key: Evaluator | None = None  # the called case's business key
    same_business_key: bool = False  # ``#{execution.processBusinessKey}``: the caller's key


@dataclass(slots=True)
class Flow:
    id: str
    source: str
    target: str
    condition: Condition | None = None
    listeners: tuple[Listener, ...] = ()  # ``take`` execution listeners


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
    signal: str | None = None  # the name of the signal thrown or caught
    when: Condition | None = None  # a conditional event's condition
    link: str | None = None  # a link throw event: the link catch event it goes on at
    correlation_key: Evaluator | None = None
    timer_type: str | None = None
    timer: Evaluator | None = None
    # event subprocesses: on a start event inside one, that it starts one; on a subprocess, the
    # start events of the event subprocesses it contains (CompiledProcess: the process's)
    event_start: bool = False
    event_starts: tuple[str, ...] = ()
    loop: Loop | None = None  # multi-instance or standard loop characteristics
    call: Call | None = None  # a call activity: what it calls and what passes in and out
    data: DataObjects = ()  # a subprocess: the data objects its scope starts with (engine/data.py)
    # the business calendar (by name) that working-time durations of this element's timer or
    # due date count on; None means the organisation's default (``liucheng:calendar``)
    calendar: str | None = None
    code: str | None = None  # error / escalation code (None on a catch: catch all)
    interrupting: bool = True
    # compensation and transactions
    compensation: str | None = None  # an activity: its handler, linked to its boundary event
    for_compensation: bool = False  # a compensation handler (``isForCompensation``)
    compensate_ref: str | None = None  # a compensation throw: the activity to undo; None: all
    listeners: Listeners | None = None  # execution and task listeners by event (listeners.py)
    cancel_boundary: str | None = None  # a transaction: its cancel boundary event
    # tasks
    service: str | None = None
    external: bool = False  # the service is an external task's topic
    result_variable: str | None = None
    script: Script | None = None
    pre_script: Script | None = None  # SpiffWorkflow preScript: runs before the element
    post_script: Script | None = None  # SpiffWorkflow postScript: runs as it completes
    expression: Evaluator | None = None
    decision: str | None = None
    decision_mode: str | None = None  # how a DMN result is stored (camunda:mapDecisionResult)
    assignee: Evaluator | None = None
    candidate_groups: Evaluator | None = None
    candidate_users: Evaluator | None = None
    due: Evaluator | None = None
    form_key: str | None = None
    priority: Evaluator | None = None
    computed_task: bool = False  # a user task property needs the case's variables
    # What the executor may skip, decided once the rest is known (``_plain_paths``): entering
    # runs the behaviour at once (no async continuation, loop, input mappings, pre-script or
    # listener); leaving takes the outgoing flows at once (no loop, post-script, output
    # mappings, listener, boundary event, async continuation, condition or compensation).
    plain_entry: bool = False
    plain_exit: bool = False
    # asynchronous continuation before the element (camunda:asyncBefore, flowable:async):
    # how many attempts its job gets and how long to wait between them
    async_before: bool = False
    async_after: bool = False  # camunda:asyncAfter, flowable:asyncLeave: a job takes the flows
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
    signal_starts: dict[str, str] = field(default_factory=dict)  # signal name -> start event
    content_hash: str = ""
    has_inclusive_joins: bool = False  # lets the executor skip the join check entirely
    has_conditions: bool = False  # conditional events: variables changes are watched
    has_take_listeners: bool = False  # some sequence flow has a ``take`` listener
    listeners: Listeners | None = None  # the process's own (``start``)
    event_starts: tuple[str, ...] = ()  # start events of the process's event subprocesses
    # conditional start events: ``Engine.evaluate_conditions`` starts a case at them
    conditional_starts: tuple[str, ...] = ()
    data: DataObjects = ()  # the process's data objects, variables of every case (engine/data.py)
    variable_types: dict[str, VarType] = field(default_factory=dict)  # declared types, by name


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
            "signal": "end_signal",
            "compensate": "end_compensation",
            "cancel": "end_cancel",
        }.get(kind, "unsupported")
    if tag == "intermediateCatchEvent":
        catches = {
            "timer": "catch_timer",
            "message": "catch_message",
            "signal": "catch_signal",
            "conditional": "catch_condition",
            "link": "pass",  # a link catch only continues what its throw started
        }
        return catches.get(kind or "", "unsupported")
    if tag == "intermediateThrowEvent":
        throws = {
            None: "pass",
            "message": "throw_message",
            "escalation": "throw_escalation",
            "signal": "throw_signal",
            "link": "throw_link",
            "compensate": "throw_compensation",
        }
        return throws.get(kind, "unsupported")
    if tag == "boundaryEvent":
        # compensation and cancel boundary events are never armed: see ``attach_handler``
        caught = {"timer", "message", "error", "escalation", "signal", "conditional"}
        caught |= {"compensate", "cancel"}
        return "boundary" if kind in caught else "unsupported"
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
        "eventBasedGateway": "event_gateway",
        "subProcess": "sub",
        "transaction": "sub",  # a subprocess whose cancel end event undoes its work
        "callActivity": "call",
    }.get(tag, "unsupported")


class _Compiler:
    def __init__(
        self,
        definitions: Definitions,
        process: Process,
        language: str,
        calendars: Collection[str] | None = None,
    ) -> None:
        self.calendars = calendars
        self.definitions = definitions
        self.process = process
        self.language = language
        self.issues: list[ValidationIssue] = []
        self.nodes: dict[str, Node] = {}
        self.associated = _associations(process.body)
        self._data_names: dict[str, str] | None = None
        self.has_take_listeners = False

    def issue(self, message: str, node: FlowNode | None) -> None:
        self.issues.append(
            ValidationIssue(
                message,
                element=node.id if node else self.process.id,
                line=node.line if node else self.process.line,
                source=self.definitions.source,
            )
        )

    # -- business calendars --------------------------------------------------------------------
    def calendar_of(self, fn: FlowNode, ev: EventDefinition | None) -> str | None:
        """The calendar named by ``liucheng:calendar`` on the timer definition, the element or
        the process, the nearest winning; None for the organisation's default."""
        for attrs in (ev.attrs if ev else {}, fn.attrs, self.process.attrs):
            name = attrs.get(_CALENDAR_ATTR)
            if name and name.strip():
                name = name.strip()
                if self.calendars is not None and name not in self.calendars:
                    known = ", ".join(map(repr, self.calendars))
                    self.issue(f"no business calendar is named {name!r} (there are {known})", fn)
                return name
        return None

    def check_working_time(self, text: str | None, fn: FlowNode) -> None:
        """Refuse at deploy a literal working-time duration that is written wrong (``P3WDX``)."""
        if text is None or text.startswith("=") or "$" in text or "#{" in text:
            return
        try:
            parse_working_duration(text.strip())
        except ExpressionError as exc:
            self.issue(f"bad working-time duration: {exc}", fn)

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

    def collection(self, text: str, fn: FlowNode) -> Evaluator:
        """A multi-instance collection or output element: a variable name, or an expression
        (``=…``, ``${…}``)."""
        name = text.strip()
        if name.isidentifier():

            def variable(variables: Mapping[str, Any]) -> Any:
                if name not in variables:
                    raise ExpressionError(f"the variable {name!r} is not set")
                return variables[name]

            return variable
        return self.value(name, fn) or _constant(None)

    def compile_loop(self, fn: FlowNode) -> Loop | None:
        spec = fn.loop
        assert spec is not None
        loop = Loop(f"{fn.id}#multiInstanceBody", sequential=spec.is_sequential)
        if spec.kind == "standard":
            loop.standard = loop.sequential = True
            loop.test_before = spec.test_before
            loop.maximum = spec.loop_maximum
            if spec.loop_condition is not None and spec.loop_condition.text:
                cond = spec.loop_condition
                loop.condition = self.condition(cond.text, _lang(cond.language, fn, self), fn)
            elif spec.loop_maximum is None:
                self.issue("a standard loop needs a loop condition or a loopMaximum", fn)
            return loop
        loop.counter_base = 1 if spec.zeebe else 0
        if spec.collection:
            loop.collection = self.collection(spec.collection, fn)
        elif spec.cardinality is not None and spec.cardinality.text:
            text = spec.cardinality.text
            if text.strip().isdigit():
                loop.cardinality = _constant(int(text))
            else:
                loop.cardinality = self.expression(
                    text, fn, _lang(spec.cardinality.language, fn, self)
                )
        else:
            self.issue("a multi-instance activity needs a cardinality or a collection", fn)
        loop.element_variable = spec.element_variable or None
        loop.output_collection = spec.output_collection or None
        if spec.output_element:
            if spec.output_element.isidentifier():
                loop.output_element = self.collection(spec.output_element, fn)
            else:
                loop.output_element = self.value(spec.output_element, fn)
        elif loop.output_collection and spec.zeebe:
            self.issue("an output collection needs an output element", fn)
        done = spec.completion_condition
        if done is not None and done.text:
            loop.completion = self.condition(done.text, _lang(done.language, fn, self), fn)
        return loop

    def compile_call(self, fn: FlowNode) -> Call | None:
        """Read a call activity in the standard's form (``calledElement``) and the vendors'."""
        called = fn.attrs.get("calledElement")
        version: int | None = None
        call = Call(_constant(None))
        zeebe = None
        mappings: list[etree._Element] = []
        for text in fn.extension_xml:
            try:
                el = string_to_element(text)
            except LiuchengError:  # pragma: no cover - the parser already read it once
                continue
            if el.tag == f"{{{ZEEBE_NS}}}calledElement":
                zeebe = el
            elif el.tag in _CALL_MAPPING_TAGS:
                mappings.append(el)
        if zeebe is not None:
            called = called or zeebe.get("processId")
            call.all_in = zeebe.get("propagateAllParentVariables", "true") != "false"
            call.all_out = zeebe.get("propagateAllChildVariables", "true") != "false"
        for ns in (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS):
            binding = fn.attrs.get(f"{{{ns}}}calledElementBinding")
            fixed = fn.attrs.get(f"{{{ns}}}calledElementVersion")
            if binding == "version" and fixed is not None:
                try:
                    version = int(fixed)
                except ValueError:
                    self.issue(f"calledElementVersion must be a whole number, not {fixed!r}", fn)
            elif binding not in (None, "latest"):
                self.issue(
                    f"calledElementBinding {binding!r} is not supported (use latest or version)", fn
                )
            if fn.attrs.get(f"{{{ns}}}inheritVariables") == "true":
                call.all_in = True
        if not called:
            self.issue("call activity names no called process (calledElement)", fn)
            return None
        call.process = self.value(called, fn) or _constant(None)
        call.version = version
        ins: list[tuple[str, Evaluator]] = []
        outs: list[tuple[str, Evaluator]] = []
        for el in mappings:
            is_in = el.tag.endswith("}in")
            if el.get("variables") == "all":
                if is_in:
                    call.all_in = True
                else:
                    call.all_out = True
                continue
            key = el.get("businessKey")
            if key is not None and is_in:
                if _CALLER_KEY.fullmatch(key.strip()):
                    call.same_business_key = True  # the idiom of every Camunda 7 model
                else:
                    call.business_key = self.value(key, fn)
                continue
            target = el.get("target") or el.get("source")
            source = el.get("sourceExpression") or el.get("source")
            if not target or not source:
                self.issue("a call activity in/out mapping needs a source and a target", fn)
                continue
            evaluate = (
                self.collection(source, fn)
                if el.get("sourceExpression") is None
                else self.value(source, fn) or _constant(None)
            )
            (ins if is_in else outs).append((target, evaluate))
        passed_in, passed_out, problems = call_passings(fn, self.data_names())
        for problem in problems:
            self.issue(problem, fn)
        ins.extend((p.target, self.passing(p, fn)) for p in passed_in)
        outs.extend((p.target, self.passing(p, fn)) for p in passed_out)
        call.inputs, call.outputs = tuple(ins), tuple(outs)
        return call

    def data_names(self) -> dict[str, str]:
        """Data object (reference) id -> variable name, read once per process."""
        if self._data_names is None:
            self._data_names = variables_by_element(self.process)
        return self._data_names

    def passing(self, passing: Passing, fn: FlowNode) -> Evaluator:
        """A BPMN data association's value: a variable, or an expression over the variables."""
        if passing.source is not None:
            return self.collection(passing.source, fn)
        assert passing.expression is not None
        text, language = passing.expression
        return self.expression(text, fn, _lang(language, fn, self) if language else None)

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
                armed = [b for b in boundary_ids if not self.attach_handler(b, activity)]
                self.nodes[activity].boundaries = tuple(armed)
        for fn in scope.nodes.values():
            self.link(fn, scope)
            if fn.tag == "eventBasedGateway":
                self.check_event_gateway(fn)
        self.link_events(scope)
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

    def resource_assignment(self, node: Node, fn: FlowNode) -> None:
        """BPMN's own assignment, as Activiti and Flowable read it: ``humanPerformer`` gives
        the assignee, ``potentialOwner`` candidates written ``user(id)``, ``group(id)`` or a bare
        id (a group), comma-separated.  A vendor attribute on the same task wins."""
        users: list[str] = []
        groups: list[str] = []
        for el in fragments_mentioning(fn.other_xml, ""):
            local = str(el.tag).rpartition("}")[2]
            if local not in ("humanPerformer", "potentialOwner"):
                continue
            found = el.find(f".//{{{BPMN_NS}}}formalExpression")
            expression = (found.text or "").strip() if found is not None else ""
            if not expression:
                self.issue(f"{local} has no formalExpression naming its people", fn)
                continue
            if local == "humanPerformer":
                if node.assignee is None:
                    node.assignee = self.value(_bare(expression), fn)
                continue
            if "${" in expression or "#{" in expression:
                if node.candidate_groups is None:
                    node.candidate_groups = self.value(expression, fn)
                continue
            for item in (part.strip() for part in expression.split(",")):
                kind, _, rest = item.partition("(")
                if rest.endswith(")") and kind.strip() in ("user", "group"):
                    (users if kind.strip() == "user" else groups).append(rest[:-1].strip())
                elif item:
                    groups.append(item)
        if users and node.candidate_users is None:
            node.candidate_users = _constant(tuple(users))
        if groups and node.candidate_groups is None:
            node.candidate_groups = _constant(tuple(groups))

    def node_listeners(self, node: Node, fn: FlowNode) -> None:
        """An element's execution listeners (``start``, ``end``) and a user task's task
        listeners; anything else is refused by name."""
        node.listeners = read_listeners(fn.extension_xml, lambda message: self.issue(message, fn))
        for event in node.listeners or ():
            if event == "take":
                self.issue("a take listener belongs on a sequence flow", fn)
            elif event.startswith("task:") and node.behaviour != "user":
                self.issue(f"task listeners belong on user tasks, not on a {fn.tag}", fn)

    def flow_listeners(self, flow: Flow, xml: list[str], source: FlowNode) -> None:
        def issue(message: str) -> None:
            self.issue(f"sequence flow '{flow.id}': {message}", source)

        found = read_listeners(xml, issue) or {}
        for event in found:
            if event != "take":
                issue(f"a sequence flow raises only take, not {event!r}")
        flow.listeners = found.get("take", ())
        self.has_take_listeners = self.has_take_listeners or bool(flow.listeners)

    def attach_handler(self, boundary_id: str, activity_id: str) -> bool:
        """Wire a compensation or cancel boundary event to its activity; False for others.

        Neither waits for anything: a compensation boundary event only links its activity to the
        handler (by an association), and a transaction's cancel boundary event is taken when a
        cancel end event inside it has undone its work.
        """
        boundary = self.nodes[boundary_id]
        fn = boundary.model
        activity = self.nodes[activity_id]
        if fn.event_kind == "cancel":
            if activity.tag != "transaction":
                self.issue("a cancel boundary event may only be attached to a transaction", fn)
            elif not fn.cancel_activity:
                self.issue("a cancel boundary event always interrupts (cancelActivity)", fn)
            elif activity.cancel_boundary is not None:
                self.issue(f"transaction '{activity_id}' has two cancel boundary events", fn)
            else:
                activity.cancel_boundary = boundary_id
            return True
        if fn.event_kind != "compensate":
            return False
        if fn.outgoing:
            self.issue(
                "a compensation boundary event has no outgoing sequence flow; link its handler "
                "with an association",
                fn,
            )
        handlers = [
            other
            for other in self.associated.get(boundary_id, ())
            if other in self.nodes and self.nodes[other].for_compensation
        ]
        if len(handlers) != 1:
            self.issue(
                "a compensation boundary event needs an association to exactly one activity "
                'with isForCompensation="true"',
                fn,
            )
        elif self.nodes[handlers[0]].parent != activity.parent:
            self.issue(f"compensation handler '{handlers[0]}' lies in another scope", fn)
        elif activity.compensation is not None:
            self.issue(f"'{activity_id}' has two compensation boundary events", fn)
        else:
            activity.compensation = handlers[0]
        return True

    def event_starts(self, scope: Scope) -> tuple[str, ...]:
        """The start events of the event subprocesses directly inside ``scope``."""
        found = []
        for fn in scope.nodes.values():
            if fn.triggered_by_event and fn.body is not None:
                for inner in fn.body.nodes.values():
                    if inner.tag == "startEvent" and inner.event_definitions:
                        node = self.nodes[inner.id]
                        node.event_start = True
                        node.interrupting = inner.is_interrupting
                        found.append(inner.id)
        return tuple(found)

    def check_event_subprocess(self, fn: FlowNode) -> None:
        assert fn.body is not None
        starts = [n for n in fn.body.nodes.values() if n.tag == "startEvent"]
        if len(starts) != 1 or not starts[0].event_definitions:
            self.issue("an event subprocess needs exactly one start event with a trigger", fn)
            return
        kind = starts[0].event_kind
        if kind not in ("message", "timer", "error", "escalation", "signal", "conditional"):
            self.issue(f"event subprocesses started by a {kind} event are not supported yet", fn)
        if kind == "error" and not starts[0].is_interrupting:
            self.issue("an error event subprocess is always interrupting", fn)
        if fn.incoming or fn.outgoing:
            self.issue("an event subprocess has no incoming or outgoing sequence flows", fn)

    def link_events(self, scope: Scope) -> None:
        """Pair each link throw event with the link catch event of the same name in its scope."""
        catches: dict[str, str] = {}
        throws: list[tuple[FlowNode, str]] = []
        for fn in scope.nodes.values():
            if fn.event_kind != "link" or not fn.event_definitions:
                continue
            name = fn.event_definitions[0].link_name or fn.name or ""
            if fn.tag == "intermediateCatchEvent":
                if name in catches:
                    self.issue(f"two link catch events are named {name!r} in one scope", fn)
                catches[name] = fn.id
            elif fn.tag == "intermediateThrowEvent":
                throws.append((fn, name))
        for fn, name in throws:
            target = catches.get(name)
            if target is None:
                self.issue(f"no link catch event named {name!r} in the same scope", fn)
            self.nodes[fn.id].link = target

    def check_event_gateway(self, fn: FlowNode) -> None:
        """Each flow out of an event-based gateway must lead to an event it can wait for."""
        gateway = self.nodes[fn.id]
        if fn.attrs.get("instantiate") == "true" or fn.attrs.get("eventGatewayType") == "Parallel":
            self.issue("an event-based gateway that starts cases is not supported yet", fn)
        if len(gateway.outgoing) < 2:
            self.issue("an event-based gateway needs at least two outgoing flows", fn)
        for flow in gateway.outgoing:
            target = self.nodes.get(flow.target)
            if flow.condition is not None:
                self.issue(f"flow '{flow.id}' out of an event-based gateway has a condition", fn)
            if target is None:
                continue
            waits = (
                target.timer is not None
                or target.message is not None
                or bool(target.signal)
                or target.when is not None
            )
            if target.model.tag not in ("intermediateCatchEvent", "receiveTask") or not waits:
                self.issue(
                    f"flow '{flow.id}' out of an event-based gateway leads to '{target.id}', "
                    "which is not a timer, message, signal or conditional catch event or a "
                    "receive task",
                    fn,
                )
            elif len(target.incoming) > 1:
                self.issue(
                    f"'{target.id}' after an event-based gateway may have no other incoming flow",
                    fn,
                )

    def link(self, fn: FlowNode, scope: Scope) -> None:
        node = self.nodes[fn.id]
        outgoing: list[Flow] = []
        for flow_id in fn.outgoing:
            sf = scope.flows.get(flow_id)
            if sf is None:
                self.issue(f"outgoing sequence flow '{flow_id}' does not exist", fn)
                continue
            flow = Flow(sf.id, sf.source, sf.target)
            if sf.extension_xml:
                self.flow_listeners(flow, sf.extension_xml, fn)
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
            node.loop = self.compile_loop(fn)
        props = fn.properties
        node.inputs = tuple(
            (m.target, self.value(m.source, fn) or _constant(None)) for m in fn.inputs
        )
        node.outputs = tuple(
            (m.target, self.value(m.source, fn) or _constant(None)) for m in fn.outputs
        )
        node.result_variable = props.get("result_variable") or None
        if fn.extension_xml:
            self.node_listeners(node, fn)
        node.for_compensation = fn.attrs.get("isForCompensation", "").strip() == "true"
        if node.for_compensation and (fn.incoming or fn.outgoing):
            self.issue("a compensation handler has no sequence flows", fn)
        if fn.tag == "transaction" and fn.loop is not None:
            self.issue("a multi-instance or looping transaction is not supported yet", fn)
        self.compile_async(node, fn)
        node.pre_script = self.spiff_script(props.get("pre_script"), fn)
        node.post_script = self.spiff_script(props.get("post_script"), fn)
        if fn.event_definitions:
            self.compile_event(node, fn, fn.event_definitions[0])
        if fn.tag == "boundaryEvent":
            node.interrupting = fn.cancel_activity
            if not fn.cancel_activity and fn.event_kind == "error":
                self.issue("an error boundary event always interrupts (cancelActivity)", fn)
        if node.behaviour == "user":
            node.assignee = self.value(props.get("assignee"), fn)
            node.candidate_groups = self.value(props.get("candidate_groups"), fn)
            node.candidate_users = self.value(props.get("candidate_users"), fn)
            node.due = self.value(props.get("due_date"), fn)
            if node.due is not None:
                node.calendar = self.calendar_of(fn, None)
                self.check_working_time(props.get("due_date"), fn)
            node.priority = self.value(props.get("priority"), fn)
            node.form_key = props.get("form_key") or None
            if fn.other_xml:
                self.resource_assignment(node, fn)
            node.computed_task = any(
                (
                    node.assignee,
                    node.candidate_groups,
                    node.candidate_users,
                    node.due,
                    node.priority,
                )
            )
        elif node.behaviour == "service" and _flowable_type(fn) == "dmn":
            self.compile_flowable_decision(node, fn)
        elif node.behaviour in ("service", "send"):
            node.service = _service_name(props.get("service"), props.get("service_type"))
            node.external = props.get("service_type") == "external"
            if props.get("expression"):
                node.expression = self.expression(props["expression"], fn)
        elif node.behaviour == "script":
            self.compile_script(node, fn)
        elif node.behaviour == "rule":
            node.decision = props.get("decision_ref") or None
            node.decision_mode = props.get("map_decision_result") or None
            if node.decision is None:
                self.issue("business rule task names no decision", fn)
        elif node.behaviour == "call":
            node.call = self.compile_call(fn)
        elif node.behaviour in ("receive",):
            self.compile_message(node, fn, fn.message_ref)
        if node.behaviour == "send":
            node.message = self.message_name(fn.message_ref) if fn.message_ref else None
        if fn.body is not None:
            node.start = self.compile_scope(fn.body, fn.id)
            if node.start is None and not fn.triggered_by_event:
                self.issue("subprocess has no none start event", fn)
            node.event_starts = self.event_starts(fn.body)
            if fn.triggered_by_event:
                self.check_event_subprocess(fn)
        return node

    def compile_flowable_decision(self, node: Node, fn: FlowNode) -> None:
        """Flowable's decision task: ``serviceTask flowable:type="dmn"`` naming its decision in
        a ``decisionTableReferenceKey`` field.  It runs as a business rule task that stores
        results as Flowable does (see ``Run.decide_dmn``)."""
        node.behaviour = "rule"
        fields = _fields(fn)
        if "decisionServiceReferenceKey" in fields:
            self.issue(
                "Flowable decision services (decisionServiceReferenceKey) are not supported", fn
            )
            return
        key = fields.get("decisionTableReferenceKey")
        if not key:
            self.issue("a Flowable decision task names no decisionTableReferenceKey", fn)
            return
        if "${" in key or "#{" in key:
            self.issue("a decisionTableReferenceKey given by an expression is not supported", fn)
            return
        node.decision = key.strip()
        strict = fields.get("decisionTaskThrowErrorOnNoHits", "").strip().lower() == "true"
        node.decision_mode = "flowable_strict" if strict else "flowable"

    def compile_async(self, node: Node, fn: FlowNode) -> None:
        """``asyncBefore``: the token stops before the element and a job carries it on;
        ``asyncAfter``: the element completes, and a job takes the token on from there.

        The job's retry policy comes from ``camunda:failedJobRetryTimeCycle`` ("R5/PT1M": five
        attempts a minute apart); without one, three attempts one after the other, as Camunda.
        """
        flags = [fn.attrs.get(f"{{{ns}}}{name}") for ns, name in _ASYNC_BEFORE]
        node.async_before = any(flag is not None and flag.strip() == "true" for flag in flags)
        flags = [fn.attrs.get(f"{{{ns}}}{name}") for ns, name in _ASYNC_AFTER]
        node.async_after = any(flag is not None and flag.strip() == "true" for flag in flags)
        if node.async_after and fn.loop is not None:
            self.issue("asyncAfter on a multi-instance or looping activity is not supported", fn)
        if not (node.async_before or node.async_after or node.behaviour == "service"):
            return  # a failing service call is retried by a job too (``Run.retry_later``)
        for xml in fn.extension_xml:
            retries = _ZEEBE_RETRIES.search(xml)
            if retries is not None:  # zeebe:taskDefinition retries="n": n attempts in all
                try:
                    node.job_attempts = max(1, int(retries.group(1).strip()))
                except ValueError:
                    self.issue(f"zeebe retries must be a whole number: {retries.group(1)!r}", fn)
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
                self.check_working_time(text, fn)
            node.calendar = self.calendar_of(fn, ev)
        elif ev.kind == "message":
            self.compile_message(node, fn, ev.ref)
        elif ev.kind == "error":
            if ev.ref is not None:
                err = self.definitions.errors.get(ev.ref)
                node.code = (err.error_code or err.name or err.id) if err else ev.ref
        elif ev.kind == "conditional":
            if ev.condition is None or not ev.condition.text.strip():
                self.issue("conditional event has no condition", fn)
            else:
                text, lang = ev.condition.text.strip(), _lang(ev.condition.language, fn, self)
                node.when = self.condition(text, lang, fn)
        elif ev.kind == "signal":
            sig = self.definitions.signals.get(ev.ref) if ev.ref else None
            node.signal = (sig.name or sig.id) if sig else ev.ref
            if not node.signal:
                self.issue("signal event names no signal", fn)
        elif ev.kind == "compensate":
            node.compensate_ref = (ev.attrs.get("activityRef") or "").strip() or None
            if ev.attrs.get("waitForCompletion", "true").strip() == "false":
                self.issue(
                    'waitForCompletion="false" is not supported: a compensation throw waits '
                    "for its handlers",
                    fn,
                )
        elif ev.kind == "escalation" and ev.ref is not None:
            esc = self.definitions.escalations.get(ev.ref)
            node.code = (esc.escalation_code or esc.name or esc.id) if esc else ev.ref


_ASYNC_BEFORE = (
    (CAMUNDA_NS, "asyncBefore"),
    (FLOWABLE_NS, "async"),
    (ACTIVITI_NS, "async"),
)
_ASYNC_AFTER = (
    (CAMUNDA_NS, "asyncAfter"),
    (FLOWABLE_NS, "asyncLeave"),
    (ACTIVITI_NS, "asyncLeave"),
)
_ZEEBE_RETRIES = re.compile(r"taskDefinition\b[^>]*\bretries=\"([^\"]*)\"")
_RETRY_CYCLE = re.compile(r"failedJobRetryTimeCycle[^>]*>([^<]*)<")


def _associations(body: Scope) -> dict[str, set[str]]:
    """Element id -> the elements an association links it with (either direction), from the
    artifacts of ``body`` and every subprocess inside it."""
    linked: dict[str, set[str]] = {}
    scopes = [body]
    while scopes:
        scope = scopes.pop()
        scopes.extend(fn.body for fn in scope.nodes.values() if fn.body is not None)
        for el in fragments_mentioning(scope.artifacts_xml, "association"):
            if el.tag != f"{{{BPMN_NS}}}association":
                continue
            source, target = (
                (el.get("sourceRef") or "").strip(),
                (el.get("targetRef") or "").strip(),
            )
            if source and target:
                linked.setdefault(source, set()).add(target)
                linked.setdefault(target, set()).add(source)
    return linked


def _check_compensation(compiler: _Compiler) -> None:
    """What only the whole process can tell: thrown compensation names an activity that exists,
    and a cancel end event lies directly in a transaction that has a cancel boundary event."""
    nodes = compiler.nodes
    for node in nodes.values():
        if node.compensate_ref is not None and node.compensate_ref not in nodes:
            compiler.issue(f"compensation names no activity '{node.compensate_ref}'", node.model)
        if node.behaviour == "end_cancel":
            owner = nodes.get(node.parent) if node.parent else None
            if owner is None or owner.tag != "transaction":
                compiler.issue(
                    "a cancel end event may only be used inside a transaction", node.model
                )
            elif owner.cancel_boundary is None:
                compiler.issue(
                    f"transaction '{owner.id}' has a cancel end event but no cancel boundary event",
                    node.model,
                )


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


def _bare(expression: str) -> str:
    """``user(kermit)`` -> ``kermit``: a human performer may be written either way."""
    text = expression.strip()
    if text.startswith("user(") and text.endswith(")"):
        return text[5:-1].strip()
    return text


def _flowable_type(fn: FlowNode) -> str | None:
    """``flowable:type`` (or Activiti's) of a service task: "dmn", "http", "external-worker"..."""
    return fn.attrs.get(f"{{{FLOWABLE_NS}}}type") or fn.attrs.get(f"{{{ACTIVITI_NS}}}type")


def _fields(fn: FlowNode) -> dict[str, str]:
    """Flowable / Activiti ``field`` extension elements: name -> literal text (a ``string``
    child, a ``stringValue`` attribute, or an ``expression`` as written)."""
    found: dict[str, str] = {}
    for el in fragments_mentioning(fn.extension_xml, "field"):
        if el.tag not in (f"{{{FLOWABLE_NS}}}field", f"{{{ACTIVITI_NS}}}field"):
            continue
        name = el.get("name")
        if not name:
            continue
        value = el.get("stringValue") or el.get("expression")
        for child in el:
            if isinstance(child.tag, str) and child.tag.rpartition("}")[2] in (
                "string",
                "expression",
            ):
                value = child.text or ""
        found[name] = (value or "").strip()
    return found


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


def _plan_data(compiler: _Compiler, compiled: CompiledProcess) -> None:
    """Data objects of the process and its subprocesses, and the declared variable types."""

    def issue(message: str, element: str | None, line: int | None) -> None:
        source = compiler.definitions.source
        compiler.issues.append(ValidationIssue(message, element=element, line=line, source=source))

    plan = plan_data(compiler.definitions, compiler.process, issue)
    compiled.data, compiled.variable_types = plan.process, plan.types
    for node_id, specs in plan.subprocesses.items():
        compiler.nodes[node_id].data = specs


def _plain_paths(nodes: Iterable[Node]) -> None:
    """Mark the nodes a token enters or leaves with nothing to do but move on.

    Most elements of most processes are plain: the executor then skips a dozen checks on the
    way in and out of each (a tenth of a straight line's work).
    """
    for node in nodes:
        node.plain_entry = (
            not node.async_before
            and node.loop is None
            and not node.inputs
            and node.pre_script is None
            and node.listeners is None
        )
        node.plain_exit = (
            node.loop is None
            and node.post_script is None
            and not node.outputs
            and node.listeners is None
            and not node.boundaries
            and not node.async_after
            and node.unconditional
            and node.compensation is None
            and not any(flow.listeners for flow in node.outgoing)
        )


def compile_process(
    definitions: Definitions,
    process: Process,
    *,
    language: str,
    version: int = 1,
    calendars: Collection[str] | None = None,
) -> CompiledProcess:
    """Compile one process of a parsed file; raise BpmnValidationError listing every problem.

    ``calendars`` are the names of the organisation's business calendars: a timer or due date
    naming another is refused here, at deploy, rather than when a case reaches it.
    """
    compiler = _Compiler(definitions, process, language, calendars)
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
        elif fn.event_kind == "signal" and node.signal:
            compiled.signal_starts[node.signal] = fn.id
        elif fn.event_kind == "conditional":
            if node.when is not None:  # (else compile_event reported the missing condition)
                compiled.conditional_starts += (fn.id,)
        else:
            compiler.issue(f"{fn.event_kind} start events are not supported yet", fn)
    compiled.timer_starts = tuple(timer_starts)
    _plan_data(compiler, compiled)
    _check_compensation(compiler)
    compiled.has_take_listeners = compiler.has_take_listeners
    if process.extension_xml:
        compiled.listeners = read_listeners(
            process.extension_xml, lambda message: compiler.issue(f"process: {message}", None)
        )
        for event in compiled.listeners or ():
            if event != "start":
                compiler.issue(
                    f"a process {event!r} listener is not supported; put an end listener on "
                    "its end events"
                    if event == "end"
                    else f"a process raises no {event!r} event",
                    None,
                )
    compiled.event_starts = compiler.event_starts(process.body)
    compiled.has_conditions = any(
        n.when is not None and n.id not in compiled.conditional_starts
        for n in compiler.nodes.values()
    )
    compiled.has_inclusive_joins = any(
        n.behaviour == "or" and len(n.incoming) > 1 for n in compiler.nodes.values()
    )
    _plain_paths(compiler.nodes.values())
    if (
        start is None
        and not timer_starts
        and not compiled.message_starts
        and not (compiled.signal_starts)
        and not compiled.conditional_starts
    ):
        compiler.issue("process has no start event", None)
    if compiler.issues:
        raise BpmnValidationError(compiler.issues)
    return compiled
