"""``MemoryStore``: deployments and cases kept as live objects in dictionaries.

The default store of ``Engine()``.  ``load`` hands out the stored object itself and ``save`` only
updates the indexes (open tasks by id, business keys), so a step costs no copying at all.  It is
safe for several threads because every operation holds the store's lock (see ``transaction``);
it does not survive the process, which is what the SQL store is for.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from liucheng.engine.state import (
    Instance,
    InstanceState,
    RawEvent,
    ScopeState,
    SubscriptionKind,
    UserTask,
)
from liucheng.errors import ConflictError
from liucheng.store import (
    Attachment,
    BufferedMessage,
    Comment,
    DeploymentRecord,
    StartTimer,
    TaskCursor,
    TaskQuery,
    task_position,
)

_created = operator.attrgetter("created")
_inbox_order = operator.attrgetter("created", "instance_id")  # then position: see ``tasks``
_started_and_id = operator.attrgetter("started", "id")
_ONE_CASE = TaskQuery()[1:]  # the filters after ``instance`` left at "any": see ``tasks``
_ACTIVE = InstanceState.ACTIVE
_TIMER = SubscriptionKind.TIMER
_DUE_KINDS = (SubscriptionKind.TIMER, SubscriptionKind.JOB)  # what due_timers hands out
_MESSAGE = SubscriptionKind.MESSAGE
_SIGNAL = SubscriptionKind.SIGNAL


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._deployments: list[DeploymentRecord] = []
        self._start_timers: list[StartTimer] = []
        self._instances: dict[str, Instance] = {}
        self._keys: dict[tuple[str, str], str] = {}  # (process id, business key) -> case id
        self._buffer: list[BufferedMessage] = []  # oldest first
        self._externals: dict[str, str] = {}  # open external task id -> case id
        self._open_externals: dict[str, tuple[str, ...]] = {}  # case id -> its external tasks
        self._locks: dict[str, tuple[str, datetime]] = {}  # external task id -> (worker, until)
        # The history of ended cases, moved out of the live object when the case ends.  A tuple
        # of plain tuples is invisible to the garbage collector, whereas the live list would be
        # walked by every full collection, for every case ever finished (see ``_archive``).
        self._ended_history: dict[str, tuple[RawEvent, ...]] = {}
        # Ended cases as plain tuples of plain values (``_freeze``): invisible to the garbage
        # collector too.  ``load`` rebuilds an Instance from one when asked.
        self._ended: dict[str, tuple[Any, ...]] = {}
        self._comments: dict[str, list[Comment]] = {}  # case id -> its comments, oldest first
        self._attachments: dict[str, list[Attachment]] = {}

    def transaction(self) -> AbstractContextManager[Any]:
        """The store's re-entrant lock: one operation at a time, from any number of threads.

        In memory there is nothing to commit or roll back; holding the lock for the whole
        operation is what keeps two threads from changing one case at once.  (A C-level lock is
        also the cheapest context manager Python has.)
        """
        return self._lock

    def savepoint(self) -> AbstractContextManager[Any]:
        """The same lock: in memory nothing is rolled back, neither here nor by ``transaction``."""
        return self._lock

    # -- deployments ----------------------------------------------------------------------------
    def add_deployment(self, record: DeploymentRecord) -> None:
        self._deployments.append(record)

    def deployments(self) -> list[DeploymentRecord]:
        return list(self._deployments)

    def start_timers(self) -> list[StartTimer]:
        return list(self._start_timers)

    def replace_start_timers(self, process_id: str, timers: list[StartTimer]) -> None:
        kept = [t for t in self._start_timers if t.process_id != process_id]
        self._start_timers = kept + timers

    # -- cases ----------------------------------------------------------------------------------
    def insert(self, inst: Instance) -> None:
        key = inst.business_key
        if key is not None:
            if (inst.process_id, key) in self._keys:
                raise ConflictError(
                    f"process '{inst.process_id}' already has a case with business key '{key}'"
                )
            self._keys[(inst.process_id, key)] = inst.id
        self._instances[inst.id] = inst
        if inst.externals:
            self._index_externals(inst)

    def load(self, instance_id: str) -> Instance | None:
        inst = self._instances.get(instance_id)
        if inst is None and instance_id in self._ended:
            return _thaw(instance_id, self._ended[instance_id])
        return inst

    def save(self, inst: Instance) -> None:
        if self._instances.get(inst.id) is not inst:
            # A case restored from a dump replaces the one held (Engine.load), or an ended
            # case rebuilt by ``load`` is saved again.
            old = self.load(inst.id)
            if old is not None and old.business_key is not None:
                self._keys.pop((old.process_id, old.business_key), None)
            self._instances[inst.id] = inst
            self._ended.pop(inst.id, None)
            if inst.history_base == 0:  # it carries its whole history
                self._ended_history.pop(inst.id, None)
            if inst.business_key is not None:
                self._keys[(inst.process_id, inst.business_key)] = inst.id
        if inst.externals or inst.id in self._open_externals:
            self._index_externals(inst)
        inst.rev += 1
        if inst.state is not _ACTIVE:
            self._archive(inst)
            frozen = _freeze(inst)
            if frozen is not None:
                self._ended[inst.id] = frozen
                del self._instances[inst.id]

    def _archive(self, inst: Instance) -> None:
        """Move an ended case's events out of the live object, as the SQL store does each step.

        Afterwards ``inst.history`` is empty and ``inst.history_base`` counts the stored events
        (the store contract of ``SqlStore``), so anything that still changes the case numbers
        its events on.  Kept cases then cost a full garbage collection a few objects each
        instead of one visit per event: an in-memory engine that has run 100,000 cases stays
        as fast as a new one.
        """
        if not inst.history:
            return
        before = self._ended_history.get(inst.id, ())
        self._ended_history[inst.id] = before + tuple(inst.history)
        inst.history_base += len(inst.history)
        inst.history = []

    def _index_externals(self, inst: Instance) -> None:
        now_open = tuple(inst.externals)
        before = self._open_externals.get(inst.id, ())
        if before == now_open:
            return
        for task_id in before:
            if task_id not in inst.externals:
                self._externals.pop(task_id, None)
                self._locks.pop(task_id, None)
        for task_id in now_open:
            self._externals[task_id] = inst.id
        if now_open:
            self._open_externals[inst.id] = now_open
        else:
            self._open_externals.pop(inst.id, None)

    def instances(
        self, process: str | None = None, state: InstanceState | None = None
    ) -> Iterator[Instance]:
        """Cases oldest first (by start, then id), as the SQL store lists them."""
        found = [
            inst
            for inst in self._instances.values()
            if (process is None or inst.process_id == process)
            and (state is None or inst.state == state)
        ]
        found += [
            _thaw(case_id, frozen)
            for case_id, frozen in self._ended.items()
            if (process is None or frozen[0] == process) and (state is None or frozen[4] == state)
        ]
        found.sort(key=_started_and_id)
        yield from found

    def history(self, instance_id: str) -> list[RawEvent]:
        archived = self._ended_history.get(instance_id, ())
        inst = self._instances.get(instance_id)
        return [*archived, *inst.history] if inst is not None else list(archived)

    # -- queries ----------------------------------------------------------------------------
    def business_key_in_use(self, process_id: str, business_key: str) -> bool:
        return (process_id, business_key) in self._keys

    def instance_of_task(self, task_id: str) -> str | None:
        inst = self.load_for_task(task_id)
        return inst.id if inst is not None else None

    def load_for_task(self, task_id: str) -> Instance | None:
        # A user task's id is its case's id, a dot and a number (``Run.do_user``), so the case
        # is found without an index of open tasks, which every step had to keep up to date.
        inst = self._instances.get(task_id.rpartition(".")[0])
        return inst if inst is not None and task_id in inst.tasks else None

    def tasks(self, query: TaskQuery) -> list[UserTask]:
        instance = query[0]  # ``query.instance``, read the cheap way on this hot path
        if instance is not None and query[1:] == _ONE_CASE:
            # One case's open tasks and no other filter (a case's page, an embedding loop):
            # straight from the case, without the filters below.
            inst = self._instances.get(instance)
            if inst is None or not inst.tasks:
                return []
            found = [*inst.tasks.values()]
            if len(found) > 1:
                found.sort(key=_inbox_order)
            return found
        return self._matching_tasks(query)

    def _matching_tasks(self, query: TaskQuery) -> list[UserTask]:
        """``tasks`` with filters (apart from the fast path: its closures cost every call)."""
        if query.instance is not None:
            inst = self._instances.get(query.instance)
            source: Iterator[UserTask] = iter(inst.tasks.values() if inst else ())
        else:
            source = (
                task
                for inst in self._instances.values()
                if inst.tasks
                for task in inst.tasks.values()
            )
        assignee, group, process, user = query.assignee, query.group, query.process, query.user
        if query.variables:
            wanted = query.variables
            instances = self._instances
            source = (
                t
                for t in source
                if all(_equal(instances[t.instance_id].variables, n, v) for n, v in wanted)
            )
        if assignee is None and group is None and process is None and user is None:
            result = list(source)
        else:
            result = [
                t
                for t in source
                if (assignee is None or t.assignee == assignee)
                and (group is None or group in t.candidate_groups)
                and (process is None or t.process_id == process)
                and (user is None or t.assignee == user or user in t.candidate_users)
            ]
        if query.after is not None:
            result = _after(result, query.after)
        if len(result) > 1:
            # Inbox order (``TaskCursor``): a case keeps its tasks in the order it created them
            # and the sort is stable, so sorting by time and case is enough.
            result.sort(key=_inbox_order)
        if query.limit is not None:
            del result[query.limit :]
        return result

    def message_waiters(self, message: str, key: str | None) -> list[tuple[str, int]]:
        return [
            (inst.id, sub.id)
            for inst in self._instances.values()
            if inst.state is _ACTIVE and inst.subscriptions
            for sub in inst.subscriptions.values()
            if sub.kind is _MESSAGE and sub.message == message and (key is None or sub.key == key)
        ]

    def signal_waiters(self, name: str) -> list[tuple[str, int]]:
        return [
            (inst.id, sub.id)
            for inst in self._instances.values()
            if inst.state is _ACTIVE and inst.subscriptions
            for sub in inst.subscriptions.values()
            if sub.kind is _SIGNAL and sub.message == name
        ]

    def due_timers(self, now: datetime) -> list[tuple[datetime, str, int]]:
        due = [
            (sub.due, inst.id, sub.id)
            for inst in self._instances.values()
            if inst.state is _ACTIVE and inst.subscriptions
            for sub in inst.subscriptions.values()
            if sub.kind in _DUE_KINDS and sub.due is not None and sub.due <= now
        ]
        due.sort()
        return due

    def next_due(self) -> datetime | None:
        return min(
            (
                sub.due
                for inst in self._instances.values()
                if inst.state is _ACTIVE and inst.subscriptions
                for sub in inst.subscriptions.values()
                if sub.kind in _DUE_KINDS and sub.due is not None
            ),
            default=None,
        )

    def claim_cases(
        self, instance_ids: Sequence[str], lock_for: timedelta | None = None
    ) -> set[str]:
        # The store's lock, held for the whole operation, is the claim; one process, so no
        # worker elsewhere could take an expired one over.
        return set(instance_ids)

    def calling_out(self) -> None:
        return None  # nothing queued, and claims do not expire (see ``claim_cases``)

    # -- comments and attachments -----------------------------------------------------------
    def add_comment(self, comment: Comment) -> None:
        self._comments.setdefault(comment.instance_id, []).append(comment)

    def comments(self, instance_id: str) -> list[Comment]:
        return list(self._comments.get(instance_id, ()))

    def add_attachment(self, attachment: Attachment) -> None:
        self._attachments.setdefault(attachment.instance_id, []).append(attachment)

    def attachments(self, instance_id: str) -> list[Attachment]:
        return list(self._attachments.get(instance_id, ()))

    # -- external tasks ---------------------------------------------------------------------
    def fetch_external(
        self, topics: Sequence[str], worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str]]:
        wanted = set(topics)
        candidates = [
            task
            for case_id in self._open_externals
            for task in self._instances[case_id].externals.values()
            if task.topic in wanted
            and (task.available is None or task.available <= now)
            and (task.id not in self._locks or self._locks[task.id][1] <= now)
        ]
        candidates.sort(key=_created)
        taken = candidates[:limit]
        for task in taken:
            self._locks[task.id] = (worker, until)
        return [(task.id, task.instance_id) for task in taken]

    def external_lock(self, task_id: str) -> tuple[str, str | None, datetime | None] | None:
        case_id = self._externals.get(task_id)
        if case_id is None:
            return None
        owner, until = self._locks.get(task_id, (None, None))
        return case_id, owner, until

    def release_external(self, task_id: str) -> None:
        self._locks.pop(task_id, None)

    # -- buffered messages ------------------------------------------------------------------
    def buffer_message(self, message: BufferedMessage) -> None:
        self._buffer.append(message)

    def take_buffered(self, message: str, key: str | None, now: datetime) -> BufferedMessage | None:
        self._buffer = [m for m in self._buffer if m.expires > now]
        for i, buffered in enumerate(self._buffer):
            if buffered.message == message and (buffered.key is None or buffered.key == key):
                return self._buffer.pop(i)
        return None

    def has_buffered(self) -> bool:
        return bool(self._buffer)


def _equal(variables: dict[str, Any], name: str, value: Any) -> bool:
    """Equality as the SQL store's typed columns see it: a number equals a number of any type,
    text equals text, a boolean only a boolean."""
    if name not in variables:
        return False
    found = variables[name]
    if isinstance(value, bool) or isinstance(found, bool):
        return type(found) is type(value) and bool(found == value)
    return bool(found == value)


def _freeze(inst: Instance) -> tuple[Any, ...] | None:
    """An ended case as one plain tuple, or None when it holds more than a finished case does.

    Plain values only (the state as its text, then the variables' names and values in a row),
    so that the garbage collector stops tracking it the first time it looks: an engine that
    keeps 100,000 finished cases in memory then collects as fast as a new one.  (Variables as
    a tuple of pairs took the collector a pass per level of nesting to forget, by which time
    the case had reached the oldest generation, where it counted towards a full collection.)
    A case with anything still attached (a token, a task, a scope besides the process's, work
    left for compensation) stays a live object.
    """
    if inst.tokens or inst.tasks or inst.externals or inst.subscriptions or inst.incidents:
        return None
    if inst.compensables or inst.compensating:
        return None
    if len(inst.scopes) != 1 or 0 not in inst.scopes:
        return None
    return (
        inst.process_id,
        inst.version,
        inst.business_key,
        inst.started,
        inst.state.value,
        inst.ended,
        inst.next_id,
        inst.rev,
        inst.history_base,
        inst.parent,
        inst.parent_token,
        *chain.from_iterable(inst.scopes[0].variables.items()),
    )


def _thaw(instance_id: str, frozen: tuple[Any, ...]) -> Instance:
    """A new Instance from ``_freeze``'s tuple (its history stays with the store)."""
    (
        process_id,
        version,
        key,
        started,
        state,
        ended,
        next_id,
        rev,
        base,
        parent,
        parent_token,
    ) = frozen[:_FROZEN_FIELDS]
    inst = Instance(
        instance_id,
        process_id,
        version,
        key,
        started,
        InstanceState(state),
        ended,
        next_id=next_id,
        rev=rev,
        history_base=base,
        parent=parent,
        parent_token=parent_token,
    )
    variables = dict(zip(frozen[_FROZEN_FIELDS::2], frozen[_FROZEN_FIELDS + 1 :: 2], strict=True))
    inst.scopes[0] = ScopeState(0, None, variables=variables)
    return inst


_FROZEN_FIELDS = 11  # the fields of ``_freeze``'s tuple before the variables


def _after(tasks: list[UserTask], cursor: TaskCursor) -> list[UserTask]:
    """The tasks past ``cursor`` in inbox order (the page that follows it)."""
    start = (cursor.created, cursor.instance_id)
    return [
        t
        for t in tasks
        if (t.created, t.instance_id) > start
        or (
            (t.created, t.instance_id) == start
            and task_position(t.id, t.instance_id) > cursor.position
        )
    ]
