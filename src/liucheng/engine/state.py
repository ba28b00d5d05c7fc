"""The state of one running case, as plain data.

Everything the engine needs to resume a case lives in an ``Instance``: its tokens, variable scopes,
open user tasks, event subscriptions (messages and timers it waits for), incidents and history.
It holds no references to compiled models, clocks or handlers, so it serialises to JSON at any
wait state (``engine/serialize.py``) and a restored copy continues exactly like the original.

Identifiers inside an instance (tokens, scopes, subscriptions) are small integers drawn from one
counter per instance, so a restored instance keeps producing the same ids as the original.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, NamedTuple


class HistoryKind(enum.StrEnum):
    """What a history event records.  A typed enum, never free strings (see STYLE.md)."""

    INSTANCE_STARTED = "instance_started"
    INSTANCE_COMPLETED = "instance_completed"
    INSTANCE_TERMINATED = "instance_terminated"
    ELEMENT_STARTED = "element_started"  # a token entered a flow node
    ELEMENT_COMPLETED = "element_completed"  # a token left a flow node normally
    ELEMENT_CANCELLED = "element_cancelled"  # interrupted by a boundary event, terminate, error
    FLOW_TAKEN = "flow_taken"
    TASK_CREATED = "task_created"
    TASK_COMPLETED = "task_completed"
    VARIABLES_CHANGED = "variables_changed"
    MESSAGE_SENT = "message_sent"
    MESSAGE_RECEIVED = "message_received"
    TIMER_FIRED = "timer_fired"
    ERROR_THROWN = "error_thrown"
    ESCALATION_THROWN = "escalation_thrown"
    INCIDENT_RAISED = "incident_raised"
    INCIDENT_RESOLVED = "incident_resolved"
    EXTERNAL_TASK_CREATED = "external_task_created"
    EXTERNAL_TASK_COMPLETED = "external_task_completed"
    EXTERNAL_TASK_FAILED = "external_task_failed"
    JOB_CREATED = "job_created"
    JOB_FAILED = "job_failed"
    DECISION_EVALUATED = "decision_evaluated"  # detail: the decision and the rules that matched
    CALLED = "called"  # a call activity started a case; detail: the called case's id
    SIGNAL_THROWN = "signal_thrown"  # detail: the signal's name
    SIGNAL_RECEIVED = "signal_received"  # detail: the signal's name
    CONDITION_MET = "condition_met"  # a conditional event's condition became true
    MODIFIED = "modified"  # an operator moved a token; detail: from where to where, and why
    MIGRATED = "migrated"  # the case moved to another version; detail: the versions and mapping
    COMPENSATION_THROWN = "compensation_thrown"  # detail: the activity named, or None for all
    TRANSACTION_CANCELLED = "transaction_cancelled"  # a cancel end event; element: the transaction


class InstanceState(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class TokenState(enum.StrEnum):
    READY = "ready"  # on the agenda: about to enter its node
    WAITING = "waiting"  # parked at a wait state (user task, catch event, subprocess, join)
    INCIDENT = "incident"  # stuck until an operator resolves the incident


@dataclass(slots=True)
class Token:
    id: int
    node: str
    scope: int  # the scope (process or subprocess instance) the token runs in
    state: TokenState = TokenState.READY
    via: str | None = None  # the sequence flow the token arrived by (joins need it)
    local: int | None = None  # a variable scope created by the node's input mappings


@dataclass(slots=True)
class ScopeState:
    """A variable scope: the process, a running subprocess, or an activity's input mappings."""

    id: int
    parent: int | None  # None for the process scope
    node: str | None = None  # the subprocess/activity that owns it; None for the process
    token: int | None = None  # for a subprocess: the token waiting at the subprocess node
    variables: dict[str, Any] = field(default_factory=dict)


class UserTask(NamedTuple):
    """An open user task: work waiting for a person.

    Immutable, like the other snapshots the API hands out; the engine replaces a task rather
    than changing it.  A named tuple because one is made for every user task a case reaches.
    """

    id: str
    instance_id: str
    token: int
    node: str
    name: str | None
    created: datetime
    assignee: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    form_key: str | None = None
    due: datetime | None = None
    priority: int = 50
    process_id: str = ""
    business_key: str | None = None


class ExternalTask(NamedTuple):
    """Work for a worker outside the engine (a gate barrier, an SMS gateway, a finance system).

    A service task whose implementation is external (``camunda:type="external"`` with a topic,
    Flowable's external worker) waits as one of these until a worker fetches it by topic, locks
    it for a while, and completes or fails it.  Locks are kept by the store, not in the case.
    """

    id: str
    instance_id: str
    token: int
    node: str
    topic: str
    created: datetime
    retries: int | None = None  # set by the first failure: how many attempts are left
    error: str | None = None  # the last failure's message
    available: datetime | None = None  # not handed out before this (back-off after a failure)
    process_id: str = ""
    business_key: str | None = None


class SubscriptionKind(enum.StrEnum):
    MESSAGE = "message"
    TIMER = "timer"
    JOB = "job"  # an asynchronous continuation: the engine goes on in a later transaction
    CALL = "call"  # a call activity waits for the case it called (``message``: that case's id)
    SIGNAL = "signal"  # a broadcast signal (``message``: its name)
    CONDITION = "cond"  # a conditional event: asked again whenever variables change (the
    #                     stored kind column holds 8 characters)


@dataclass(slots=True)
class Subscription:
    """Something the case waits for from outside: a message or a timer.

    ``node`` is the catching element (catch event, receive task or boundary event); ``token`` is
    the token that waits — for a boundary event, the token of the activity it is attached to.
    """

    id: int
    kind: SubscriptionKind
    node: str
    token: int
    message: str | None = None
    key: str | None = None  # correlation key value
    due: datetime | None = None
    cycle: str | None = None  # canonical ISO text of a repeating timer
    fired: int = 0  # how often a cycle has fired; for a job, how many attempts failed
    armed: datetime | None = None  # when a cycle was armed: later firings count from here


@dataclass(slots=True)
class Compensable:
    """A completed activity that compensation may still undo.

    Recorded when an activity with a compensation handler completes, in the scope it ran in.
    A subprocess that completes takes the records of its body with it (``inner``), with its
    variables as they were at the end, so compensating the subprocess later undoes its work in
    reverse order even though its scope is gone.  Ids come from the case's counter: a larger id
    completed later.
    """

    id: int
    node: str  # the activity that completed
    scope: int  # the running scope it completed in (inside ``inner``: unused)
    variables: dict[str, Any] | None = None  # the scope's variables when it ended (snapshots)
    inner: list[Compensable] = field(default_factory=list)


@dataclass(slots=True)
class CompensationStep:
    """One compensation handler waiting its turn: compensation runs one handler at a time,
    the most recently completed activity first, while ``thrower`` waits."""

    thrower: int  # the token at the compensation throw or cancel end event
    handler: str  # the handler activity (``isForCompensation``)
    scope: int  # the live scope the handler runs in (under a scope of its own)
    variables: dict[str, Any] | None = None  # restored snapshot variables of completed scopes


@dataclass(slots=True)
class Incident:
    id: int
    token: int
    node: str
    kind: str  # "expression", "no_matching_flow", "service", "unhandled_error", "script", ...
    message: str
    created: datetime
    leaving: bool = False  # raised while leaving the element: a retry only leaves it again


class HistoryEvent(NamedTuple):
    """One thing that happened to a case.

    A named tuple rather than a dataclass: cases record dozens of these per step, and a tuple is
    the cheapest object Python makes.
    """

    seq: int
    time: datetime
    kind: HistoryKind
    element: str | None = None
    token: int | None = None
    variables: dict[str, Any] | None = None  # the variables this event changed
    detail: str | None = None  # a task id, a message name, an error code, an incident text

    def __repr__(self) -> str:
        bits = [self.kind.value]
        if self.element:
            bits.append(self.element)
        if self.detail:
            bits.append(repr(self.detail))
        return f"<{' '.join(bits)}>"


Changes = tuple[Any, ...]
"""The variables an event changed, flat: ``(name, value, name, value, …)``, not pairs (see
``Instance.history`` for why)."""

RawEvent = tuple[int, datetime, str, str | None, int | None, Changes | None, str | None]
_KIND_OF = {k.value: k for k in HistoryKind}


def flat_changes(values: Mapping[str, Any]) -> Changes:
    """``values`` as an event's ``Changes``."""
    return tuple(chain.from_iterable(values.items()))


def changes_dict(changes: Changes) -> dict[str, Any]:
    """An event's ``Changes`` as a new dict."""
    names_and_values = iter(changes)  # zipped with itself: (name, value) pairs, no slices
    return dict(zip(names_and_values, names_and_values, strict=True))


def event_of(raw: RawEvent) -> HistoryEvent:
    """The typed view of one stored history event."""
    seq, time, kind, element, token, changes, detail = raw
    variables = changes_dict(changes) if changes is not None else None
    return HistoryEvent(seq, time, _KIND_OF[kind], element, token, variables, detail)


@dataclass(slots=True)
class Instance:
    id: str
    process_id: str
    version: int
    business_key: str | None
    started: datetime
    state: InstanceState = InstanceState.ACTIVE
    ended: datetime | None = None
    tokens: dict[int, Token] = field(default_factory=dict)
    scopes: dict[int, ScopeState] = field(default_factory=dict)
    tasks: dict[str, UserTask] = field(default_factory=dict)
    externals: dict[str, ExternalTask] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    # Stored as plain tuples ``(seq, time, kind text, element, token, changes, detail)``, the
    # changed variables as one flat tuple ``(name, value, name, value, …)``: the garbage
    # collector stops tracking a tuple that holds only plain values, so finished cases kept in
    # memory cost it nothing.  A named tuple, an enum member or a dict inside would keep the
    # event tracked forever, and every full collection would walk every event of every case
    # (measured: 15-40 % of the time of a long in-memory run).  Pairs inside would keep it
    # tracked until a full collection: a collection checks an event before the tuples it holds
    # (those are found through it, so they move behind it), so each level of nesting costs one
    # more collection, and events that outlive two reach the oldest generation, whose growth
    # starts full collections (pairs: 20 of a 10-task case's events got there, and full
    # collections took 44 % of a long run; flat: 1.6).  ``events`` gives the typed view.
    history: list[RawEvent] = field(default_factory=list)
    next_id: int = 1
    # Kept by stores, not by the engine: the revision the case was loaded at (optimistic
    # locking), and how many history events are stored before ``history`` starts (a durable
    # store keeps events as rows and loads a case without them; sequence numbers go on from it).
    rev: int = 0
    history_base: int = 0
    # A case started by a call activity: the calling case, and the token waiting there.
    parent: str | None = None
    parent_token: int | None = None
    # Compensation: completed activities that can be undone, and handlers queued to undo them.
    compensables: list[Compensable] = field(default_factory=list)
    compensating: list[CompensationStep] = field(default_factory=list)

    def new_id(self) -> int:
        n = self.next_id
        self.next_id = n + 1
        return n

    def events(self) -> list[HistoryEvent]:
        """The history as typed events."""
        return [event_of(raw) for raw in self.history]

    @property
    def variables(self) -> dict[str, Any]:
        """The process-scope variables (scope 0)."""
        return self.scopes[0].variables
