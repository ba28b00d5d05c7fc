"""The public Python API: ``Engine``, the way to embed Liucheng.

``Engine()`` keeps everything in memory.  Each method is one operation: it checks its input
first (so a refused call changes nothing), runs one engine step, then hands any messages the
case threw to the cases waiting for them.

    engine = Engine()
    engine.deploy("pass_application.bpmn")
    case = engine.start("pass_application", variables={"applicant_type": "external"})
    task = engine.tasks(instance=case.id)[0]
    engine.complete(task.id, {"approved": True})
"""

from __future__ import annotations

import collections
import enum
import functools
import hashlib
import itertools
import operator
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from liucheng.bpmn.model import Definitions
from liucheng.bpmn.parse import parse_bpmn
from liucheng.bpmn.validate import check
from liucheng.calendar import CalendarSet
from liucheng.dmn import parse_dmn
from liucheng.engine import compensation, timers
from liucheng.engine.clock import Clock
from liucheng.engine.codec import from_jsonable, to_jsonable
from liucheng.engine.conditions import conditional_starts
from liucheng.engine.executor import (
    AFTER_MARK,
    CallCancelled,
    CallEnded,
    CallStart,
    DecisionHandler,
    Effect,
    Environment,
    OutgoingMessage,
    Run,
    ServiceHandler,
    SignalThrown,
)
from liucheng.engine.graph import CompiledProcess, compile_process
from liucheng.engine.serialize import instance_from_json, instance_to_json
from liucheng.engine.state import (
    ExternalTask,
    HistoryEvent,
    HistoryKind,
    Incident,
    Instance,
    InstanceState,
    ScopeState,
    Subscription,
    SubscriptionKind,
    TokenState,
    UserTask,
    event_of,
)
from liucheng.engine.vartypes import check_types
from liucheng.errors import (
    ConflictError,
    CorrelationError,
    LiuchengError,
    UnknownInstanceError,
    UnknownProcessError,
    UnknownTaskError,
)
from liucheng.expr import FEEL, PYTHON, language_name
from liucheng.expr.clock import CLOCK, utc_now
from liucheng.memory_store import MemoryStore
from liucheng.store import (
    Attachment,
    BufferedMessage,
    Comment,
    DeploymentRecord,
    StaleCaseError,
    StartTimer,
    Store,
    TaskCursor,
    TaskQuery,
)

F = TypeVar("F", bound=Callable[..., Any])
_new_tuple = tuple.__new__
_ACTIVE = InstanceState.ACTIVE  # a global: ``InstanceState.ACTIVE`` costs an enum lookup


#: The types of variable values tasks can be found by (what the SQL store indexes).
_SEARCHABLE = frozenset({str, bool, int, Decimal, float, date, datetime})


def _task_cursor(after: UserTask | TaskCursor | str | None) -> TaskCursor | None:
    """``Engine.tasks(after=…)`` as a cursor; ``LiuchengError`` naming ``after`` otherwise."""
    if isinstance(after, TaskCursor):
        if not isinstance(after.created, datetime) or after.created.utcoffset() is None:
            raise LiuchengError(f"after: a cursor's time must carry a time zone: {after!r}")
        return after
    if after is None:
        return None
    if isinstance(after, UserTask):
        return TaskCursor.of(after)
    if isinstance(after, str):
        return TaskCursor.parse(after)
    raise LiuchengError(f"after: a task, a TaskCursor or a cursor's text, not {after!r}")


def _clocked(method: F) -> F:
    """Run an engine operation with expressions reading the engine's clock for ``now()``.

    Expressions read the system time unless told otherwise, so an engine whose clock follows
    the system time unchanged has nothing to tell them while nobody else has: it skips the
    context variable (setting and resetting it cost more than many an operation's own work).
    A clock advanced by a handler in the middle of such an operation reaches the expressions
    from the next operation on.
    """

    @functools.wraps(method)
    def wrapper(self: Engine, *args: Any, **kwargs: Any) -> Any:
        if self.clock.follows_system and CLOCK.get() is utc_now:
            return method(self, *args, **kwargs)
        token = CLOCK.set(self.clock.now)
        try:
            return method(self, *args, **kwargs)
        finally:
            CLOCK.reset(token)

    return wrapper  # type: ignore[return-value]


def _step(method: F) -> F:
    """``_clocked``, and inside one store transaction: the operation happens whole or not at all."""

    @functools.wraps(method)
    def wrapper(self: Engine, *args: Any, **kwargs: Any) -> Any:
        if self.clock.follows_system and CLOCK.get() is utc_now:  # see ``_clocked``
            with self.store.transaction():
                return method(self, *args, **kwargs)
        token = CLOCK.set(self.clock.now)
        try:
            with self.store.transaction():
                return method(self, *args, **kwargs)
        finally:
            CLOCK.reset(token)

    return wrapper  # type: ignore[return-value]


class Case(NamedTuple):
    """A snapshot of one case (process instance) after an operation.

    Changing a snapshot changes nothing in the engine; its ``variables`` are a copy.  A named
    tuple because every operation returns one: it is the cheapest snapshot Python can build.
    """

    id: str
    process_id: str
    version: int
    business_key: str | None
    state: InstanceState
    variables: dict[str, Any]
    active: tuple[str, ...]  # element ids where the case stands now
    incidents: tuple[Incident, ...]
    started: datetime
    ended: datetime | None
    parent: str | None = None  # the case whose call activity started this one

    @property
    def is_ended(self) -> bool:
        return self.state is not _ACTIVE


class LockedTask(NamedTuple):
    """An external task handed to a worker: the task, its lock, and its case's variables."""

    task: ExternalTask
    worker: str
    lock_expires: datetime
    variables: dict[str, Any]

    @property
    def id(self) -> str:
        task_id: str = self.task.id
        return task_id

    @property
    def topic(self) -> str:
        topic: str = self.task.topic
        return topic


JOB_LOCK = timedelta(minutes=5)  # a worker's claim expires after this long without a word


class JobKind(enum.StrEnum):
    """What a waiting job does when it falls due (``Engine.jobs``)."""

    TIMER = "timer"  # a timer event a case waits at fires
    START_TIMER = "start timer"  # a timer start event starts a new case
    JOB = "job"  # an asynchronous continuation, or a failed service call tried again


class Job(NamedTuple):
    """A timer or job waiting to fall due, as an operator sees it (``Engine.jobs``)."""

    due: datetime
    kind: JobKind
    process_id: str
    element: str  # the timer event, or the element the job enters (or continues after)
    instance_id: str | None  # None for a timer start event: it starts a new case
    cycle: str | None = None  # a repeating timer's cycle (ISO 8601)
    after: bool = False  # a job that continues after its element completed
    failed: int = 0  # a job: attempts that failed so far
    attempts: int = 0  # a job: attempts allowed in all (the element's retry cycle)


@dataclass(frozen=True, slots=True)
class Deployment:
    process_id: str
    name: str | None
    version: int
    content_hash: str
    new: bool  # False when the same content was already deployed


class Engine:
    """The Liucheng engine: deploy processes, start and work cases.

    ``Engine()`` keeps everything in memory (``MemoryStore``); ``Engine("sqlite:///cases.db")``
    or a ``postgresql+psycopg://`` URL keeps it in that database (``SqlStore``);
    ``Engine(store=...)`` takes any store.  Every operation runs inside one store
    transaction: load the case, take one step, save it (plus any case a thrown message
    reaches), or change nothing.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        timezone: str | tzinfo = "Asia/Shanghai",
        expression_language: str | None = None,
        calendars: CalendarSet | Mapping[str, Any] | None = None,
    ) -> None:
        self.clock = clock or Clock()
        if url is not None and store is not None:
            raise LiuchengError("give a database URL or a store, not both")
        if url is not None:
            from liucheng.runtime import SqlStore

            store = SqlStore(url, migrate=True)  # tables created or upgraded on first use
        self.store: Store = store if store is not None else MemoryStore()
        tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.env = Environment(timezone=tz, calling_out=self.store.calling_out)
        self.env.new_case_id = self._new_case_id
        self.env.has_process = self._has_process
        if calendars is not None:
            # The organisation's business calendars, as data: ``{"default": name,
            # "calendars": [spec, ...]}`` (see docs/calendar.md) or a CalendarSet.
            self.env.calendars = (
                calendars
                if isinstance(calendars, CalendarSet)
                else CalendarSet.from_dict(calendars)
            )
        self.default_language = language_name(expression_language) or FEEL
        self._versions: dict[str, list[CompiledProcess]] = {}
        self._dmn_versions: dict[str, list[str]] = {}  # "dmn:<id>" -> content hash per version
        self._known: set[tuple[str, int]] = set()  # deployments compiled here (id, version)
        # Case ids: a random prefix per engine and a counter.  Unique across engines and
        # processes like a UUID, without a system call for randomness on every start.
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count(1)
        for record in self.store.deployments():
            self._compile_record(record)

    # == handlers ===============================================================================
    def register_service(self, name: str, handler: ServiceHandler) -> None:
        """Register a Python callable for service tasks that name ``name``.

        The handler receives a copy of the case's visible variables and returns a mapping of
        variables to set (or any value when the task names a result variable), or raises
        ``BpmnError`` to throw a BPMN error.
        """
        self.env.services[name] = handler

    def service(self, name: str) -> Callable[[F], F]:
        """Decorator form of ``register_service``."""

        def register(fn: F) -> F:
            self.register_service(name, fn)
            return fn

        return register

    def register_decision(self, decision_id: str, handler: DecisionHandler) -> None:
        """Register a callable that business rule tasks naming ``decision_id`` will call."""
        self.env.decisions[decision_id] = handler

    # == deployment =============================================================================
    @_step
    def deploy(
        self,
        source: str | Path | bytes,
        *,
        expression_language: str | None = None,
        name: str | None = None,
    ) -> list[Deployment]:
        """Deploy every executable process in a BPMN file (a path, or the XML as bytes).

        Redeploying identical content is a no-op; changed content becomes a new version.  The
        whole file is validated first: one bad process deploys nothing.
        """
        data, label = _read_source(source, name)
        self._sync_deployments()  # versions deployed by other servers on the same database
        if _is_dmn(data, label):
            return self._deploy_dmn(data, label)
        defs = parse_bpmn(data, source=label)
        check(defs)
        language = self._language_for(defs, expression_language)
        digest = hashlib.sha256(data).hexdigest()
        compiled: list[tuple[CompiledProcess, bool]] = []
        for process in defs.processes.values():
            if not process.is_executable:
                continue
            versions = self._versions.get(process.id, [])
            if versions and versions[-1].content_hash == digest:
                compiled.append((versions[-1], False))
                continue
            cp = compile_process(
                defs,
                process,
                language=language,
                version=len(versions) + 1,
                calendars=self.env.calendars,
            )
            cp.content_hash = digest
            compiled.append((cp, True))
        now = self.clock.now()
        result = []
        for cp, new in compiled:
            if new:
                record = DeploymentRecord(
                    cp.id, cp.version, cp.name, digest, data, label, language, now
                )
                self.store.add_deployment(record)
                self._versions.setdefault(cp.id, []).append(cp)
                self._known.add((cp.id, cp.version))
                self._arm_start_timers(cp)
            result.append(Deployment(cp.id, cp.name, cp.version, cp.content_hash, new))
        return result

    def _deploy_dmn(self, data: bytes, label: str | None) -> list[Deployment]:
        """Deploy a DMN file: each of its decisions becomes callable by id (the newest file
        that defines an id wins), from business rule tasks and ``decide``.

        The file is stored as a deployment under ``dmn:<definitions id>`` (``language`` "dmn"),
        versioned by content like a process, so an engine opening the database has it too.
        """
        model = parse_dmn(data, label)
        key = _DMN_PREFIX + (model.id or label or "decisions")
        digest = hashlib.sha256(data).hexdigest()
        versions = self._dmn_versions.setdefault(key, [])
        new = not versions or versions[-1] != digest
        if new:
            record = DeploymentRecord(
                key, len(versions) + 1, model.name, digest, data, label, DMN, self.clock.now()
            )
            self.store.add_deployment(record)
            versions.append(digest)
            self._known.add((key, len(versions)))
            for decision_id in model.decisions:
                self.env.dmn[decision_id] = model
        return [
            Deployment(decision_id, model.decisions[decision_id].name, len(versions), digest, new)
            for decision_id in model.decisions
        ]

    @_clocked
    def decide(self, decision: str, variables: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a deployed DMN decision (by id) on ``variables`` and return its value:
        one output's value, a dict of outputs, or a list of them for a multi-hit table."""
        model = self.env.dmn.get(decision)
        if model is None:
            self._sync_deployments()
            model = self.env.dmn.get(decision)
        if model is None:
            raise LiuchengError(f"no decision '{decision}' is deployed")
        return model.evaluate(decision, _checked(variables))

    def _sync_deployments(self) -> None:
        """Compile the versions other engines deployed on this store since we last looked.

        Several servers share one database: a process deployed through one must start, and
        be called, through every other, and a deployment here must number its version after
        theirs.
        """
        for record in self.store.deployments():
            if (record.process_id, record.version) not in self._known:
                self._compile_record(record)

    def _compile_record(self, record: DeploymentRecord) -> None:
        """Compile a version stored earlier (an engine opening an existing database)."""
        self._known.add((record.process_id, record.version))
        if record.language == DMN:
            model = parse_dmn(record.source, record.source_name)
            self._dmn_versions.setdefault(record.process_id, []).append(record.content_hash)
            for decision_id in model.decisions:
                self.env.dmn[decision_id] = model
            return
        defs = parse_bpmn(record.source, source=record.source_name)
        process = defs.processes[record.process_id]
        cp = compile_process(defs, process, language=record.language, version=record.version)
        cp.content_hash = record.content_hash
        self._versions.setdefault(cp.id, []).append(cp)

    def _language_for(self, defs: Definitions, override: str | None) -> str:
        if override:
            return language_name(override) or self.default_language
        declared = language_name(defs.expression_language)
        if declared:
            return declared
        if any("spiffworkflow" in uri for uri in defs.namespaces.values()):
            return PYTHON
        return self.default_language

    def processes(self) -> list[CompiledProcess]:
        """The latest version of every deployed process."""
        return [versions[-1] for versions in self._versions.values()]

    def _has_process(self, process_id: str, version: int | None) -> bool:
        versions = self._versions.get(process_id)
        if not versions or (version is not None and version > len(versions)):
            self._sync_deployments()
            versions = self._versions.get(process_id)
        if not versions:
            return False
        return version is None or 1 <= version <= len(versions)

    def _process(self, process_id: str, version: int | None = None) -> CompiledProcess:
        versions = self._versions.get(process_id)
        if not versions or (version is not None and version > len(versions)):
            self._sync_deployments()  # deployed through another server, perhaps
            versions = self._versions.get(process_id)
        if not versions:
            raise UnknownProcessError(f"no process '{process_id}' is deployed")
        if version is None:
            return versions[-1]
        if not 1 <= version <= len(versions):
            raise UnknownProcessError(f"process '{process_id}' has no version {version}")
        return versions[version - 1]

    # == cases ==================================================================================
    @_step
    def start(
        self,
        process_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        business_key: str | None = None,
        version: int | None = None,
    ) -> Case:
        """Start a case at the process's none start event."""
        proc = self._process(process_id, version)
        if proc.start is None:
            raise LiuchengError(
                f"process '{process_id}' has no none start event; it starts by message or timer"
            )
        if proc.variable_types:
            variables = _checked(variables)
            check_types(proc.variable_types, variables)
        return self._start_at(proc, proc.start, variables, business_key)

    def _start_at(
        self,
        proc: CompiledProcess,
        start_node: str,
        variables: Mapping[str, Any] | None,
        business_key: str | None,
        called: CallStart | None = None,
    ) -> Case:
        values = _checked(variables)
        if business_key is not None and self.store.business_key_in_use(proc.id, business_key):
            raise ConflictError(
                f"process '{proc.id}' already has a case with business key '{business_key}'"
            )
        now = self.clock.now()
        case_id = called.case_id if called is not None else self._new_case_id()
        inst = Instance(case_id, proc.id, proc.version, business_key, now)
        if called is not None:
            inst.parent, inst.parent_token = called.parent, called.parent_token
        inst.scopes[0] = ScopeState(0, None)
        run = Run(proc, self.env, inst, now)
        run.record(HistoryKind.INSTANCE_STARTED, detail=proc.id)
        if start_node in proc.conditional_starts:  # started by ``evaluate_conditions``
            run.record(HistoryKind.CONDITION_MET, start_node)
        if proc.data:
            run.create_data_objects(0, None, proc.data)
        if values:
            run.set_variables(0, values, None)
        if proc.listeners is not None and "start" in proc.listeners:
            # The process's start listeners: one that fails refuses the start (nothing is kept).
            variables = inst.scopes[0].variables
            added = run.listened(proc.id, proc.listeners["start"], "start", variables)
            run.set_variables(0, added, None)
        if proc.event_starts:
            run.arm_event_subprocesses(0, proc.event_starts)
        run.schedule(run.new_token(start_node, 0))
        run.drain()
        self.store.insert(inst)
        case = self._case(inst)
        for message in run.outbox:
            self._deliver(message)
        if inst.subscriptions:
            self._take_buffered(inst)
        for effect in run.effects:
            self._apply(effect)
        return case

    def _new_case_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    def _finish(self, run: Run) -> Case:
        """Save the case a step changed, then deliver the messages it threw, then hand it any
        buffered message it now waits for."""
        self.store.save(run.inst)
        case = self._case(run.inst)
        if run.outbox:
            for message in run.outbox:
                self._deliver(message)
        if run.inst.subscriptions:
            self._take_buffered(run.inst)
        if run.effects:
            for effect in run.effects:
                self._apply(effect)
        return case

    # == comments and attachments ================================================================
    @_step
    def comment(
        self, instance_id: str, text: str, *, author: str, task: str | None = None
    ) -> Comment:
        """Write a comment on a case (or one of its tasks), kept beside its history."""
        self._note_target(instance_id, task)
        _short(author, "author", 255)
        _short(text, "the comment", 10_000)
        # Ids from the engine's counter: within one instant, comments keep the order written.
        note = Comment(self._new_case_id(), instance_id, task, author, self.clock.now(), text)
        self.store.add_comment(note)
        return note

    def comments(self, instance_id: str) -> list[Comment]:
        """The case's comments, oldest first."""
        self._get(instance_id)
        return self.store.comments(instance_id)

    @_step
    def attach(
        self,
        instance_id: str,
        name: str,
        *,
        uri: str,
        media_type: str,
        size: int,
        author: str,
        task: str | None = None,
    ) -> Attachment:
        """Record a file attached to a case (or task): its metadata and where it is kept.

        The engine stores no file and never opens ``uri``; a file store (the web app's, a
        bucket) keeps the bytes.
        """
        self._note_target(instance_id, task)
        _short(author, "author", 255)
        _short(name, "the file name", 255)
        _short(uri, "the file's location", 2000)
        if not _MEDIA_TYPE.fullmatch(media_type):
            raise LiuchengError(f"media type {media_type!r} is not of the form type/subtype")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise LiuchengError(f"the file size must be a whole number of bytes, not {size!r}")
        item = Attachment(
            self._new_case_id(),
            instance_id,
            task,
            author,
            self.clock.now(),
            name,
            media_type,
            size,
            uri,
        )
        self.store.add_attachment(item)
        return item

    def attachments(self, instance_id: str) -> list[Attachment]:
        """The case's attachments, oldest first."""
        self._get(instance_id)
        return self.store.attachments(instance_id)

    def _note_target(self, instance_id: str, task: str | None) -> None:
        self._get(instance_id)
        if task is not None and task.rpartition(".")[0] != instance_id:
            raise UnknownTaskError(f"case '{instance_id}' has no task '{task}'")

    # == operators: modification and migration ==================================================
    @_step
    def move(
        self,
        instance_id: str,
        from_element: str | None,
        to_element: str,
        *,
        reason: str = "",
    ) -> Case:
        """Move a case's token(s) from one element to another (an operator's correction).

        Every token at ``from_element`` is cancelled (its task, waits and incidents with it) and
        a token starts before ``to_element``; with ``from_element`` None a token is only added.
        Recorded in history as ``modified`` with the reason.
        """
        inst = self._active(instance_id)
        run = self._run(inst)
        target = run.proc.nodes.get(to_element)
        if target is None:
            raise LiuchengError(f"process '{inst.process_id}' has no element '{to_element}'")
        tokens = [t for t in inst.tokens.values() if t.node == from_element]
        if from_element is not None and not tokens:
            raise ConflictError(f"case '{instance_id}' has no token at '{from_element}'")
        run.move(tokens, target, reason)
        return self._finish(run)

    @_step
    def migrate(
        self,
        instance_id: str,
        version: int,
        mapping: Mapping[str, str] | None = None,
        *,
        reason: str = "",
    ) -> Case:
        """Move a running case to another version of its process.

        Every element where the case stands (tokens, tasks, waits, scopes, incidents) keeps its
        id unless ``mapping`` renames it; each must exist in the new version and do the same
        kind of thing there (a user task stays a user task).  Otherwise nothing changes and the
        error lists every element that does not fit.  Recorded in history as ``migrated``.
        """
        inst = self._active(instance_id)
        old = self._process(inst.process_id, inst.version)
        new = self._process(inst.process_id, version)
        if new.version == old.version:
            raise LiuchengError(f"case '{instance_id}' is on version {version} already")
        renames = dict(mapping or {})
        places = {t.node for t in inst.tokens.values()}
        places |= {s.node for s in inst.subscriptions.values()}
        places |= {s.node for s in inst.scopes.values() if s.node is not None}
        places |= {i.node for i in inst.incidents.values()}
        places |= compensation.places(inst)
        problems = []
        for place in sorted(places):
            moved = renames.get(place, place)
            if moved not in new.nodes:
                problems.append(f"'{place}' (version {new.version} has no '{moved}')")
            elif place in old.nodes and old.nodes[place].behaviour != new.nodes[moved].behaviour:
                problems.append(
                    f"'{place}' (a {old.nodes[place].tag} here, a "
                    f"{new.nodes[moved].tag} in version {new.version})"
                )
        if problems:
            raise LiuchengError(
                f"case '{instance_id}' cannot move to version {new.version}: " + "; ".join(problems)
            )
        for tok in inst.tokens.values():
            tok.node = renames.get(tok.node, tok.node)
        for scope in inst.scopes.values():
            if scope.node is not None:
                scope.node = renames.get(scope.node, scope.node)
        for sub in inst.subscriptions.values():
            sub.node = renames.get(sub.node, sub.node)
        for incident in inst.incidents.values():
            incident.node = renames.get(incident.node, incident.node)
        compensation.renamed(inst, renames)
        tasks = {i: t._replace(node=renames.get(t.node, t.node)) for i, t in inst.tasks.items()}
        externals = {
            i: t._replace(node=renames.get(t.node, t.node)) for i, t in inst.externals.items()
        }
        if tasks or externals:
            # Stores index open tasks by id: save once without them so that their rows go,
            # then with them under their new elements (one transaction, so nobody sees between).
            inst.tasks.clear()
            inst.externals.clear()
            self.store.save(inst)
            inst.tasks.update(tasks)
            inst.externals.update(externals)
        inst.version = new.version
        run = Run(new, self.env, inst, self.clock.now())
        detail = f"version {old.version} -> {new.version}"
        if renames:
            detail += " (" + ", ".join(f"{a} -> {b}" for a, b in sorted(renames.items())) + ")"
        if reason:
            detail += f": {reason}"
        run.record(HistoryKind.MIGRATED, None, None, detail=detail)
        return self._finish(run)

    # == call activities ========================================================================
    def _apply(self, effect: Effect) -> None:
        """Carry a step's effect over to the other case concerned, in the same transaction.

        A call activity starts its case; a called case that ends hands its results (or its
        error) to the call activity waiting for it; an escalation it did not catch is thrown
        there; a cancelled call activity cancels its case.  Each is a step of the other case,
        saved like any step, so the two cases change together or not at all.
        """
        if isinstance(effect, CallStart):
            proc = self._process(effect.process_id, effect.version)
            key = effect.business_key
            if key is not None and self.store.business_key_in_use(proc.id, key):
                key = None  # several cases called with one key (a multi-instance call)
            if proc.start is None:
                raise LiuchengError(f"process '{proc.id}' has no none start event to call")
            self._start_at(proc, proc.start, effect.variables, key, effect)
        elif isinstance(effect, SignalThrown):
            self._broadcast(effect.name, effect.variables)
        elif isinstance(effect, CallCancelled):
            child = self.store.load(effect.case_id)
            if child is not None and child.state is InstanceState.ACTIVE:
                run = self._run(child)
                run.terminate()
                self._finish(run)
        else:
            parent = self.store.load(effect.parent)
            if parent is None or parent.state is not InstanceState.ACTIVE:
                return
            waiting = [
                s
                for s in parent.subscriptions.values()
                if s.kind is SubscriptionKind.CALL and s.message == effect.case_id
            ]
            if not waiting:
                return  # the call activity was cancelled meanwhile
            run = self._run(parent)
            if isinstance(effect, CallEnded):
                run.call_ended(waiting[0], effect)
            else:
                run.call_escalated(waiting[0], effect.code)
            self._finish(run)

    # == typed variables and conditional starts ==================================================
    def _check_types(self, inst: Instance, values: dict[str, Any]) -> None:
        """Refuse values set from outside that do not have their declared type
        (engine/vartypes.py), before anything changes."""
        types = self._process(inst.process_id, inst.version).variable_types
        if types and values:
            check_types(types, values)

    @_step
    def evaluate_conditions(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        process: str | None = None,
    ) -> list[Case]:
        """Start a case at every conditional start event whose condition holds for
        ``variables`` (as Camunda's ``evaluateStartConditions``), and return the cases.

        The latest version of every deployed process is asked (only ``process`` when given);
        each start event whose condition is true starts one case, given ``variables`` and the
        business key ``key``.  All conditions are evaluated, and the declared variable types
        and business key checked, before any case starts: a condition that fails to evaluate
        or a refused variable starts nothing.  History records ``condition_met`` at the start
        event after ``instance_started``.
        """
        values = _checked(variables)
        if process is not None:
            candidates = [self._process(process)]
            if not candidates[0].conditional_starts:
                raise LiuchengError(f"process '{process}' has no conditional start event")
        else:
            self._sync_deployments()
            candidates = [p for p in self.processes() if p.conditional_starts]
        chosen = conditional_starts(candidates, values)
        for proc, _ in chosen:
            check_types(proc.variable_types, values)
        if key is not None:
            counts = collections.Counter(proc.id for proc, _ in chosen)
            for proc_id, count in counts.items():
                if count > 1:
                    raise ConflictError(
                        f"{count} conditional start events of process '{proc_id}' hold, but "
                        f"business key '{key}' can name only one case of it"
                    )
                if self.store.business_key_in_use(proc_id, key):
                    raise ConflictError(
                        f"process '{proc_id}' already has a case with business key '{key}'"
                    )
        return [self._start_at(proc, node, values, key) for proc, node in chosen]

    # == signals ===============================================================================
    @_step
    def signal(self, name: str, variables: Mapping[str, Any] | None = None) -> int:
        """Broadcast the signal ``name``: every case waiting for it goes on, and every process
        whose start event catches it starts a case.  Returns how many cases it reached."""
        if not name:
            raise LiuchengError("name the signal")
        return self._broadcast(name, _checked(variables))

    def _broadcast(self, name: str, variables: Mapping[str, Any]) -> int:
        """Deliver a signal to every waiting case (each a step of its own in this transaction,
        so a thrown signal and what it triggers happen together), then start cases."""
        reached = 0
        for instance_id, sub_id in self.store.signal_waiters(name):
            inst = self.store.load(instance_id)
            if inst is None or sub_id not in inst.subscriptions:
                continue  # an earlier delivery of this broadcast moved that case on
            run = self._run(inst)
            run.trigger(inst.subscriptions[sub_id], variables)
            self._finish(run)
            reached += 1
        for versions in list(self._versions.values()):
            proc = versions[-1]
            start = proc.signal_starts.get(name)
            if start is not None:
                self._start_at(proc, start, variables, None)
                reached += 1
        return reached

    def children(self, instance_id: str) -> list[Case]:
        """The cases this case started with call activities, oldest first."""
        called = HistoryKind.CALLED.value
        ids = [
            detail
            for _, _, kind, _, _, _, detail in self.store.history(instance_id)
            if kind == called and detail is not None
        ]
        found = (self.store.load(i) for i in ids)
        return [self._case(inst) for inst in found if inst is not None]

    def _deliver(self, message: OutgoingMessage) -> None:
        """Hand a message thrown by a case to a waiting case, or start a case by message.

        As with ``correlate``, a case started this way takes the message's key as its business
        key, so later messages keyed the same way reach it; if that key is already taken the
        case starts without one (the sender's step is done, so the message is not refused).
        """
        targets = self.store.message_waiters(message.name, message.key)
        if targets:
            instance_id, sub_id = targets[0]
            self._trigger(instance_id, sub_id, message.variables)
            return
        starts = self._message_starts(message.name)
        if starts:
            proc, node = starts[0]
            key = message.key
            if key is not None and self.store.business_key_in_use(proc.id, key):
                key = None
            self._start_at(proc, node, message.variables, key)

    def _case(self, inst: Instance) -> Case:
        tokens = inst.tokens
        if len(tokens) == 1:
            for only in tokens.values():
                active: tuple[str, ...] = (only.node,)
        elif not tokens:
            active = ()
        else:
            active = tuple(sorted({t.node for t in tokens.values()}))
        snapshot = (
            inst.id,
            inst.process_id,
            inst.version,
            inst.business_key,
            inst.state,
            inst.scopes[0].variables.copy(),  # (``copy`` costs half of ``dict(...)``)
            active,
            tuple(inst.incidents.values()) if inst.incidents else (),
            inst.started,
            inst.ended,
            inst.parent,
        )
        return _new_tuple(Case, snapshot)

    def _get(self, instance_id: str) -> Instance:
        inst = self.store.load(instance_id)
        if inst is None:
            raise UnknownInstanceError(f"no case '{instance_id}'")
        return inst

    def _run(self, inst: Instance) -> Run:
        return Run(self._process(inst.process_id, inst.version), self.env, inst, self.clock.now())

    def instance(self, instance_id: str) -> Case:
        return self._case(self._get(instance_id))

    def instances(
        self, *, process: str | None = None, state: InstanceState | str | None = None
    ) -> list[Case]:
        wanted = InstanceState(state) if state is not None else None
        return [self._case(i) for i in self.store.instances(process, wanted)]

    def history(self, instance_id: str) -> list[HistoryEvent]:
        self._get(instance_id)
        return [event_of(raw) for raw in self.store.history(instance_id)]

    def path(self, instance_id: str) -> list[str]:
        """The elements the case completed, in order (a short form of its history)."""
        self._get(instance_id)
        completed = HistoryKind.ELEMENT_COMPLETED.value
        return [
            element
            for _, _, kind, element, *_ in self.store.history(instance_id)
            if kind == completed and element is not None
        ]

    @_step
    def cancel(self, instance_id: str) -> Case:
        """End a case from outside: every token, task and wait is removed."""
        inst = self._get(instance_id)
        if inst.state is not InstanceState.ACTIVE:
            raise ConflictError(f"case '{instance_id}' has already ended")
        run = self._run(inst)
        run.cancel_scope(0, keep=None)
        inst.scopes[0] = inst.scopes.get(0) or ScopeState(0, None)
        inst.state = InstanceState.TERMINATED
        inst.ended = run.now
        inst.subscriptions.clear()
        run.record(HistoryKind.INSTANCE_TERMINATED)
        return self._finish(run)

    @_step
    def set_variables(self, instance_id: str, variables: Mapping[str, Any]) -> Case:
        """Set process variables from outside (an operator fixing data before a retry)."""
        values = _checked(variables)
        inst = self._active(instance_id)
        self._check_types(inst, values)
        run = self._run(inst)
        run.set_variables(0, values, None)
        run.drain()  # conditional events waiting on these variables may now go on
        return self._finish(run)

    def _active(self, instance_id: str) -> Instance:
        inst = self._get(instance_id)
        if inst.state is not InstanceState.ACTIVE:
            raise ConflictError(f"case '{instance_id}' has already ended ({inst.state})")
        return inst

    # == tasks ==================================================================================
    def tasks(
        self,
        *,
        instance: str | None = None,
        assignee: str | None = None,
        group: str | None = None,
        process: str | None = None,
        user: str | None = None,
        variables: Mapping[str, Any] | None = None,
        limit: int | None = None,
        after: UserTask | TaskCursor | str | None = None,
    ) -> list[UserTask]:
        """Open user tasks, oldest first (inbox order, see ``liucheng.store.TaskCursor``).

        ``user`` finds tasks a person may work: assigned to them, or offered to them as a
        candidate user; ``group`` finds tasks offered to a candidate group; ``variables``
        finds tasks of cases whose process variables have these values (text, numbers,
        booleans, dates), e.g. ``tasks(variables={"plate": "沪A·12345"})``; ``limit`` returns
        only the oldest ``limit`` of them (a page of an inbox).  ``after`` asks for the next
        page: the last task of the page before (even if it was completed since), its
        ``TaskCursor``, or the cursor's ``text`` (as the CLI prints it).  Pages are a keyset,
        so every task is on exactly one page, also while tasks are being created.
        """
        if limit is not None and limit < 1:
            raise LiuchengError("limit must be at least 1")
        cursor = _task_cursor(after) if after is not None else None
        wanted: tuple[tuple[str, Any], ...] = ()
        if variables:
            wanted = tuple(variables.items())
            for name, value in wanted:
                if type(value) not in _SEARCHABLE:  # the same on every store
                    raise LiuchengError(
                        f"tasks can be found by text, number, boolean or date variables, not "
                        f"by {type(value).__name__} ({name!r})"
                    )
        query = _new_tuple(
            TaskQuery, (instance, assignee, group, process, user, wanted, limit, cursor)
        )
        found = self.store.tasks(query)
        if not found and instance is not None:
            self._get(instance)  # an unknown case is an error, not an empty inbox
        return found

    def task(self, task_id: str) -> UserTask:
        instance_id = self.store.instance_of_task(task_id)
        inst = self.store.load(instance_id) if instance_id is not None else None
        if inst is None or task_id not in inst.tasks:
            raise UnknownTaskError(f"no open task '{task_id}'")
        return inst.tasks[task_id]

    def _not_open(self, task_id: str, what: str, done: str) -> LiuchengError:
        """The error for a task id that is not open: finished (a conflict) or never existed.

        Task ids are ``<case id>.<n>``, so an existing case tells the two apart.
        """
        owner = task_id.rpartition(".")[0]
        if owner and self.store.load(owner) is not None:
            return ConflictError(f"{what} '{task_id}' is already {done}")
        return UnknownTaskError(f"no open {what} '{task_id}'")

    def complete(self, task_id: str, variables: Mapping[str, Any] | None = None) -> Case:
        """Complete an open user task, setting ``variables`` first."""
        if self.clock.follows_system and CLOCK.get() is utc_now:
            # ``_step`` spelled out for the operation called most: its generic wrapper (star
            # arguments) cost a twentieth of a completion.
            try:
                with self.store.transaction():
                    return self._complete(task_id, variables)
            except StaleCaseError:  # see ``Store.load_for_task``: nothing was written
                with self.store.transaction():
                    return self._complete(task_id, variables)
        try:
            return self._complete_in_step(task_id, variables)
        except StaleCaseError:
            return self._complete_in_step(task_id, variables)

    def _complete(self, task_id: str, variables: Mapping[str, Any] | None) -> Case:
        values = _checked(variables)
        inst = self.store.load_for_task(task_id)
        task = inst.tasks.get(task_id) if inst is not None else None
        if inst is None or task is None:
            raise self._not_open(task_id, "task", "completed or cancelled")
        proc = self._versions[inst.process_id][inst.version - 1]
        if proc.variable_types:
            check_types(proc.variable_types, values)
        run = Run(proc, self.env, inst, self.clock.now())
        run.complete_task(task, values)
        return self._finish(run)

    _complete_in_step = _step(_complete)

    # == external tasks ========================================================================
    @_step
    def fetch_and_lock(
        self,
        topics: str | Sequence[str],
        *,
        worker: str,
        lock_for: timedelta,
        max_tasks: int = 1,
    ) -> list[LockedTask]:
        """Hand a worker outside the engine up to ``max_tasks`` external tasks of ``topics``.

        Each comes locked to ``worker`` for ``lock_for``, with a copy of its case's variables.
        The worker reports back with ``complete_external``, ``fail_external`` or
        ``external_bpmn_error``; if it dies instead, the lock expires and another worker gets
        the task.  No two workers hold the same task at once.
        """
        wanted = [topics] if isinstance(topics, str) else list(topics)
        if not worker or not wanted or max_tasks < 1 or lock_for <= timedelta(0):
            raise LiuchengError("give a worker id, topics, max_tasks >= 1 and a positive lock_for")
        now = self.clock.now()
        until = now + lock_for
        locked = []
        for task_id, instance_id in self.store.fetch_external(
            wanted, worker, now, until, max_tasks
        ):
            inst = self._get(instance_id)
            task = inst.externals[task_id]
            locked.append(LockedTask(task, worker, until, _copy_variables(inst.variables)))
        return locked

    def _locked(self, task_id: str, worker: str) -> tuple[Instance, ExternalTask]:
        """The case and task a worker reports on, refusing reports without a valid lock."""
        lock = self.store.external_lock(task_id)
        if lock is None:
            raise self._not_open(task_id, "external task", "finished")
        instance_id, holder, expires = lock
        if holder != worker or expires is None or expires <= self.clock.now():
            raise ConflictError(
                f"external task '{task_id}' is not locked by '{worker}' (fetch it first; a lock "
                "that expired may have gone to another worker)"
            )
        inst = self._get(instance_id)
        return inst, inst.externals[task_id]

    @_step
    def complete_external(
        self, task_id: str, *, worker: str, variables: Mapping[str, Any] | None = None
    ) -> Case:
        """A worker finished an external task: set its variables and move the case on."""
        values = _checked(variables)
        inst, task = self._locked(task_id, worker)
        self._check_types(inst, values)
        run = self._run(inst)
        run.complete_external(task, values)
        return self._finish(run)

    @_step
    def fail_external(
        self,
        task_id: str,
        *,
        worker: str,
        message: str,
        retries: int,
        retry_in: timedelta = timedelta(0),
    ) -> Case:
        """A worker could not do an external task.

        With ``retries`` left it is offered again after ``retry_in``; with none left the token
        gets an incident (fix the cause, then ``retry`` the case).
        """
        if retries < 0 or retry_in < timedelta(0):
            raise LiuchengError("retries and retry_in must not be negative")
        inst, task = self._locked(task_id, worker)
        run = self._run(inst)
        available = run.now + retry_in if retries > 0 else None
        run.fail_external(task, str(message)[:2000], retries, available)
        self.store.release_external(task_id)
        return self._finish(run)

    @_step
    def external_bpmn_error(
        self, task_id: str, *, worker: str, code: str, message: str = ""
    ) -> Case:
        """A worker reports a business error: it is thrown as a BPMN error from the task."""
        inst, task = self._locked(task_id, worker)
        run = self._run(inst)
        run.external_error(task, code, message)
        return self._finish(run)

    def external_tasks(self, *, topic: str | None = None) -> list[ExternalTask]:
        """Open external tasks (locked or not), oldest first."""
        found = [
            t
            for inst in self.store.instances(state=InstanceState.ACTIVE)
            for t in inst.externals.values()
            if topic is None or t.topic == topic
        ]
        found.sort(key=_created)
        return found

    # == messages ===============================================================================
    def _message_starts(self, name: str) -> list[tuple[CompiledProcess, str]]:
        return [
            (proc, proc.message_starts[name])
            for proc in self.processes()
            if name in proc.message_starts
        ]

    @_step
    def correlate(
        self,
        message: str,
        *,
        key: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Case:
        """Deliver a message to the one case waiting for it, or start a case by message.

        ``key`` is matched against the waiting element's correlation key (by default the case's
        business key).  Several waiting cases without a key to tell them apart is an error, and
        so is a message nobody waits for (``publish`` keeps such a message for a while instead).
        """
        case = self._correlate(message, key, _checked(variables))
        if case is None:
            where = f" with key '{key}'" if key is not None else ""
            raise CorrelationError(f"no case waits for message '{message}'{where}")
        return case

    @_step
    def publish(
        self,
        message: str,
        *,
        key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        ttl: timedelta,
    ) -> Case | None:
        """Like ``correlate``, but a message nobody waits for yet is kept for ``ttl``.

        The first case that comes to wait for it (same name; same key, unless the message has
        none) receives it within ``ttl``; afterwards it is dropped.  Returns the case that
        received it now, or None when it was buffered — a payment confirmation that arrives
        before the case reaches its "wait for payment" step is not lost.
        """
        if ttl <= timedelta(0):
            raise LiuchengError("a buffered message needs a positive time to live")
        values = _checked(variables)
        case = self._correlate(message, key, values)
        if case is None:
            now = self.clock.now()
            self.store.buffer_message(BufferedMessage(message, key, values, now, now + ttl))
        return case

    def _correlate(self, message: str, key: str | None, values: dict[str, Any]) -> Case | None:
        targets = self.store.message_waiters(message, key)
        cases = {instance_id for instance_id, _ in targets}
        if len(cases) > 1:
            raise CorrelationError(
                f"message '{message}' matches {len(cases)} waiting cases; give a key"
            )
        if targets:
            instance_id, sub_id = targets[0]
            return self._trigger(instance_id, sub_id, values, typed=True)
        starts = self._message_starts(message)
        if len(starts) > 1:
            raise CorrelationError(f"message '{message}' starts several processes")
        if starts:
            proc, node = starts[0]
            check_types(proc.variable_types, values)
            return self._start_at(proc, node, values, key)
        return None

    def _take_buffered(self, inst: Instance) -> None:
        """Give a case that now waits for a message one that was published before it waited."""
        if inst.state is not InstanceState.ACTIVE or not inst.subscriptions:
            return
        waits = [s for s in inst.subscriptions.values() if s.kind is SubscriptionKind.MESSAGE]
        if not waits or not self.store.has_buffered():
            return
        now = self.clock.now()
        for sub in waits:
            assert sub.message is not None
            found = self.store.take_buffered(sub.message, sub.key, now)
            if found is not None:
                # Delivering may make the case wait for further messages: _finish comes back here.
                self._trigger(inst.id, sub.id, found.variables)
                return

    def _trigger(
        self,
        instance_id: str,
        sub_id: int,
        variables: Mapping[str, Any] | None,
        *,
        typed: bool = False,
    ) -> Case:
        """Deliver to a wait found by a query: the case is loaded again, and may have moved on.

        Between finding the wait (``message_waiters``) and loading the case, another worker may
        have delivered to it and committed; then the wait is gone and this caller lost the race.
        ``typed``: the variables come from outside (``correlate``), so their declared types are
        checked.
        """
        inst = self._get(instance_id)
        sub = inst.subscriptions.get(sub_id)
        if sub is None:
            raise ConflictError(
                f"case '{instance_id}' no longer waits there: someone else got there first"
            )
        if typed and variables:
            self._check_types(inst, dict(variables))
        run = self._run(inst)
        run.trigger(sub, variables)
        return self._finish(run)

    # == timers =================================================================================
    def _arm_start_timers(self, proc: CompiledProcess) -> None:
        now = self.clock.now()
        tz = self.env.timezone
        assert tz is not None
        armed = []
        for node_id in proc.timer_starts:
            node = proc.nodes[node_id]
            assert node.timer is not None and node.timer_type is not None
            value = node.timer({})
            calendar = self.env.calendar(node.calendar)
            due = timers.timer_due(node.timer_type, value, now, tz, calendar)
            cycle = None
            if node.timer_type == "timeCycle" and isinstance(value, str):
                cycle = str(timers.parse_cycle(value, tz))
            armed.append(StartTimer(proc.id, node_id, due, cycle, now))
        self.store.replace_start_timers(proc.id, armed)

    def next_due(self) -> datetime | None:
        """When the earliest timer falls due, or None when nothing waits on time."""
        dues = [t.due for t in self.store.start_timers()]
        case_due = self.store.next_due()
        if case_due is not None:
            dues.append(case_due)
        return min(dues, default=None)

    @_clocked
    def run_due_jobs(self, *, lock_for: timedelta = JOB_LOCK) -> int:
        """Fire every timer and run every job due by the clock's now, earliest first; return
        how many.

        Case timers fire ``TIMER_BATCH`` to a transaction, each in a savepoint of its own, so
        one failure does not undo the others (see ``_fire_timers``); timer start events fire in
        a transaction each.  A batch's claim on its cases expires when this worker stops
        talking to the database for ``lock_for`` (a handler that hangs): another worker then
        takes the cases over, and this call raises ``ClaimExpiredError`` with the batch undone.
        """
        if not isinstance(lock_for, timedelta) or lock_for <= timedelta(0):
            raise LiuchengError(f"lock_for must be a positive timedelta, not {lock_for!r}")
        fired = 0
        tz = self.env.timezone
        assert tz is not None
        held: set[str] = set()  # cases another worker held: their timers are its work
        while True:
            now = self.clock.now()
            due = [d for d in self.store.due_timers(now) if d[1] not in held]
            starts = [t for t in self.store.start_timers() if t.due <= now]
            if not due and not starts:
                return fired
            for start in starts:
                fired += self._fire_start_timer(start, tz)
            for first in range(0, len(due), TIMER_BATCH):
                fired += self._fire_timers(due[first : first + TIMER_BATCH], held, lock_for)

    def _fire_timers(
        self, batch: Sequence[tuple[datetime, str, int]], held: set[str], lock_for: timedelta
    ) -> int:
        """Fire case timers in one transaction, each in a savepoint (``_fire_timer``).

        One commit for many timers: with a transaction per timer, beginning and committing was
        a large part of each timer's cost (100,000 timers due at once took minutes).  A timer
        that raises anything but a lost race is undone alone by its savepoint; the timers fired
        before it in the batch are committed, and then its error is raised — what a transaction
        per timer did.  On PostgreSQL a batch holds the row locks of the cases it fired until
        it commits, so a user completing a task of such a case waits for the batch.  A batch
        first claims its cases (``claim_cases``: ``FOR UPDATE SKIP LOCKED``) and leaves those
        another worker holds, so workers sweeping the same due timers split the work instead
        of racing for it or waiting on each other; the cases left are added to ``held``.
        """
        fired = 0
        failure: Exception | None = None
        with self.store.transaction():
            ids = sorted({case_id for _, case_id, _ in batch})
            claimed = self.store.claim_cases(ids, lock_for)
            for _, instance_id, sub_id in batch:
                if instance_id not in claimed:
                    held.add(instance_id)  # another worker holds it: its timers are its work
                    continue
                try:
                    fired += self._fire_timer(instance_id, sub_id)
                except Exception as exc:  # raised once the batch's other timers are committed
                    failure = exc
                    break
        if failure is not None:
            raise failure
        return fired

    def _fire_timer(self, instance_id: str, sub_id: int) -> int:
        """Fire one case timer in a savepoint of its own; 1 if this call fired it.

        Several workers may find the same due timer.  Each loads the case and fires; the first
        to save wins, the others' saves fail the revision check (``ConflictError``) and roll back
        whole, so the timer fires once.  A loser counts nothing and moves on.  The case is
        loaded once and that very object is fired and saved: loading it again (``_trigger``)
        could, under READ COMMITTED, see a winner's commit made in between, in which the
        subscription checked here is already gone.
        """
        try:
            with self.store.savepoint():
                inst = self.store.load(instance_id)
                if (
                    inst is None
                    or inst.state is not InstanceState.ACTIVE
                    or sub_id not in inst.subscriptions
                ):
                    return 0  # fired by someone else, or cancelled by an earlier timer
                sub = inst.subscriptions[sub_id]
                if sub.kind is SubscriptionKind.JOB:
                    self._run_job(inst, sub)
                    return 1
                run = self._run(inst)
                run.trigger(sub, None)
                self._finish(run)
                return 1
        except ConflictError:
            return 0

    def _run_job(self, inst: Instance, job: Subscription) -> None:
        """Run an asynchronous continuation; if it fails, undo it and try again later.

        "Fails" means the step left a new incident on the job's token (a service handler
        raised, an expression failed).  While attempts remain, the case goes back to how it was
        before the job ran — nothing the failed attempt did is kept — and the job is due again
        after the element's retry delay, with the failure in the history.  The last failed
        attempt keeps its incident for an operator, as without a job.
        """
        before = instance_to_json(inst)
        incidents_before = set(inst.incidents)
        run = self._run(inst)
        run.trigger(job, None)
        failures = [
            i
            for i in inst.incidents.values()
            if i.id not in incidents_before and i.token == job.token
        ]
        node = run.proc.nodes[job.node]
        if not failures or job.fired + 1 >= node.job_attempts:
            self._finish(run)
            return
        restored = instance_from_json(before)
        restored.rev = inst.rev
        again = restored.subscriptions[job.id]
        again.fired += 1
        delay = timers.parse_duration(node.job_delay) if node.job_delay else None
        again.due = delay.add_to(run.now) if delay is not None else run.now
        attempt = f"attempt {again.fired} of {node.job_attempts} failed: {failures[0].message}"
        undo = self._run(restored)
        undo.record(HistoryKind.JOB_FAILED, node.id, job.token, detail=attempt)
        self.store.save(restored)

    def _fire_start_timer(self, start: StartTimer, tz: tzinfo) -> int:
        with self.store.transaction():
            current = [
                t
                for t in self.store.start_timers()
                if t.process_id == start.process_id and t.node == start.node
            ]
            if not current or current[0] != start:
                return 0  # another worker fired it already and re-armed or removed it
            self._start_at(self._process(start.process_id), start.node, None, None)
            self._rearm(start, tz)
            return 1

    def _rearm(self, start: StartTimer, tz: tzinfo) -> None:
        """After a timer start event fired: its next due time, or gone when the cycle is over."""
        others = [
            t
            for t in self.store.start_timers()
            if t.process_id == start.process_id and t.node != start.node
        ]
        if start.cycle:
            cycle = timers.parse_cycle(start.cycle, tz)
            nxt = cycle.next_due(start.due, start.fired + 1, armed_at=start.armed)
            if nxt is not None:
                others.append(replace(start, due=nxt, fired=start.fired + 1))
        self.store.replace_start_timers(start.process_id, others)

    def jobs(self, *, limit: int | None = None) -> list[Job]:
        """The timers and jobs waiting to fall due, earliest first (the first ``limit``): what
        workers will run, with what each does, for an operator to see.

        A job's ``failed`` attempts count the tries of a service call that failed; when they
        reach ``attempts`` an incident replaces the job.  A case that a worker moved on since
        the list was read is left out.
        """
        if limit is not None and limit < 1:
            raise LiuchengError("limit must be at least 1")
        waiting: list[tuple[datetime, str, int | StartTimer]] = [
            (due, case_id, sub_id) for due, case_id, sub_id in self.store.due_timers(_END)
        ]
        waiting += [(t.due, t.process_id, t) for t in self.store.start_timers()]
        waiting.sort(key=_first)
        found: list[Job] = []
        cases: dict[str, Instance | None] = {}
        for due, owner, what in waiting[:limit]:
            if isinstance(what, StartTimer):
                found.append(Job(due, JobKind.START_TIMER, owner, what.node, None, what.cycle))
                continue
            if owner not in cases:
                cases[owner] = self.store.load(owner)
            inst = cases[owner]
            sub = inst.subscriptions.get(what) if inst is not None else None
            if inst is None or sub is None:
                continue
            if sub.kind is SubscriptionKind.JOB:
                node = self._process(inst.process_id, inst.version).nodes.get(sub.node)
                allowed = node.job_attempts if node is not None else 0
                after = sub.message == AFTER_MARK
                found.append(
                    Job(
                        due,
                        JobKind.JOB,
                        inst.process_id,
                        sub.node,
                        inst.id,
                        after=after,
                        failed=sub.fired,
                        attempts=allowed,
                    )
                )
            else:
                found.append(Job(due, JobKind.TIMER, inst.process_id, sub.node, inst.id, sub.cycle))
        return found

    # == incidents ==============================================================================
    def incidents(self, instance: str | None = None) -> list[tuple[str, Incident]]:
        insts = [self._get(instance)] if instance else self.store.instances()
        return [(i.id, inc) for i in insts for inc in i.incidents.values()]

    @_step
    def retry(self, instance_id: str, incident_id: int | None = None) -> Case:
        """Resolve incidents (one, or all of the case) by running their elements again."""
        inst = self._active(instance_id)
        if incident_id is None:
            chosen = list(inst.incidents.values())
        elif incident_id in inst.incidents:
            chosen = [inst.incidents[incident_id]]
        else:  # never fall back to retrying every incident of the case
            raise ConflictError(f"case '{instance_id}' has no incident {incident_id}")
        run = self._run(inst)
        proc = run.proc
        for inc in chosen:
            del inst.incidents[inc.id]
            run.record(HistoryKind.INCIDENT_RESOLVED, inc.node, inc.token, detail=inc.message)
            tok = inst.tokens.get(inc.token)
            if tok is None or tok.state is not TokenState.INCIDENT:
                continue
            tok.state = TokenState.READY
            node = proc.nodes[tok.node]
            # An operator's retry is one attempt: a service call that fails again raises an
            # incident at once instead of scheduling retries (``Run.retry_later``).
            run.resuming = tok.id
            try:
                if inc.leaving:
                    run.leave(tok, node)
                elif node.loop is not None and inst.scopes[tok.scope].node != node.id:
                    run.start_loop(tok, node)  # a looping activity whose instances never started
                elif node.inputs and tok.local is None and node.behaviour != "sub":
                    run.enter(tok, node)
                else:
                    run.execute(tok, node)
            finally:
                run.resuming = None
        run.drain()
        return self._finish(run)

    # == persistence of one case ================================================================
    def dump(self, instance_id: str) -> str:
        """The case's whole state as JSON; ``load`` restores it, in this or another engine."""
        inst = self._get(instance_id)
        if inst.history_base == 0:
            return instance_to_json(inst)  # the case holds its whole history (in memory)
        whole = replace(inst, history=self.store.history(instance_id), history_base=0)
        return instance_to_json(whole)

    @_step
    def load(self, text: str) -> Case:
        """Restore (or replace) a case from ``dump`` output; its process must be deployed."""
        inst = instance_from_json(text)
        self._process(inst.process_id, inst.version)
        existing = self.store.load(inst.id)
        if existing is None:
            self.store.insert(inst)
        else:
            inst.rev = existing.rev
            self.store.save(inst)
        return self._case(inst)


DMN = "dmn"  # the ``language`` of a stored DMN deployment
_DMN_PREFIX = "dmn:"  # DMN deployments are keyed apart from process ids


_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")


def _short(text: object, what: str, limit: int) -> None:
    """Refuse empty or over-long text from a caller, naming the field."""
    if not isinstance(text, str) or not text.strip():
        raise LiuchengError(f"{what} must be non-empty text")
    if len(text) > limit:
        raise LiuchengError(f"{what} is longer than {limit} characters")


def _is_dmn(data: bytes, label: str | None) -> bool:
    """A DMN file: named ``.dmn``, or its root element in a DMN namespace."""
    if label is not None and label.lower().endswith(".dmn"):
        return True
    head = data[:4096]
    return b"omg.org/spec/DMN" in head and b"omg.org/spec/BPMN" not in head


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str | None]:
    if isinstance(source, bytes):
        return source, name
    if isinstance(source, str) and source.lstrip().startswith("<"):
        return source.encode("utf-8"), name
    path = Path(source)
    try:
        return path.read_bytes(), name or str(path)
    except OSError as exc:
        raise LiuchengError(f"{path}: cannot read the file: {exc.strerror}") from exc


_created = operator.attrgetter("created")
_first = operator.itemgetter(0)
_END = datetime.max.replace(tzinfo=UTC)  # later than anything is due
TIMER_BATCH = 100  # case timers fired per transaction by ``run_due_jobs``


def _copy_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """A copy a worker may change freely (lists and dicts copied too)."""
    copied: dict[str, Any] = from_jsonable(to_jsonable(dict(variables)))
    return copied


_SCALARS = frozenset({str, int, bool, type(None)})


def _checked(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    if not variables:
        return {}
    if type(variables) is not dict and not isinstance(variables, Mapping):
        raise LiuchengError("variables must be a mapping of names to values")
    values: dict[str, Any] = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not name:
            raise LiuchengError(f"variable names must be non-empty strings, not {name!r}")
        if type(value) in _SCALARS:
            values[name] = value  # immutable and stored as it is: nothing to copy
            continue
        # Keep the value as storage would give it back: a copy the caller cannot change later,
        # tuples as lists.  A case in memory then behaves exactly like one stored and restored.
        values[name] = from_jsonable(to_jsonable(value, name))
    return values
