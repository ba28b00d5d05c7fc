"""BPMN execution semantics: moving tokens through a compiled process.

One ``Run`` performs one operation on one instance (start it, complete a task, deliver a message,
fire a timer, retry an incident).  It puts tokens on an agenda and advances them until every token
waits (user task, catch event, subprocess, join) or has ended — a *step* from one wait state to
the next.  The caller reads the clock once and passes ``now`` in; nothing here does I/O.

Failure policy: a problem in the model or its data while the case runs (an expression that
fails, an exclusive gateway with no matching flow, a service handler that raises, an uncaught
BPMN error) parks the token concerned in an *incident* and the rest of the case carries on.  An
incident is resolved by ``retry`` after the data or the handler has been fixed.

Variables follow Camunda's scoping: a name is looked up from the innermost scope outwards; setting
a name updates it where it already exists, and a new name lands on the process scope unless an
input mapping made it local to an activity or subprocess.
"""

from __future__ import annotations

import copy
import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from itertools import chain
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from liucheng.calendar import BusinessCalendar, CalendarSet
from liucheng.dmn import DecisionModel, DecisionResult, map_decision_result
from liucheng.engine import compensation, timers
from liucheng.engine.codec import check_storable
from liucheng.engine.data import DataObjects, initial_values
from liucheng.engine.graph import CompiledProcess, Flow, Node
from liucheng.engine.listeners import Listener
from liucheng.engine.state import (
    Changes,
    ExternalTask,
    HistoryKind,
    Incident,
    Instance,
    InstanceState,
    ScopeState,
    Subscription,
    SubscriptionKind,
    Token,
    TokenState,
    UserTask,
)
from liucheng.errors import BpmnError, ExpressionError, LiuchengError
from liucheng.expr import Script

_TEXT = {kind: kind.value for kind in HistoryKind}
_new_tuple = tuple.__new__
_flat = chain.from_iterable  # a mapping's items as one flat tuple's contents: ``Changes``
_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})
_NO_MESSAGES: list[Any] = []  # shared and never appended to: see ``publish``
_NO_EFFECTS: list[Any] = []  # the same for ``effect``
AFTER_MARK = "after"  # the mark of a job that continues after its element (``Run.park``)
_STARTED: str = HistoryKind.ELEMENT_STARTED.value
_COMPLETED: str = HistoryKind.ELEMENT_COMPLETED.value
_FLOW_TAKEN: str = HistoryKind.FLOW_TAKEN.value
_CHANGED: str = HistoryKind.VARIABLES_CHANGED.value
_TASK_CREATED: str = HistoryKind.TASK_CREATED.value
_TASK_COMPLETED: str = HistoryKind.TASK_COMPLETED.value
# Enum members as module constants for the hot path: in Python 3.11 ``TokenState.READY`` goes
# through ``EnumType.__getattr__`` (about ten times the cost of reading a global).
_READY = TokenState.READY
_WAITING = TokenState.WAITING
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo organisation's zone, when none is configured

ServiceHandler = Callable[[dict[str, Any]], Mapping[str, Any] | Any]
DecisionHandler = Callable[[dict[str, Any]], Any]


@dataclass(slots=True)
class OutgoingMessage:
    """A message thrown by a case, to be correlated by the engine after the step."""

    name: str
    key: str | None
    variables: dict[str, Any]
    instance_id: str
    element: str


@dataclass(slots=True)
class CallStart:
    """A call activity asks for a new case (started by the engine after the step)."""

    case_id: str
    process_id: str
    version: int | None
    variables: dict[str, Any]
    business_key: str | None
    parent: str
    parent_token: int


@dataclass(slots=True)
class CallEnded:
    """A called case ended: completed (``error`` None), or by a BPMN error it did not catch."""

    parent: str
    case_id: str
    variables: dict[str, Any]
    error: tuple[str | None, str] | None = None  # (code, message)


@dataclass(slots=True)
class CallEscalated:
    """A called case raised an escalation it did not catch: its call activity may."""

    parent: str
    case_id: str
    code: str | None


@dataclass(slots=True)
class CallCancelled:
    """A call activity was cancelled: the case it called is cancelled with it."""

    case_id: str


@dataclass(slots=True)
class SignalThrown:
    """A signal was thrown: every case waiting for it hears it, and it may start cases."""

    name: str
    variables: dict[str, Any]


Effect = CallStart | CallEnded | CallEscalated | CallCancelled | SignalThrown


def _random_case_id() -> str:
    return uuid.uuid4().hex


def _any_process(process_id: str, version: int | None) -> bool:
    return False


def _nothing() -> None:
    return None


@dataclass(slots=True)
class Environment:
    """What a run may call out to: handlers registered with the engine, and the time zone."""

    services: dict[str, ServiceHandler] = field(default_factory=dict)
    decisions: dict[str, DecisionHandler] = field(default_factory=dict)
    # deployed DMN decisions by id, each with the model (file) that holds it
    dmn: dict[str, DecisionModel] = field(default_factory=dict)
    # call activities: a new case id, and whether a process (version) is deployed
    new_case_id: Callable[[], str] = _random_case_id
    has_process: Callable[[str, int | None], bool] = _any_process
    timezone: tzinfo | None = None
    # the organisation's business calendars; working-time durations (``P3WD``) count on them
    calendars: CalendarSet = field(default_factory=CalendarSet.standard)
    # called before a registered handler runs, since it may take long (a network call): the
    # store settles what it has queued, so a worker's claim can expire while it waits
    calling_out: Callable[[], None] = _nothing

    def calendar(self, name: str | None) -> BusinessCalendar:
        """The calendar a timer or due date names, or the default one."""
        return self.calendars.resolve(name)


class Run:
    """One operation on one instance; create a new Run for every operation."""

    __slots__ = (
        "agenda",
        "changed",
        "effects",
        "env",
        "history",
        "inst",
        "now",
        "outbox",
        "proc",
        "resuming",
        "seq0",
        "tokens",
    )

    def __init__(
        self, proc: CompiledProcess, env: Environment, inst: Instance, now: datetime
    ) -> None:
        self.proc = proc
        self.env = env
        self.inst = inst
        self.now = now
        self.agenda: list[int] = []  # first in, first out: a list is cheaper to make than a deque
        self.outbox: list[OutgoingMessage] = _NO_MESSAGES  # replaced by a list on first send
        self.effects: list[Effect] = _NO_EFFECTS  # on other cases: call activities, see ``effect``
        self.changed = False  # variables changed: conditional events ask their conditions again
        self.tokens = inst.tokens
        self.history = inst.history
        self.seq0 = inst.history_base + 1  # the sequence number of history[0]
        self.resuming: int | None = None  # the token a job is carrying past its async boundary

    # == history ================================================================================
    def record(
        self,
        kind: HistoryKind,
        element: str | None = None,
        token: int | None = None,
        variables: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        h = self.history
        # A plain tuple with the kind as text, changes flat: see ``Instance.history`` for why.
        changes = tuple(_flat(variables.items())) if variables is not None else None
        h.append((self.seq0 + len(h), self.now, _TEXT[kind], element, token, changes, detail))

    # == variables ==============================================================================
    def view(self, tok: Token) -> Mapping[str, Any]:
        """The variables visible to a token, innermost scope first."""
        scopes = self.inst.scopes
        sid: int | None = tok.local if tok.local is not None else tok.scope
        if sid == 0:
            return scopes[0].variables
        return self.scope_view(sid)

    def scope_view(self, sid: int | None) -> Mapping[str, Any]:
        scopes = self.inst.scopes
        chain: list[MutableMapping[str, Any]] = []
        while sid is not None:
            scope = scopes[sid]
            chain.append(scope.variables)
            sid = scope.parent
        return ChainMap(*chain) if len(chain) > 1 else chain[0]

    def set_variables(
        self,
        sid: int,
        values: Mapping[str, Any],
        element: str | None,
        changes: Changes | None = None,
    ) -> None:
        """Set each variable where it already lives, else on the process scope.

        ``changes`` is ``values`` already as history ``Changes``, when the caller made them.
        """
        if not values:
            return
        self.changed = True
        scopes = self.inst.scopes
        if sid == 0:
            scopes[0].variables.update(values)  # the process scope: every name lands there
        else:
            for name, value in values.items():
                s: int | None = sid
                while s is not None:
                    scope = scopes[s]
                    if name in scope.variables or scope.parent is None:
                        scope.variables[name] = value
                        break
                    s = scope.parent
        flat = changes or tuple(_flat(values.items()))
        h = self.history  # ``record`` inlined: once per task completion and handler result
        h.append((self.seq0 + len(h), self.now, _CHANGED, element, None, flat, None))

    def create_data_objects(self, sid: int, element: str | None, specs: DataObjects) -> None:
        """A scope began: its data objects become its variables (see engine/data.py)."""
        created = initial_values(specs, self.inst.scopes[sid].variables, self.tz)
        if created:
            self.changed = True
            self.record(HistoryKind.VARIABLES_CHANGED, element, variables=created)

    def delete_variables(self, sid: int, names: list[str], element: str | None) -> None:
        self.changed = True
        scopes = self.inst.scopes
        for name in names:
            s: int | None = sid
            while s is not None:
                scope = scopes[s]
                if name in scope.variables:
                    del scope.variables[name]
                    break
                s = scope.parent
        self.record(HistoryKind.VARIABLES_CHANGED, element, variables=dict.fromkeys(names))

    # == tokens =================================================================================
    def new_token(self, node: str, scope: int, via: str | None = None) -> Token:
        tok = Token(self.inst.new_id(), node, scope, _READY, via)
        self.tokens[tok.id] = tok
        return tok

    def schedule(self, tok: Token) -> None:
        tok.state = _READY
        self.agenda.append(tok.id)

    def drain(self) -> None:
        """Advance every ready token until all wait or end, then settle inclusive joins."""
        agenda = self.agenda
        tokens = self.tokens
        nodes = self.proc.nodes
        while True:
            while agenda:
                tok = tokens.get(agenda.pop(0))
                if tok is None or tok.state is not _READY:
                    continue
                self.enter(tok, nodes[tok.node])
            if self.proc.has_inclusive_joins and self.fire_inclusive_joins():
                continue
            if self.changed and self.proc.has_conditions and self.fire_conditions():
                continue
            return

    def enter(self, tok: Token, node: Node) -> None:
        if node.plain_entry:  # nothing to check on the way in: see ``Node.plain_entry``
            h = self.history  # ``record`` inlined: this runs for every element a token enters
            h.append((self.seq0 + len(h), self.now, _STARTED, node.id, tok.id, None, None))
            _BEHAVIOURS[node.behaviour](self, tok, node)
            return
        if node.async_before and tok.id != self.resuming:
            self.park(tok, node)
            return
        if node.loop is not None and self.inst.scopes[tok.scope].node != node.id:
            self.start_loop(tok, node)  # the token is the whole activity's: it waits for them
            return
        h = self.history  # ``record`` inlined: this runs for every element a token enters
        h.append((self.seq0 + len(h), self.now, _STARTED, node.id, tok.id, None, None))
        if node.inputs and node.behaviour != "sub":
            values = self.evaluate_mappings(tok, node, node.inputs, self.view(tok))
            if values is None:
                return
            local = ScopeState(self.inst.new_id(), tok.scope, node.id, tok.id, values)
            self.inst.scopes[local.id] = local
            tok.local = local.id
        if node.pre_script is None and node.listeners is None:
            _BEHAVIOURS[node.behaviour](self, tok, node)
        else:
            self.execute(tok, node)

    def execute(self, tok: Token, node: Node) -> None:
        if node.listeners is not None and not self.notify(tok, node, "start"):
            return
        if node.pre_script is not None and not self.apply_script(tok, node, node.pre_script):
            return
        _BEHAVIOURS[node.behaviour](self, tok, node)

    def evaluate_mappings(
        self,
        tok: Token,
        node: Node,
        mappings: tuple[tuple[str, Callable[[Mapping[str, Any]], Any]], ...],
        view: Mapping[str, Any],
        *,
        leaving: bool = False,
    ) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        try:
            for target, evaluate in mappings:
                values[target] = evaluate(view)
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)), leaving)
            return None
        return values

    def leave(
        self,
        tok: Token,
        node: Node,
        flows: list[Flow] | tuple[Flow, ...] | None = None,
        view: Mapping[str, Any] | None = None,
    ) -> None:
        """Complete ``node`` for ``tok`` and send it along its outgoing flows.

        An incident raised here is marked ``leaving``: the element's work is done, so a retry
        only leaves it again.
        """
        if node.plain_exit and tok.local is None:  # nothing to do first: see ``Node.plain_exit``
            if flows is None:
                flows = node.outgoing
        else:
            flows = self.exit_work(tok, node, flows, view)
            if flows is None:
                return
        h = self.history  # ``record`` inlined: this runs for every element a token leaves
        now = self.now
        h.append((self.seq0 + len(h), now, _COMPLETED, node.id, tok.id, None, None))
        if len(flows) == 1:  # the common case, without the loop of ``take``
            flow = flows[0]
            h.append((self.seq0 + len(h), now, _FLOW_TAKEN, flow.id, tok.id, None, None))
            tok.node = flow.target
            tok.via = flow.id
            tok.state = _READY
            self.agenda.append(tok.id)
        elif flows:
            self.take(tok, flows)
        else:
            self.consume(tok)

    def exit_work(
        self,
        tok: Token,
        node: Node,
        flows: list[Flow] | tuple[Flow, ...] | None,
        view: Mapping[str, Any] | None,
    ) -> list[Flow] | tuple[Flow, ...] | None:
        """What leaving ``node`` does before the token moves on: loops, scripts, output
        mappings, listeners, boundary events, asynchronous continuations, conditions and
        compensation.  Returns the flows to take, or None when the token goes no further now.
        """
        if node.loop is not None and self.leave_loop(tok, node, view):
            return None
        if node.post_script is not None and not self.apply_script(
            tok, node, node.post_script, leaving=True
        ):
            return None
        if node.outputs:
            values = self.evaluate_mappings(
                tok,
                node,
                node.outputs,
                view if view is not None else self.view(tok),
                leaving=True,
            )
            if values is None:
                return None
            self.set_variables(tok.scope, values, node.id)
        if node.listeners is not None and not self.notify(tok, node, "end", leaving=True):
            return None
        if tok.local is not None:
            del self.inst.scopes[tok.local]
            tok.local = None
        if node.boundaries:
            self.drop_subscriptions(tok.id)
        if node.async_after:
            self.park(tok, node, after=True)  # completed; a job takes the flows (``go_on``)
            return None
        if flows is None:
            flows = node.outgoing if node.unconditional else self.select_flows(tok, node, True)
            if flows is None:
                return None
        if self.proc.has_take_listeners and not self.notify_take(tok, node, flows):
            return None
        if node.compensation is not None and node.behaviour != "sub":
            compensation.completed(self, node, tok.scope)
        return flows

    def select_flows(
        self, tok: Token, node: Node, leaving: bool = False
    ) -> list[Flow] | tuple[Flow, ...] | None:
        """Flows out of an activity or event: unconditional ones and those whose condition holds."""
        if node.unconditional:
            return node.outgoing
        chosen: list[Flow] = []
        view = self.view(tok)
        try:
            for flow in node.outgoing:
                if flow.condition is None or flow.condition(view):
                    chosen.append(flow)
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(flow.id)), leaving)
            return None
        if not chosen:
            if node.default is None:
                message = "no outgoing sequence flow condition is true"
                self.incident(tok, node, "no_matching_flow", message, leaving)
                return None
            chosen.append(node.default)
        return chosen

    def take(self, tok: Token, flows: list[Flow] | tuple[Flow, ...]) -> None:
        first = True
        h = self.history
        for flow in flows:
            h.append((self.seq0 + len(h), self.now, _FLOW_TAKEN, flow.id, tok.id, None, None))
            if first:
                first = False
                tok.node = flow.target
                tok.via = flow.id
                self.schedule(tok)
            else:
                self.schedule(self.new_token(flow.target, tok.scope, flow.id))

    def consume(self, tok: Token) -> None:
        del self.tokens[tok.id]
        self.scope_maybe_complete(tok.scope)

    def scope_maybe_complete(self, sid: int) -> None:
        for other in self.tokens.values():
            if other.scope == sid:
                return
        scopes = self.inst.scopes
        if sid == 0:
            if self.inst.state is InstanceState.ACTIVE:
                self.inst.state = InstanceState.COMPLETED
                self.inst.ended = self.now
                self.inst.subscriptions.clear()
                self.inst.compensables.clear()
                self.record(HistoryKind.INSTANCE_COMPLETED)
                if self.inst.parent is not None:
                    variables = dict(scopes[0].variables)
                    self.effect(CallEnded(self.inst.parent, self.inst.id, variables))
            return
        scope = scopes[sid]
        assert scope.token is not None
        parent_tok = self.tokens[scope.token]
        if compensation.is_handler_scope(self, scope, parent_tok):
            del scopes[sid]  # a compensation handler finished: the next one, or go on
            compensation.next_handler(self, parent_tok)
            return
        body_view = self.scope_view(sid)
        node = self.proc.nodes[parent_tok.node]
        if node.event_starts:  # its event subprocesses can no longer start
            starts = node.event_starts
            subs = self.inst.subscriptions
            for sub_id in [s.id for s in subs.values() if s.token == parent_tok.id]:
                if subs[sub_id].node in starts:
                    del subs[sub_id]
        view = dict(body_view) if node.outputs else None
        if self.inst.compensables or node.compensation is not None:
            compensation.scope_completed(self, scope, node, parent_tok)
        del scopes[sid]
        self.leave(parent_tok, node, view=view)

    def incident(
        self, tok: Token, node: Node, kind: str, message: str, leaving: bool = False
    ) -> None:
        tok.state = TokenState.INCIDENT
        inc = Incident(self.inst.new_id(), tok.id, node.id, kind, message, self.now, leaving)
        self.inst.incidents[inc.id] = inc
        self.record(HistoryKind.INCIDENT_RAISED, node.id, tok.id, detail=message)

    # == cancelling =============================================================================
    def drop_subscriptions(self, token_id: int) -> None:
        subs = self.inst.subscriptions
        for sid in [s.id for s in subs.values() if s.token == token_id]:
            del subs[sid]

    def cancel_token(self, tok: Token, *, remove: bool = True) -> None:
        """Interrupt whatever ``tok`` is doing: its task, waits, subprocess body and incidents."""
        inst = self.inst
        for sub in inst.subscriptions.values():
            if sub.token == tok.id and sub.kind is SubscriptionKind.CALL and sub.message:
                self.effect(CallCancelled(sub.message))
        self.drop_subscriptions(tok.id)
        for task_id in [t.id for t in inst.tasks.values() if t.token == tok.id]:
            del inst.tasks[task_id]
        for task_id in [t.id for t in inst.externals.values() if t.token == tok.id]:
            del inst.externals[task_id]
        for inc_id in [i.id for i in inst.incidents.values() if i.token == tok.id]:
            del inst.incidents[inc_id]
        for scope in [
            s for s in inst.scopes.values() if s.token == tok.id and s.parent is not None
        ]:
            if scope.id != tok.local and (
                scope.node == tok.node or compensation.is_handler_scope(self, scope, tok)
            ):
                self.cancel_scope(scope.id)
        if inst.compensating:
            compensation.token_cancelled(self, tok)
        if tok.local is not None:
            inst.scopes.pop(tok.local, None)
            tok.local = None
        self.record(HistoryKind.ELEMENT_CANCELLED, tok.node, tok.id)
        if remove:
            del self.tokens[tok.id]

    def cancel_scope(self, sid: int, keep: Token | None = None) -> None:
        for other in [t for t in self.tokens.values() if t.scope == sid and t is not keep]:
            if other.id in self.tokens:
                self.cancel_token(other)
        if keep is None:
            self.inst.scopes.pop(sid, None)
            compensation.scope_cancelled(self.inst, sid)

    def terminate(self) -> None:
        """End the case at once: every token, task and wait is cancelled; variables stay."""
        inst = self.inst
        process_scope = inst.scopes[0]
        self.cancel_scope(0)
        inst.scopes[0] = process_scope
        inst.state = InstanceState.TERMINATED
        inst.ended = self.now
        inst.subscriptions.clear()
        inst.compensables.clear()
        self.record(HistoryKind.INSTANCE_TERMINATED)

    def effect(self, effect: Effect) -> None:
        """Queue something that happens to another case once this step is saved (see api)."""
        if self.effects is _NO_EFFECTS:
            self.effects = []
        self.effects.append(effect)

    # == operators: modification ==================================================================
    def move(self, tokens: list[Token], target: Node, reason: str) -> None:
        """Cancel ``tokens`` and start one token before ``target`` (an operator's correction).

        The new token runs in the scope the target lives in: the process, or the running body
        of its subprocess (which must be running: nothing starts a subprocess around it).
        """
        scopes = self.inst.scopes
        if target.parent is None:
            scope_id = 0
        else:
            bodies = [
                s.id
                for s in scopes.values()
                if s.node == target.parent
                and s.token is not None
                and s.token in self.tokens
                and all(t.id != s.token for t in tokens)
                and self.tokens[s.token].node == target.parent
            ]
            if len(bodies) != 1:
                raise LiuchengError(
                    f"'{target.id}' lies in subprocess '{target.parent}', which "
                    + ("is not running" if not bodies else "runs more than once")
                    + " in this case"
                )
            scope_id = bodies[0]
        origin = ", ".join(sorted({t.node for t in tokens})) or "-"
        for tok in tokens:
            if tok.id in self.tokens:
                self.cancel_token(tok)
        detail = f"{origin} -> {target.id}" + (f": {reason}" if reason else "")
        self.record(HistoryKind.MODIFIED, target.id, None, detail=detail)
        self.schedule(self.new_token(target.id, scope_id))
        self.drain()

    # == behaviours: call activity ==============================================================
    def do_call(self, tok: Token, node: Node) -> None:
        """Start the called case (after this step) and wait for it to end."""
        call = node.call
        assert call is not None
        view = self.view(tok)
        try:
            process_id = _text(call.process(view))
            if not process_id:
                raise ExpressionError("the called process id is empty")
            variables = _handler_copy(view) if call.all_in else {}
            for target, evaluate in call.inputs:
                variables[target] = evaluate(view)
            key = _text(call.business_key(view)) if call.business_key else None
            if call.same_business_key:
                key = self.inst.business_key
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)))
            return
        if not self.env.has_process(process_id, call.version):
            version = f" version {call.version}" if call.version else ""
            self.incident(tok, node, "call", f"no process '{process_id}'{version} is deployed")
            return
        child = self.env.new_case_id()
        sub = Subscription(self.inst.new_id(), SubscriptionKind.CALL, node.id, tok.id, child)
        self.inst.subscriptions[sub.id] = sub
        tok.state = TokenState.WAITING
        self.record(HistoryKind.CALLED, node.id, tok.id, detail=child)
        if node.boundaries:
            self.arm_boundaries(tok, node)
        start = CallStart(child, process_id, call.version, variables, key, self.inst.id, tok.id)
        self.effect(start)

    def call_ended(self, sub: Subscription, ended: CallEnded) -> None:
        """The called case ended: take its results and go on, or throw its error here."""
        tok = self.tokens[sub.token]
        node = self.proc.nodes[sub.node]
        call = node.call
        assert call is not None
        del self.inst.subscriptions[sub.id]
        if ended.error is not None:
            code, message = ended.error
            self.throw_error(tok, node, code, message)
            self.drain()
            return
        values = dict(ended.variables) if call.all_out else {}
        try:
            for target, evaluate in call.outputs:
                values[target] = evaluate(ended.variables)
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)), True)
            return
        if values:
            self.set_variables(self.var_scope(tok), values, node.id)
        self.leave(tok, node)
        self.drain()

    def call_escalated(self, sub: Subscription, code: str | None) -> None:
        tok = self.tokens[sub.token]
        self.throw_escalation(tok, self.proc.nodes[sub.node], code)
        self.drain()

    # == behaviours: plain ======================================================================
    def do_pass(self, tok: Token, node: Node) -> None:
        self.leave(tok, node)

    def do_end(self, tok: Token, node: Node) -> None:
        self.leave(tok, node, ())

    def do_end_terminate(self, tok: Token, node: Node) -> None:
        self.cancel_scope(tok.scope, keep=tok)
        self.leave(tok, node, ())

    def do_unsupported(
        self, tok: Token, node: Node
    ) -> None:  # pragma: no cover - refused at deploy
        self.incident(tok, node, "unsupported", f"'{node.tag}' is not supported")

    # == behaviours: tasks ======================================================================
    def do_user(self, tok: Token, node: Node) -> None:
        inst = self.inst
        number = inst.next_id
        inst.next_id = number + 1
        fields: tuple[Any, ...] | None
        if not node.computed_task:  # no expressions: the defaults, in UserTask's field order
            fields = (
                f"{inst.id}.{number}",
                inst.id,
                tok.id,
                node.id,
                node.name,
                self.now,
                None,
                (),
                (),
                node.form_key,
                None,
                50,
                self.proc.id,
                inst.business_key,
            )
        else:
            fields = self.computed_task(tok, node, f"{inst.id}.{number}")
            if fields is None:
                return
        task: UserTask = _new_tuple(UserTask, fields)
        inst.tasks[task.id] = task
        tok.state = _WAITING
        h = self.history  # ``record`` inlined: once per user task
        h.append((self.seq0 + len(h), self.now, _TASK_CREATED, node.id, tok.id, None, task.id))
        if node.listeners is not None and not self.task_created(tok, node, task):
            return
        if node.boundaries:
            self.arm_boundaries(tok, node)

    def computed_task(self, tok: Token, node: Node, task_id: str) -> tuple[Any, ...] | None:
        """A user task's fields (in UserTask's order) when expressions compute some of them;
        None after an incident when one fails."""
        inst = self.inst
        view = self.view(tok)
        try:
            return (
                task_id,
                inst.id,
                tok.id,
                node.id,
                node.name,
                self.now,
                _text(node.assignee(view)) if node.assignee else None,
                _names(node.candidate_groups(view)) if node.candidate_groups else (),
                _names(node.candidate_users(view)) if node.candidate_users else (),
                node.form_key,
                self.due_date(node, view) if node.due else None,
                int(node.priority(view)) if node.priority else 50,
                self.proc.id,
                inst.business_key,
            )
        except (ExpressionError, ValueError, TypeError) as exc:
            self.incident(tok, node, "expression", f"cannot create the task: {exc}")
            return None

    def due_date(self, node: Node, view: Mapping[str, Any]) -> datetime:
        assert node.due is not None
        value = node.due(view)
        relative = isinstance(value, timedelta) or (
            isinstance(value, str) and value.strip().upper().startswith("P")
        )
        kind = "timeDuration" if relative else "timeDate"
        return timers.timer_due(kind, value, self.now, self.tz, self.env.calendar(node.calendar))

    @property
    def tz(self) -> tzinfo:
        return self.env.timezone or SHANGHAI

    def complete_task(self, task: UserTask, variables: Mapping[str, Any]) -> None:
        task_id = task.id
        tok = self.tokens[task.token]
        node = self.proc.nodes[task.node]
        if node.listeners is not None and "task:complete" in node.listeners:
            # Before anything is kept: a listener that fails refuses the completion.
            view = {**self.view(tok), **variables}
            added = self.listened(node.id, node.listeners["task:complete"], "complete", view)
            variables = {**variables, **added}
        del self.inst.tasks[task_id]
        # Both history events share one flat tuple: nothing ever changes a recorded event.
        changes = tuple(_flat(variables.items()))
        h = self.history
        event = (
            self.seq0 + len(h),
            self.now,
            _TASK_COMPLETED,
            node.id,
            tok.id,
            changes or None,
            task_id,
        )
        h.append(event)
        scope = tok.local if tok.local is not None else tok.scope
        self.set_variables(scope, variables, node.id, changes)
        self.leave(tok, node)
        self.drain()

    def do_service(self, tok: Token, node: Node) -> None:
        if node.expression is not None and node.service is None:
            self.run_expression(tok, node)
        elif self.call_service(tok, node):
            self.leave(tok, node)

    def call_service(self, tok: Token, node: Node) -> bool:
        """Call the handler registered for the task and store its result.

        Returns False when the task must not go on: the handler is missing (an incident),
        failed (a job will try again, see ``retry_later``; an incident once attempts run out),
        or threw a BPMN error (which moved the token to its catcher).
        """
        name = node.service or node.id
        handler = self.env.services.get(name)
        if handler is None and node.external:
            self.wait_external(tok, node, name)
            return False
        if handler is None:
            self.incident(tok, node, "service", f"no service handler is registered for '{name}'")
            return False
        self.env.calling_out()  # outside ``try``: the store's error is not the handler's
        try:
            result = handler(_handler_copy(self.view(tok)))
        except BpmnError as exc:
            self.throw_error(tok, node, exc.code, exc.message)
            return False
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            if self.resuming != tok.id and node.job_attempts > 1:
                self.retry_later(tok, node, message)
            else:  # a job's attempt: the job counts attempts (``Engine._run_job``)
                self.incident(tok, node, "service", message)
            return False
        return self.store_result(tok, node, result)

    def retry_later(self, tok: Token, node: Node, message: str) -> None:
        """A service call failed in a step: the step is kept, and a job calls again later.

        The first attempt runs in the step that reached the task, so a working service costs
        nothing extra; when it fails (the ERP is down, the SMS gateway times out) the token
        waits for a job, due after the element's retry delay (``failedJobRetryTimeCycle``),
        which enters the element again.  Attempts are counted on the job; the last failed
        one leaves an incident for an operator.
        """
        if tok.local is not None:  # the job's attempt maps the inputs again
            self.inst.scopes.pop(tok.local, None)
            tok.local = None
        delay = timers.parse_duration(node.job_delay) if node.job_delay else None
        due = delay.add_to(self.now) if delay is not None else self.now
        job = Subscription(
            self.inst.new_id(), SubscriptionKind.JOB, node.id, tok.id, due=due, fired=1
        )
        self.inst.subscriptions[job.id] = job
        tok.state = TokenState.WAITING
        attempt = f"attempt 1 of {node.job_attempts} failed: {message}"
        self.record(HistoryKind.JOB_FAILED, node.id, tok.id, detail=attempt)
        self.record(HistoryKind.JOB_CREATED, node.id, tok.id)

    # == external tasks ==========================================================================
    def wait_external(self, tok: Token, node: Node, topic: str) -> None:
        """Leave the work to a worker outside: the token waits until it reports back.

        (A handler registered in this engine for the topic would have run in-process instead:
        an embedding application may be its own worker.)
        """
        inst = self.inst
        task = ExternalTask(
            f"{inst.id}.{inst.new_id()}",
            inst.id,
            tok.id,
            node.id,
            topic,
            self.now,
            process_id=self.proc.id,
            business_key=inst.business_key,
        )
        inst.externals[task.id] = task
        tok.state = TokenState.WAITING
        self.record(HistoryKind.EXTERNAL_TASK_CREATED, node.id, tok.id, detail=task.id)
        if node.boundaries:
            self.arm_boundaries(tok, node)

    def complete_external(self, task: ExternalTask, variables: dict[str, Any]) -> None:
        tok = self.tokens[task.token]
        node = self.proc.nodes[task.node]
        del self.inst.externals[task.id]
        self.record(
            HistoryKind.EXTERNAL_TASK_COMPLETED, node.id, tok.id, variables or None, task.id
        )
        if variables:  # checked by the API like any completion's variables
            self.set_variables(self.var_scope(tok), variables, node.id)
        self.leave(tok, node)
        self.drain()

    def fail_external(
        self, task: ExternalTask, message: str, retries: int, available: datetime | None
    ) -> None:
        """A worker could not do the work: offer it again later, or raise an incident at the end."""
        tok = self.tokens[task.token]
        node = self.proc.nodes[task.node]
        self.record(HistoryKind.EXTERNAL_TASK_FAILED, node.id, tok.id, detail=message)
        if retries > 0:
            self.inst.externals[task.id] = task._replace(
                retries=retries, error=message, available=available
            )
            return
        del self.inst.externals[task.id]
        self.incident(tok, node, "external", f"external task failed: {message}")

    def external_error(self, task: ExternalTask, code: str, message: str) -> None:
        """A worker reported a business error: throw it as a BPMN error from the task."""
        tok = self.tokens[task.token]
        node = self.proc.nodes[task.node]
        del self.inst.externals[task.id]
        self.throw_error(tok, node, code, message)
        self.drain()

    def store_result(self, tok: Token, node: Node, result: Any) -> bool:
        if node.result_variable:
            values = {node.result_variable: result}
        elif isinstance(result, Mapping):
            values = dict(result)
        elif result is None:
            values = {}
        else:
            self.incident(
                tok,
                node,
                "service",
                f"the handler returned a {type(result).__name__}; return a mapping of variables "
                "or name a result variable",
            )
            return False
        if not self.storable(tok, node, values, "service"):
            return False
        self.set_variables(self.var_scope(tok), values, node.id)
        return True

    def storable(self, tok: Token, node: Node, values: Mapping[str, Any], kind: str) -> bool:
        """Check values returned by a handler; one that could not be stored is an incident."""
        try:
            _check_values(values)
        except LiuchengError as exc:
            self.incident(tok, node, kind, f"element '{node.id}': {exc}")
            return False
        return True

    def var_scope(self, tok: Token) -> int:
        return tok.local if tok.local is not None else tok.scope

    def run_expression(self, tok: Token, node: Node) -> None:
        assert node.expression is not None
        try:
            result = node.expression(self.view(tok))
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)))
            return
        if node.result_variable:
            self.set_variables(self.var_scope(tok), {node.result_variable: result}, node.id)
        self.leave(tok, node)

    def do_script(self, tok: Token, node: Node) -> None:
        if node.script is None:
            self.run_expression(tok, node)
        elif self.apply_script(tok, node, node.script):
            self.leave(tok, node)

    def apply_script(
        self, tok: Token, node: Node, script: Script, *, leaving: bool = False
    ) -> bool:
        """Run a Python-dialect script on a copy of the visible variables, then store what changed
        (``_script_changes``).  Returns False (with an incident) on failure."""
        try:
            changed, removed = _script_changes(script, self.view(tok))
        except ExpressionError as exc:
            self.incident(tok, node, "script", str(exc.at_element(node.id)), leaving)
            return False
        sid = self.var_scope(tok)
        try:
            _check_values(changed)
        except LiuchengError as exc:
            self.incident(tok, node, "script", f"element '{node.id}': {exc}", leaving)
            return False
        self.set_variables(sid, changed, node.id)
        if removed:
            self.delete_variables(sid, removed, node.id)
        return True

    def do_rule(self, tok: Token, node: Node) -> None:
        assert node.decision is not None
        decide = self.env.decisions.get(node.decision)
        if decide is None and node.decision in self.env.dmn:
            self.decide_dmn(tok, node, self.env.dmn[node.decision])
            return
        if decide is None:
            self.incident(tok, node, "decision", f"no decision '{node.decision}' is deployed")
            return
        try:
            result = decide(_handler_copy(self.view(tok)))
        except LiuchengError as exc:
            self.incident(tok, node, "decision", str(exc))
            return
        except Exception as exc:  # a registered Python callable failed: same as a service
            self.incident(tok, node, "decision", f"{type(exc).__name__}: {exc}")
            return
        if node.result_variable:
            values = {node.result_variable: result}
        elif isinstance(result, Mapping):
            values = dict(result)
        else:
            values = {}
        if not self.storable(tok, node, values, "decision"):
            return
        self.set_variables(self.var_scope(tok), values, node.id)
        self.leave(tok, node)

    def decide_dmn(self, tok: Token, node: Node, model: DecisionModel) -> None:
        """Evaluate a deployed DMN decision and store its result.

        With a result variable, the result is shaped by ``camunda:mapDecisionResult``
        (``resultList`` by default, as in Camunda 7; Zeebe's ``calledDecision`` stores the value
        as it is).  Without one, the outputs of the single matching rule become variables (as
        SpiffWorkflow does); several matching rules then need a result variable.
        """
        assert node.decision is not None
        values: dict[str, Any]
        try:
            result = model.evaluate_detailed(node.decision, _handler_copy(self.view(tok)))
            self.record(
                HistoryKind.DECISION_EVALUATED,
                node.id,
                tok.id,
                detail=f"{result.decision_id}: {', '.join(result.matched_rule_ids) or '-'}",
            )
            if node.decision_mode in ("flowable", "flowable_strict"):
                values = _flowable_result(node, result)
            elif node.result_variable:
                value = map_decision_result(result, node.decision_mode)
                values = {node.result_variable: value}
            elif len(result.entries) > 1:
                raise LiuchengError(
                    f"decision '{node.decision}' gave {len(result.entries)} results; name a "
                    "result variable to keep them"
                )
            else:
                values = dict(result.entries[0]) if result.entries else {}
        except LiuchengError as exc:
            self.incident(tok, node, "decision", f"element '{node.id}': {exc}")
            return
        if not self.storable(tok, node, values, "decision"):
            return
        self.set_variables(self.var_scope(tok), values, node.id)
        self.leave(tok, node)

    def do_send(self, tok: Token, node: Node) -> None:
        # A send task with an implementation works like a service task, then publishes.
        has_implementation = node.service is not None or node.expression is not None
        if has_implementation and not self.call_service(tok, node):
            return
        if node.message:
            self.publish(tok, node)
        self.leave(tok, node)

    def publish(self, tok: Token, node: Node) -> None:
        """Queue a thrown message; its payload is the element's input-mapped (local) variables."""
        assert node.message is not None
        payload: dict[str, Any] = {}
        if tok.local is not None:
            payload = dict(self.inst.scopes[tok.local].variables)
        key = self.inst.business_key
        if node.correlation_key is not None:
            try:
                key = _text(node.correlation_key(self.view(tok)))
            except ExpressionError as exc:
                self.incident(tok, node, "expression", str(exc.at_element(node.id)))
                return
        if self.outbox is _NO_MESSAGES:
            self.outbox = []
        self.outbox.append(OutgoingMessage(node.message, key, payload, self.inst.id, node.id))
        self.record(HistoryKind.MESSAGE_SENT, node.id, tok.id, payload or None, detail=node.message)

    def do_throw_message(self, tok: Token, node: Node) -> None:
        self.publish(tok, node)
        if tok.state is not TokenState.INCIDENT:
            self.leave(tok, node)

    def do_end_message(self, tok: Token, node: Node) -> None:
        self.publish(tok, node)
        if tok.state is not TokenState.INCIDENT:
            self.leave(tok, node, ())

    # == behaviours: waiting ====================================================================
    def subscribe_message(self, tok: Token, node: Node, attach: Token | None = None) -> bool:
        """Wait for ``node``'s message; ``attach`` is the activity token for a boundary event."""
        waiter = attach or tok
        key = self.inst.business_key
        if node.correlation_key is not None:
            try:
                key = _text(node.correlation_key(self.view(waiter)))
            except ExpressionError as exc:
                self.incident(waiter, node, "expression", str(exc.at_element(node.id)))
                return False
        sub = Subscription(
            self.inst.new_id(), SubscriptionKind.MESSAGE, node.id, waiter.id, node.message, key
        )
        self.inst.subscriptions[sub.id] = sub
        return True

    def subscribe_timer(self, tok: Token, node: Node, attach: Token | None = None) -> bool:
        waiter = attach or tok
        assert node.timer is not None and node.timer_type is not None
        try:
            value = node.timer(self.view(waiter))
            calendar = self.env.calendar(node.calendar)
            due = timers.timer_due(node.timer_type, value, self.now, self.tz, calendar)
            cycle = None
            if node.timer_type == "timeCycle":
                cycle = str(timers.parse_cycle(value, self.tz)) if isinstance(value, str) else None
        except (ExpressionError, ValueError, TypeError) as exc:
            self.incident(waiter, node, "expression", f"element '{node.id}': bad timer: {exc}")
            return False
        sub = Subscription(
            self.inst.new_id(),
            SubscriptionKind.TIMER,
            node.id,
            waiter.id,
            due=due,
            cycle=cycle,
            armed=self.now if cycle else None,
        )
        self.inst.subscriptions[sub.id] = sub
        return True

    def arm_boundaries(self, tok: Token, node: Node) -> None:
        if node.loop is not None and self.inst.scopes[tok.scope].node == node.id:
            return  # an instance of a looping activity: the body holds the boundary events
        for boundary_id in node.boundaries:
            boundary = self.proc.nodes[boundary_id]
            if boundary.timer is not None:
                self.subscribe_timer(tok, boundary, tok)
            elif boundary.message is not None:
                self.subscribe_message(tok, boundary, tok)
            elif boundary.signal is not None:
                self.subscribe_signal(tok, boundary, tok)
            elif boundary.when is not None:
                self.subscribe_condition(tok, boundary)

    def do_receive(self, tok: Token, node: Node) -> None:
        if self.subscribe_message(tok, node):
            tok.state = TokenState.WAITING
            self.arm_boundaries(tok, node)

    def do_catch_message(self, tok: Token, node: Node) -> None:
        if self.subscribe_message(tok, node):
            tok.state = TokenState.WAITING

    def subscribe_signal(self, tok: Token, node: Node, attach: Token | None = None) -> bool:
        waiter = attach or tok
        kind = SubscriptionKind.SIGNAL
        sub = Subscription(self.inst.new_id(), kind, node.id, waiter.id, node.signal)
        self.inst.subscriptions[sub.id] = sub
        return True

    # == conditional events ======================================================================
    def subscribe_condition(self, waiter: Token, node: Node) -> None:
        kind = SubscriptionKind.CONDITION
        sub = Subscription(self.inst.new_id(), kind, node.id, waiter.id)
        self.inst.subscriptions[sub.id] = sub

    def do_catch_condition(self, tok: Token, node: Node) -> None:
        """Go on at once if the condition holds already, else wait until a change makes it."""
        assert node.when is not None
        try:
            met = node.when(self.view(tok))
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)))
            return
        if met:
            self.record(HistoryKind.CONDITION_MET, node.id, tok.id)
            self.leave(tok, node)
            return
        self.subscribe_condition(tok, node)
        tok.state = TokenState.WAITING

    def fire_conditions(self) -> bool:
        """Variables changed during the step: ask every waiting conditional event again, and
        trigger those whose condition now holds.  Returns whether any did."""
        self.changed = False
        subs = self.inst.subscriptions
        nodes = self.proc.nodes
        fired = False
        for sub in [s for s in subs.values() if s.kind is SubscriptionKind.CONDITION]:
            if sub.id not in subs:
                continue  # withdrawn by an earlier trigger of this round
            node = nodes[sub.node]
            assert node.when is not None
            try:
                met = node.when(self.condition_view(sub, node))
            except ExpressionError as exc:
                waiter = self.tokens.get(sub.token)
                if waiter is not None and waiter.node == node.id:
                    del subs[sub.id]
                    self.incident(waiter, node, "expression", str(exc.at_element(node.id)))
                continue  # a boundary or event subprocess condition that fails is not met
            if met:
                self.trigger(sub, None)
                fired = True
        return fired

    def condition_view(self, sub: Subscription, node: Node) -> Mapping[str, Any]:
        if not node.event_start:
            return self.view(self.tokens[sub.token])
        if sub.token == 0:
            return self.inst.scopes[0].variables
        owner = self.tokens[sub.token]
        for scope in self.inst.scopes.values():
            if scope.token == owner.id and scope.node == owner.node:
                return self.scope_view(scope.id)
        return self.view(owner)  # pragma: no cover - the body scope exists while it waits

    def do_catch_signal(self, tok: Token, node: Node) -> None:
        self.subscribe_signal(tok, node)
        tok.state = TokenState.WAITING

    def throw_signal(self, tok: Token, node: Node) -> None:
        """Broadcast the signal once this step is saved; its payload is the element's
        input-mapped (local) variables, as for a message."""
        assert node.signal is not None
        payload: dict[str, Any] = {}
        if tok.local is not None:
            payload = dict(self.inst.scopes[tok.local].variables)
        self.record(HistoryKind.SIGNAL_THROWN, node.id, tok.id, payload or None, node.signal)
        self.effect(SignalThrown(node.signal, payload))

    def do_throw_signal(self, tok: Token, node: Node) -> None:
        self.throw_signal(tok, node)
        self.leave(tok, node)

    def do_throw_link(self, tok: Token, node: Node) -> None:
        """Go on at the link catch event of the same name: a sequence flow drawn as two events."""
        assert node.link is not None
        self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
        tok.node = node.link
        tok.via = None
        self.schedule(tok)

    def do_end_signal(self, tok: Token, node: Node) -> None:
        self.throw_signal(tok, node)
        self.leave(tok, node, ())

    def do_catch_timer(self, tok: Token, node: Node) -> None:
        if self.subscribe_timer(tok, node):
            tok.state = TokenState.WAITING

    # == loops: multi-instance and standard ===================================================
    # A token entering a looping activity becomes its *body*: a scope (``node`` = the activity,
    # ``token`` = the body token) holds nrOfInstances / nrOfCompletedInstances /
    # nrOfActiveInstances (or loopCounter for a standard loop) and the output collection being
    # filled.  Each instance is a token at the same activity in a scope of its own under the
    # body's (``loopCounter``, the element variable), so a token whose scope belongs to its own
    # element is an instance, and any other token there is a body.  Instance scopes name the
    # body token too, so cancelling the body (a boundary event, an error) cancels every instance.
    def start_loop(self, tok: Token, node: Node) -> None:
        loop = node.loop
        assert loop is not None
        h = self.history
        h.append((self.seq0 + len(h), self.now, _STARTED, loop.body_id, tok.id, None, None))
        view = self.view(tok)
        count = 0
        try:
            if loop.collection is not None:
                items = loop.collection(view)
                if not isinstance(items, list | tuple):
                    raise ExpressionError(
                        f"the multi-instance collection is a {type(items).__name__}, not a list"
                    )
                count = len(items)
            elif loop.cardinality is not None:
                count = _whole(loop.cardinality(view), "the loop cardinality")
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(node.id)))
            return
        if loop.standard:
            counters: dict[str, Any] = {"loopCounter": 0}
        else:
            counters = {
                "nrOfInstances": count,
                "nrOfCompletedInstances": 0,
                "nrOfActiveInstances": 0,
            }
            if loop.output_collection:
                counters[loop.output_collection] = [None] * count
        body = ScopeState(self.inst.new_id(), tok.scope, node.id, tok.id, counters)
        self.inst.scopes[body.id] = body
        tok.state = TokenState.WAITING
        if node.boundaries:
            self.arm_boundaries(tok, node)  # they belong to the activity as a whole
        if loop.standard:
            if loop.test_before and not self.loop_goes_on(tok, node, body, leaving=False):
                return
            self.start_instance(body, node, 0, None)
        elif count == 0:
            self.finish_loop(tok, node, body)
        elif loop.sequential:
            self.start_instance(body, node, 0, items[0] if loop.collection else None)
        else:
            for i in range(count):
                self.start_instance(body, node, i, items[i] if loop.collection else None)

    def start_instance(self, body: ScopeState, node: Node, index: int, item: Any) -> None:
        loop = node.loop
        assert loop is not None and body.token is not None
        local: dict[str, Any] = {"loopCounter": index + loop.counter_base}
        if loop.element_variable:
            local[loop.element_variable] = item
        scope = ScopeState(self.inst.new_id(), body.id, node.id, body.token, local)
        self.inst.scopes[scope.id] = scope
        if not loop.standard:
            body.variables["nrOfActiveInstances"] += 1
        self.schedule(self.new_token(node.id, scope.id))

    def leave_loop(self, tok: Token, node: Node, view: Mapping[str, Any] | None) -> bool:
        """Handle leaving a looping activity; False when ``tok`` is the body, which leaves
        like any token (without the scripts and output mappings, which ran per instance)."""
        scope = self.inst.scopes[tok.scope]
        if scope.node != node.id:
            self.leave_body(tok, node)
            return True
        # An instance: the element's own completion (scripts, output mappings) first.
        if node.post_script is not None and not self.apply_script(
            tok, node, node.post_script, leaving=True
        ):
            return True
        if node.outputs:
            values = self.evaluate_mappings(
                tok, node, node.outputs, view if view is not None else self.view(tok), leaving=True
            )
            if values is None:
                return True
            self.set_variables(tok.scope, values, node.id)
        if tok.local is not None:
            del self.inst.scopes[tok.local]
            tok.local = None
        self.instance_done(tok, node, scope)
        return True

    def instance_done(self, tok: Token, node: Node, scope: ScopeState) -> None:
        loop = node.loop
        assert loop is not None and scope.parent is not None
        scopes = self.inst.scopes
        body = scopes[scope.parent]
        index = scope.variables["loopCounter"] - loop.counter_base
        view = self.scope_view(scope.id)
        if loop.output_element is not None and loop.output_collection:
            try:
                body.variables[loop.output_collection][index] = loop.output_element(view)
            except ExpressionError as exc:
                self.incident(tok, node, "expression", str(exc.at_element(node.id)), True)
                return
        self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
        del self.tokens[tok.id]
        if node.compensation is not None and node.behaviour != "sub":
            compensation.completed(self, node, body.id, dict(scope.variables))
        if self.inst.compensables:
            compensation.rehome(self.inst, scope, body.id)  # each instance undone on its own
        body_tok = self.tokens[body.token] if body.token is not None else None
        assert body_tok is not None
        counters = body.variables
        if loop.standard:
            del scopes[scope.id]
            counters["loopCounter"] = index + 1
            if self.loop_goes_on(body_tok, node, body, leaving=True):
                self.start_instance(body, node, index + 1, None)
            return
        counters["nrOfCompletedInstances"] += 1
        counters["nrOfActiveInstances"] -= 1
        done = counters["nrOfCompletedInstances"] >= counters["nrOfInstances"]
        if not done and loop.completion is not None:
            try:
                done = loop.completion(view)
            except ExpressionError as exc:
                # The instance has completed; the body waits in an incident, and a retry asks
                # the condition again (``leave`` of the body).
                del scopes[scope.id]
                self.incident(body_tok, node, "expression", str(exc.at_element(node.id)), True)
                return
        del scopes[scope.id]
        if done:
            self.complete_loop(body_tok, node, body)
        elif loop.sequential:
            self.next_instance(body_tok, node, body)

    def loop_goes_on(self, tok: Token, node: Node, body: ScopeState, *, leaving: bool) -> bool:
        """Standard loop: whether another round runs; if not, the body leaves."""
        loop = node.loop
        assert loop is not None
        rounds = body.variables["loopCounter"]
        go_on = loop.maximum is None or rounds < loop.maximum
        if go_on and loop.condition is not None:
            try:
                go_on = loop.condition(self.scope_view(body.id))
            except ExpressionError as exc:
                self.incident(tok, node, "expression", str(exc.at_element(node.id)), leaving)
                return False
        if not go_on:
            self.finish_loop(tok, node, body)
        return go_on

    def finish_loop(self, tok: Token, node: Node, body: ScopeState) -> None:
        """Every instance is done (or the completion condition held): the body leaves."""
        loop = node.loop
        assert loop is not None
        self.inst.scopes.pop(body.id, None)
        if self.inst.compensables:
            compensation.rehome(self.inst, body, tok.scope)
        if loop.output_collection:
            collected = list(body.variables[loop.output_collection])
            self.set_variables(tok.scope, {loop.output_collection: collected}, node.id)
        self.leave_body(tok, node)

    def leave_body(self, tok: Token, node: Node) -> None:
        loop = node.loop
        assert loop is not None
        body = self.loop_body(tok, node)
        if body is not None:  # a retry after a loop or completion condition failed
            self.retry_loop(tok, node, body)
            return
        if node.boundaries:
            self.drop_subscriptions(tok.id)
        flows = node.outgoing if node.unconditional else self.select_flows(tok, node, True)
        if flows is None:
            return
        if self.proc.has_take_listeners and not self.notify_take(tok, node, flows):
            return
        self.record(HistoryKind.ELEMENT_COMPLETED, loop.body_id, tok.id)
        if flows:
            self.take(tok, flows)
        else:
            self.consume(tok)

    def loop_body(self, tok: Token, node: Node) -> ScopeState | None:
        """The body scope of a looping activity's body token, while the loop runs."""
        for scope in self.inst.scopes.values():
            if scope.token == tok.id and scope.node == node.id and scope.parent == tok.scope:
                return scope
        return None

    def retry_loop(self, tok: Token, node: Node, body: ScopeState) -> None:
        """Go on with a loop whose body stopped in an incident between two instances."""
        loop = node.loop
        assert loop is not None
        tok.state = TokenState.WAITING
        counters = body.variables
        if loop.standard:
            if self.loop_goes_on(tok, node, body, leaving=True):
                self.start_instance(body, node, counters["loopCounter"], None)
            return
        done = counters["nrOfCompletedInstances"] >= counters["nrOfInstances"]
        if not done and loop.completion is not None:
            try:
                done = loop.completion(self.scope_view(body.id))
            except ExpressionError as exc:
                self.incident(tok, node, "expression", str(exc.at_element(node.id)), True)
                return
        if done:
            self.complete_loop(tok, node, body)
        elif loop.sequential and counters["nrOfActiveInstances"] == 0:
            self.next_instance(tok, node, body)

    def complete_loop(self, tok: Token, node: Node, body: ScopeState) -> None:
        scopes = self.inst.scopes
        for other in [s.id for s in scopes.values() if s.parent == body.id]:
            self.cancel_scope(other)  # instances still running: 或签, "any one approves"
        body.variables["nrOfActiveInstances"] = 0
        self.finish_loop(tok, node, body)

    def next_instance(self, tok: Token, node: Node, body: ScopeState) -> None:
        """Sequential multi-instance: start the next instance, on the collection as it is now."""
        loop = node.loop
        assert loop is not None
        index = body.variables["nrOfCompletedInstances"]
        item = None
        if loop.collection is not None:
            try:
                items = loop.collection(self.view(tok))
                if not isinstance(items, list | tuple) or index >= len(items):
                    raise ExpressionError(
                        f"the multi-instance collection no longer has an item {index}"
                    )
                item = items[index]
            except ExpressionError as exc:
                self.incident(tok, node, "expression", str(exc.at_element(node.id)), True)
                return
        self.start_instance(body, node, index, item)

    def do_boundary(self, tok: Token, node: Node) -> None:
        self.leave(tok, node)

    def park(self, tok: Token, node: Node, *, after: bool = False) -> None:
        """Stop before an asynchronous element (or, ``after``, once it has completed): a job
        will carry the token on in a later step.

        The step so far is committed on its own, so whatever comes next (a service call that
        fails, a condition that cannot be evaluated) is retried by the job without undoing
        what came before.  An after-job is marked by ``message`` "after".
        """
        mark = AFTER_MARK if after else None
        job = Subscription(
            self.inst.new_id(), SubscriptionKind.JOB, node.id, tok.id, mark, due=self.now
        )
        self.inst.subscriptions[job.id] = job
        tok.state = TokenState.WAITING
        self.record(HistoryKind.JOB_CREATED, node.id, tok.id, detail=mark)

    def go_on(self, tok: Token, node: Node) -> None:
        """An after-job: the element completed in an earlier step; take its outgoing flows."""
        flows = node.outgoing if node.unconditional else self.select_flows(tok, node, True)
        if flows is None:
            return
        if self.proc.has_take_listeners and not self.notify_take(tok, node, flows):
            return
        if node.compensation is not None and node.behaviour != "sub":
            compensation.completed(self, node, tok.scope)
        self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
        if flows:
            self.take(tok, flows)
        else:
            self.consume(tok)

    def run_job(self, job: Subscription) -> None:
        """Carry a parked token into its element, or on from it (see ``park``)."""
        tok = self.tokens[job.token]
        del self.inst.subscriptions[job.id]
        if job.message == AFTER_MARK:
            self.go_on(tok, self.proc.nodes[job.node])
            self.drain()
            return
        tok.state = TokenState.READY
        self.resuming = tok.id
        try:
            self.enter(tok, self.proc.nodes[job.node])
        finally:
            self.resuming = None
        self.drain()

    def trigger(self, sub: Subscription, variables: Mapping[str, Any] | None) -> None:
        """A message arrived or a timer fell due for ``sub``."""
        if sub.kind is SubscriptionKind.JOB:
            self.run_job(sub)
            return
        node = self.proc.nodes[sub.node]
        if node.event_start:
            self.trigger_event_subprocess(sub, node, variables)
            return
        waiter = self.tokens[sub.token]
        if waiter.node != node.id and node.behaviour != "boundary":
            self.pass_event_gateway(waiter, node)
        if sub.kind is SubscriptionKind.TIMER:
            self.record(HistoryKind.TIMER_FIRED, node.id, waiter.id)
        elif sub.kind is SubscriptionKind.SIGNAL:
            payload = dict(variables) if variables else None
            self.record(HistoryKind.SIGNAL_RECEIVED, node.id, waiter.id, payload, sub.message)
        elif sub.kind is SubscriptionKind.CONDITION:
            self.record(HistoryKind.CONDITION_MET, node.id, waiter.id)
        else:
            self.record(
                HistoryKind.MESSAGE_RECEIVED,
                node.id,
                waiter.id,
                dict(variables) if variables else None,
                detail=sub.message,
            )
        if node.behaviour != "boundary":
            self.inst.subscriptions.pop(sub.id, None)  # gone already after an event gateway
            if variables:
                self.set_variables(self.var_scope(waiter), variables, node.id)
            self.leave(waiter, node)
        elif node.interrupting:
            scope = waiter.scope
            self.cancel_token(waiter)
            tok = self.new_token(node.id, scope)
            self.record(HistoryKind.ELEMENT_STARTED, node.id, tok.id)
            if variables:
                self.set_variables(scope, variables, node.id)
            self.leave(tok, node)
        else:
            self.rearm_or_drop(sub)
            tok = self.new_token(node.id, waiter.scope)
            self.record(HistoryKind.ELEMENT_STARTED, node.id, tok.id)
            if variables:
                self.set_variables(waiter.scope, variables, node.id)
            self.leave(tok, node)
        self.drain()

    def do_event_gateway(self, tok: Token, node: Node) -> None:
        """Wait at the gateway for whichever of the events after it comes first."""
        nodes = self.proc.nodes
        tok.state = TokenState.WAITING
        for flow in node.outgoing:
            event = nodes[flow.target]
            if event.timer is not None:
                armed = self.subscribe_timer(tok, event, tok)
            elif event.signal is not None:
                armed = self.subscribe_signal(tok, event, tok)
            elif event.when is not None:
                self.subscribe_condition(tok, event)
                armed = True
            else:
                armed = self.subscribe_message(tok, event, tok)
            if not armed:  # an incident on the token: none of the events may fire meanwhile
                self.drop_subscriptions(tok.id)
                return

    def pass_event_gateway(self, tok: Token, event: Node) -> None:
        """The first event after an event-based gateway happened: the others are withdrawn
        and the token moves from the gateway to that event."""
        gateway = self.proc.nodes[tok.node]
        self.drop_subscriptions(tok.id)
        self.record(HistoryKind.ELEMENT_COMPLETED, gateway.id, tok.id)
        flow = next(f for f in gateway.outgoing if f.target == event.id)
        self.record(HistoryKind.FLOW_TAKEN, flow.id, tok.id)
        tok.node = event.id
        tok.via = flow.id
        self.record(HistoryKind.ELEMENT_STARTED, event.id, tok.id)

    def rearm_or_drop(self, sub: Subscription) -> None:
        if sub.kind is SubscriptionKind.TIMER and sub.cycle and sub.due is not None:
            cycle = timers.parse_cycle(sub.cycle, self.tz)
            sub.fired += 1
            nxt = cycle.next_due(sub.due, sub.fired, armed_at=sub.armed)
            if nxt is not None:
                sub.due = nxt
                return
        if sub.kind is SubscriptionKind.TIMER:
            del self.inst.subscriptions[sub.id]

    # == behaviours: gateways ===================================================================
    def do_xor(self, tok: Token, node: Node) -> None:
        view = self.view(tok)
        try:
            for flow in node.outgoing:
                if flow.condition is None or flow.condition(view):
                    self.leave(tok, node, (flow,))
                    return
        except ExpressionError as exc:
            self.incident(tok, node, "expression", str(exc.at_element(flow.id)))
            return
        if node.default is not None:
            self.leave(tok, node, (node.default,))
            return
        self.incident(
            tok, node, "no_matching_flow", "no condition of the exclusive gateway is true"
        )

    def do_and(self, tok: Token, node: Node) -> None:
        if len(node.incoming) > 1:
            tok.state = TokenState.WAITING
            arrived: dict[str, Token] = {}
            for other in self.tokens.values():
                if (
                    other.node == node.id
                    and other.scope == tok.scope
                    and other.state is TokenState.WAITING
                    and other.via not in arrived
                    and other.via is not None
                ):
                    arrived[other.via] = other
            if len(arrived) < len(node.incoming):
                return
            for other in arrived.values():
                if other is not tok:
                    self.merge(other, node)
        self.leave(tok, node, node.outgoing)

    def merge(self, tok: Token, node: Node) -> None:
        """A token that waited at a join ends there as the join fires: it completed the join."""
        self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
        del self.tokens[tok.id]

    def do_or(self, tok: Token, node: Node) -> None:
        if len(node.incoming) > 1:
            tok.state = TokenState.WAITING  # fire_inclusive_joins decides when to go on
            return
        self.or_split(tok, node)

    def or_split(self, tok: Token, node: Node) -> None:
        flows = self.select_flows(tok, node)
        if flows is not None:
            self.leave(tok, node, flows)

    def fire_inclusive_joins(self) -> bool:
        """Fire every inclusive join that no other token of its scope can still reach.

        Each token merged into the join records it as completed (see ``merge``)."""
        if not self.proc.has_inclusive_joins:
            return False
        nodes = self.proc.nodes
        waiting: dict[tuple[str, int], list[Token]] = {}
        for tok in self.tokens.values():
            if tok.state is TokenState.WAITING:
                node = nodes[tok.node]
                if node.behaviour == "or" and len(node.incoming) > 1:
                    waiting.setdefault((node.id, tok.scope), []).append(tok)
        fired = False
        for (join_id, scope), arrived in waiting.items():
            join = nodes[join_id]
            upstream = {
                other.node
                for other in self.tokens.values()
                if other.scope == scope and other.node in join.reach
            }
            if upstream and self.join_must_wait(join, arrived, upstream):
                continue
            by_flow: dict[str | None, Token] = {}
            for t in sorted(arrived, key=lambda t: t.id):
                by_flow.setdefault(t.via, t)
            keep = min(by_flow.values(), key=lambda t: t.id)
            for t in by_flow.values():
                if t is not keep:
                    self.merge(t, nodes[join_id])
            self.or_split(keep, nodes[join_id])
            fired = True
        return fired

    def join_must_wait(self, join: Node, arrived: list[Token], upstream: set[str]) -> bool:
        """Whether a token at one of the ``upstream`` nodes may still arrive at ``join``.

        BPMN 2.0 (13.4.3): the join waits while a token has a path to an incoming flow no token
        has arrived by yet, unless that path visits a node that also leads to a flow a token
        *has* arrived by.  Without that exception a join inside a loop would wait for tokens
        that can only reach it in the next round, after passing through whatever waits for the
        join (a parallel join after it, say): a deadlock.
        """
        filled = {t.via for t in arrived}
        covered: set[str] = {join.id}
        for flow_id in filled:
            if flow_id is not None:
                covered |= join.reach_by_flow.get(flow_id, frozenset())
        stack = [
            source
            for flow_id, source in join.flow_sources.items()
            if flow_id not in filled and source not in covered
        ]
        live = set(stack)
        while stack:
            for pred in join.upstream.get(stack.pop(), ()):
                if pred not in live and pred not in covered:
                    live.add(pred)
                    stack.append(pred)
        return not live.isdisjoint(upstream)

    # == behaviours: subprocess =================================================================
    def do_sub(self, tok: Token, node: Node) -> None:
        values: dict[str, Any] = {}
        if node.inputs:
            got = self.evaluate_mappings(tok, node, node.inputs, self.view(tok))
            if got is None:
                return
            values = got
        body = ScopeState(self.inst.new_id(), tok.scope, node.id, tok.id, values)
        self.inst.scopes[body.id] = body
        if node.data:
            self.create_data_objects(body.id, node.id, node.data)
        tok.state = TokenState.WAITING
        self.arm_boundaries(tok, node)
        if node.event_starts:
            self.arm_event_subprocesses(body.id, node.event_starts)
        assert node.start is not None
        self.schedule(self.new_token(node.start, body.id))

    # == errors and escalations =================================================================
    def throw_error(
        self, tok: Token, node: Node, code: str | None, message: str = "", *, ended: bool = False
    ) -> None:
        """Find the nearest error boundary for ``code``, from ``node`` outwards.

        ``ended`` is true for an error end event: once caught, its token has completed (recorded
        as such) and leaves instead of being cancelled with its scope.  An uncaught error parks
        the token in an incident at the element, which therefore has not completed.
        """
        self.record(HistoryKind.ERROR_THROWN, node.id, tok.id, detail=code)
        catcher = self.find_catcher(tok, node, "error", code)
        if catcher is None and self.inst.parent is not None:
            # A called case: the error ends it and goes on to the call activity that called it.
            self.terminate()
            error = (code, message)
            self.effect(CallEnded(self.inst.parent, self.inst.id, {}, error))
            return
        if catcher is None:
            self.incident(
                tok,
                node,
                "unhandled_error",
                f"BPMN error {code!r} is not caught: {message}".rstrip(": "),
            )
            return
        activity_tok, boundary, scope = catcher
        if ended and tok is not activity_tok:
            self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
            del self.tokens[tok.id]
        if activity_tok is None:
            self.start_event_subprocess(scope, boundary, None)
            return
        self.cancel_token(activity_tok)
        new = self.new_token(boundary.id, scope)
        self.record(HistoryKind.ELEMENT_STARTED, boundary.id, new.id)
        self.leave(new, boundary)

    def throw_escalation(
        self, tok: Token, node: Node, code: str | None, *, ended: bool = False
    ) -> bool:
        """Raise an escalation; return False when it interrupted (or ended) the thrower.

        ``ended`` is true for an escalation end event: when an interrupting boundary catches it,
        its token has completed, like an error end event's, rather than being cancelled.
        """
        self.record(HistoryKind.ESCALATION_THROWN, node.id, tok.id, detail=code)
        catcher = self.find_catcher(tok, node, "escalation", code)
        if catcher is None:
            if self.inst.parent is not None:  # the call activity that called this case may catch it
                self.effect(CallEscalated(self.inst.parent, self.inst.id, code))
            return True
        activity_tok, boundary, scope = catcher
        if activity_tok is None:
            if boundary.interrupting and ended:
                self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
                del self.tokens[tok.id]
            self.start_event_subprocess(scope, boundary, None)
            return tok.id in self.tokens
        if boundary.interrupting:
            if ended and tok is not activity_tok:
                self.record(HistoryKind.ELEMENT_COMPLETED, node.id, tok.id)
                del self.tokens[tok.id]
            self.cancel_token(activity_tok)
        new = self.new_token(boundary.id, scope)
        self.record(HistoryKind.ELEMENT_STARTED, boundary.id, new.id)
        self.leave(new, boundary)
        return tok.id in self.tokens

    def find_catcher(
        self, tok: Token, node: Node, kind: str, code: str | None
    ) -> tuple[Token | None, Node, int] | None:
        """The nearest element catching an error or escalation thrown by ``tok`` at ``node``.

        From the throwing element outwards: its boundary events, then the event subprocesses
        of the scope it runs in, then the boundary events of the subprocess owning that scope,
        and so on.  Returns (activity token, boundary event, its scope) for a boundary event,
        or (None, start event, scope) for the start event of an event subprocess.
        """
        nodes = self.proc.nodes
        cur_tok, cur_node = tok, node
        scopes = self.inst.scopes
        while True:
            if cur_node.boundaries and not (
                cur_node.loop is not None and scopes[cur_tok.scope].node == cur_node.id
            ):  # an instance of a looping activity: the boundary events are its body's
                catch_all: Node | None = None
                for boundary_id in cur_node.boundaries:
                    b = nodes[boundary_id]
                    if b.model.event_kind != kind:
                        continue
                    if b.code is None:
                        catch_all = catch_all or b
                    elif b.code == code:
                        return cur_tok, b, cur_tok.scope
                if catch_all is not None:
                    return cur_tok, catch_all, cur_tok.scope
            scope = scopes[cur_tok.scope]
            owner = nodes[scope.node] if scope.node is not None else None
            starts = owner.event_starts if owner is not None else self.proc.event_starts
            if starts and not cur_node.model.triggered_by_event:
                start = self.event_catcher(starts, kind, code)
                if start is not None:
                    return None, start, scope.id
            if scope.token is None:
                return None
            cur_tok = self.tokens[scope.token]
            cur_node = nodes[cur_tok.node]

    def event_catcher(self, starts: tuple[str, ...], kind: str, code: str | None) -> Node | None:
        """Among event subprocess start events, the one catching ``kind``/``code``."""
        catch_all: Node | None = None
        for start_id in starts:
            start = self.proc.nodes[start_id]
            if start.model.event_kind != kind:
                continue
            if start.code is None:
                catch_all = catch_all or start
            elif start.code == code:
                return start
        return catch_all

    # == event subprocesses ======================================================================
    def arm_event_subprocesses(self, scope_id: int, starts: tuple[str, ...]) -> None:
        """A scope began: the message and timer start events of its event subprocesses wait.

        Their subscriptions belong to the token of the subprocess owning the scope, or to the
        case itself (token 0) for the process's, and go when the scope ends.
        """
        scope = self.inst.scopes[scope_id]
        owner = scope.token if scope.token is not None else 0
        view = self.scope_view(scope_id)
        for start_id in starts:
            start = self.proc.nodes[start_id]
            sub: Subscription | None = None
            if start.timer is not None and start.timer_type is not None:
                value = start.timer(view)
                calendar = self.env.calendar(start.calendar)
                due = timers.timer_due(start.timer_type, value, self.now, self.tz, calendar)
                cycle = None
                if start.timer_type == "timeCycle" and isinstance(value, str):
                    cycle = str(timers.parse_cycle(value, self.tz))
                sub = Subscription(
                    self.inst.new_id(),
                    SubscriptionKind.TIMER,
                    start.id,
                    owner,
                    due=due,
                    cycle=cycle,
                    armed=self.now if cycle else None,
                )
            elif start.signal is not None:
                kind = SubscriptionKind.SIGNAL
                sub = Subscription(self.inst.new_id(), kind, start.id, owner, start.signal)
            elif start.when is not None:
                kind = SubscriptionKind.CONDITION
                sub = Subscription(self.inst.new_id(), kind, start.id, owner)
            elif start.message is not None:
                key = self.inst.business_key
                if start.correlation_key is not None:
                    key = _text(start.correlation_key(view))
                kind = SubscriptionKind.MESSAGE
                sub = Subscription(self.inst.new_id(), kind, start.id, owner, start.message, key)
            if sub is not None:
                self.inst.subscriptions[sub.id] = sub

    def trigger_event_subprocess(
        self, sub: Subscription, start: Node, variables: Mapping[str, Any] | None
    ) -> None:
        """A message or timer started an event subprocess."""
        scopes = self.inst.scopes
        if sub.token == 0:
            scope_id = 0
        else:
            scope_id = next(
                s.id
                for s in scopes.values()
                if s.token == sub.token
                and s.parent is not None
                and s.node == self.tokens[sub.token].node
            )
        if sub.kind is SubscriptionKind.TIMER:
            self.record(HistoryKind.TIMER_FIRED, start.id, None)
        elif sub.kind is SubscriptionKind.SIGNAL:
            payload = dict(variables) if variables else None
            self.record(HistoryKind.SIGNAL_RECEIVED, start.id, None, payload, sub.message)
        elif sub.kind is SubscriptionKind.CONDITION:
            self.record(HistoryKind.CONDITION_MET, start.id, None)
        else:
            payload = dict(variables) if variables else None
            self.record(HistoryKind.MESSAGE_RECEIVED, start.id, None, payload, sub.message)
        if start.interrupting:
            self.inst.subscriptions.pop(sub.id, None)
        else:
            self.rearm_or_drop(sub)  # a message start waits again; a timer only if it cycles
        self.start_event_subprocess(scope_id, start, variables)
        self.drain()

    def start_event_subprocess(
        self, scope_id: int, start: Node, variables: Mapping[str, Any] | None
    ) -> None:
        """Run the event subprocess of ``start`` in ``scope_id``; an interrupting one first
        cancels everything else running in that scope, and its other event subprocesses."""
        nodes = self.proc.nodes
        event_sub = nodes[start.parent] if start.parent is not None else None
        assert event_sub is not None
        scopes = self.inst.scopes
        if start.interrupting:
            for other in [t for t in self.tokens.values() if t.scope == scope_id]:
                if other.id in self.tokens:
                    self.cancel_token(other)
            owner = scopes[scope_id].token
            owner_id = owner if owner is not None else 0
            container = scopes[scope_id].node
            starts = nodes[container].event_starts if container else self.proc.event_starts
            subs = self.inst.subscriptions
            for sub_id in [s.id for s in subs.values() if s.token == owner_id]:
                if subs[sub_id].node in starts:
                    del subs[sub_id]
        holder = self.new_token(event_sub.id, scope_id)
        holder.state = TokenState.WAITING
        self.record(HistoryKind.ELEMENT_STARTED, event_sub.id, holder.id)
        body = ScopeState(self.inst.new_id(), scope_id, event_sub.id, holder.id, {})
        scopes[body.id] = body
        if event_sub.data:
            self.create_data_objects(body.id, event_sub.id, event_sub.data)
        if event_sub.event_starts:
            self.arm_event_subprocesses(body.id, event_sub.event_starts)
        tok = self.new_token(start.id, body.id)
        self.record(HistoryKind.ELEMENT_STARTED, start.id, tok.id)
        if variables:
            self.set_variables(body.id, variables, start.id)
        self.leave(tok, start)

    # == listeners (see engine/listeners.py) ====================================================
    def listened(
        self,
        element: str,
        listeners: tuple[Listener, ...],
        event: str,
        view: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Run ``listeners`` in order; return the variables they set (not yet stored).

        A handler gets a copy of the variables with ``listener_event`` and ``listener_element``
        added; a script works on a copy too.  Raises LiuchengError naming the listener when
        one fails, having changed nothing.
        """
        changed: dict[str, Any] = {}
        for listener in listeners:
            current: Mapping[str, Any] = {**view, **changed} if changed else view
            what = f"the {event} listener {listener.written} of '{element}'"
            if listener.handler is not None:
                self.env.calling_out()  # outside ``try``: the store's error is not the handler's
            try:
                if listener.handler is not None:
                    handler = self.env.services.get(listener.handler)
                    if handler is None:
                        raise LiuchengError(f"no handler is registered for '{listener.handler}'")
                    given = _handler_copy(current)
                    given["listener_event"] = event
                    given["listener_element"] = element
                    result = handler(given)
                    if result is not None and not isinstance(result, Mapping):
                        raise LiuchengError(
                            f"it returned a {type(result).__name__}; return a mapping of "
                            "variables or None"
                        )
                    values = dict(result or {})
                else:
                    assert listener.script is not None
                    values, _ = _script_changes(listener.script, current)
                _check_values(values)
            except LiuchengError as exc:
                raise LiuchengError(f"{what} failed: {exc}") from exc
            except Exception as exc:  # the handler's own failure
                raise LiuchengError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            changed.update(values)
        return changed

    def notify(self, tok: Token, node: Node, event: str, *, leaving: bool = False) -> bool:
        """Run the element's listeners for ``event`` and store what they set; False (with an
        incident) when one failed."""
        assert node.listeners is not None
        listeners = node.listeners.get(event)
        if not listeners:
            return True
        return self.notified(tok, node, listeners, event.removeprefix("task:"), leaving)

    def notify_take(self, tok: Token, node: Node, flows: list[Flow] | tuple[Flow, ...]) -> bool:
        """The ``take`` listeners of the flows a token is about to take."""
        for flow in flows:
            if flow.listeners and not self.notified(
                tok, node, flow.listeners, "take", True, flow.id
            ):
                return False
        return True

    def notified(
        self,
        tok: Token,
        node: Node,
        listeners: tuple[Listener, ...],
        event: str,
        leaving: bool,
        element: str | None = None,
    ) -> bool:
        """Run ``listeners`` for the token at ``node`` (``element``: a flow being taken)."""
        try:
            values = self.listened(element or node.id, listeners, event, self.view(tok))
        except LiuchengError as exc:
            self.incident(tok, node, "listener", str(exc), leaving)
            return False
        if values:
            self.set_variables(self.var_scope(tok), values, node.id)
        return True

    def task_created(self, tok: Token, node: Node, task: UserTask) -> bool:
        """A user task's ``create`` listeners, then ``assignment`` ones if it has an assignee;
        a failure takes the task back and leaves an incident (a retry creates it again)."""
        events = ["create"] + (["assignment"] if task.assignee else [])
        for event in events:
            if not self.notify(tok, node, f"task:{event}"):
                self.inst.tasks.pop(task.id, None)
                return False
        return True

    # == compensation and transactions (see engine/compensation.py) =============================
    def do_throw_compensation(self, tok: Token, node: Node) -> None:
        if not compensation.throw(self, tok, node):
            self.leave(tok, node)

    def do_end_compensation(self, tok: Token, node: Node) -> None:
        if not compensation.throw(self, tok, node):
            self.leave(tok, node, ())

    def do_end_cancel(self, tok: Token, node: Node) -> None:
        compensation.cancel(self, tok)

    def do_end_error(self, tok: Token, node: Node) -> None:
        self.throw_error(tok, node, node.code, ended=True)

    def do_throw_escalation(self, tok: Token, node: Node) -> None:
        if self.throw_escalation(tok, node, node.code):
            self.leave(tok, node)

    def do_end_escalation(self, tok: Token, node: Node) -> None:
        if self.throw_escalation(tok, node, node.code, ended=True):
            self.leave(tok, node, ())


def _flowable_result(node: Node, result: DecisionResult) -> dict[str, Any]:
    """A Flowable decision task's variables: the outputs of the rule that matched, or, for a
    table that may match several rules (COLLECT, RULE ORDER, OUTPUT ORDER), a list of every
    matching rule's outputs under the decision's id.  No match sets nothing, or is an error
    with ``decisionTaskThrowErrorOnNoHits``."""
    if not result.entries and node.decision_mode == "flowable_strict":
        raise LiuchengError(f"decision '{result.decision_id}' matched no rule")
    if isinstance(result.value, list):
        return {result.decision_id: [dict(e) for e in result.entries]}
    return dict(result.entries[0]) if result.entries else {}


def _check_values(values: Mapping[str, Any]) -> None:
    """Refuse variables set by a handler, script or listener that could not be stored."""
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise LiuchengError(f"variable names must be non-empty strings, not {name!r}")
        check_storable(value, name)


def _script_changes(script: Script, view: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run a Python-dialect script on a copy of ``view``: the variables it set or changed, and
    those it deleted.  Lists and dicts are deep-copied, so a failure (ExpressionError) changes
    nothing and changes made in place are still seen."""
    before = dict(view)
    work = {k: (copy.deepcopy(v) if isinstance(v, list | dict) else v) for k, v in before.items()}
    script(work)
    changed = {
        k: v
        for k, v in work.items()
        if k not in before or (before[k] is not v and not _same(before[k], v))
    }
    return changed, [k for k in before if k not in work]


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # pragma: no cover - exotic values compare by identity
        return False


def _handler_copy(view: Mapping[str, Any]) -> dict[str, Any]:
    """The variables handed to a Python handler: changing them in place cannot reach the case."""
    return {k: (copy.deepcopy(v) if isinstance(v, list | dict) else v) for k, v in view.items()}


def _whole(value: Any, what: str) -> int:
    """A count from an expression: a whole, non-negative number (FEEL gives Decimal)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ExpressionError(f"{what} must be a number, not {type(value).__name__}")
    if value < 0 or value != int(value):
        raise ExpressionError(f"{what} must be a whole number of at least 0, not {value}")
    return int(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(value.to_integral_value())
    return str(value)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


#: Behaviour name -> the ``Run.do_*`` method that implements it, looked up once per element.
_BEHAVIOURS: dict[str, Callable[[Run, Token, Node], None]] = {
    name[3:]: method for name, method in vars(Run).items() if name.startswith("do_")
}
