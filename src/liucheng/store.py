"""Where an ``Engine`` keeps deployments and cases: the seam between the API and storage.

``Engine`` runs every operation the same way: inside ``store.transaction()`` it loads the case
(``load``), lets the executor take one step on it, and hands it back (``save``).  A store decides
what "keeping" means:

* ``MemoryStore`` (``liucheng.memory_store``) keeps the live objects in dictionaries — the default,
  and the fastest.
* ``SqlStore`` (``liucheng.runtime``) writes each case as one row (its state as JSON, a revision
  number for optimistic locking) plus rows that make it queryable (open tasks with their
  candidate groups, message subscriptions, due timers, history events), all in one transaction.

Rules every store keeps:

* ``save`` is all or nothing, and refuses with ``ConflictError`` when the case changed since it was
  loaded (``Instance.rev`` is the revision it was loaded at; ``save`` increments it).
* Stores never interpret process semantics: they store what the executor produced and answer
  queries over it.
* History is append-only: ``save`` adds the events past those it already holds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from liucheng.engine.state import Instance, InstanceState, RawEvent, UserTask
from liucheng.errors import ConflictError, LiuchengError


class StaleCaseError(ConflictError):
    """A case a store kept between steps had been changed elsewhere (another server) when an
    operation acted on it: nothing was written, and the operation may simply run again, on the
    case as the database holds it (``Engine.complete`` does, once)."""


class ClaimExpiredError(ConflictError):
    """A worker's claim on the cases of its batch expired while it ran (it went quiet for
    longer than ``lock_for``, see ``Store.claim_cases``): the database ended its transaction,
    so nothing of the batch was written, and another worker may have run those jobs since."""


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """One deployed version of one process, with the file it came from."""

    process_id: str
    version: int
    name: str | None
    content_hash: str  # sha256 of the file's bytes
    source: bytes  # the BPMN file as deployed
    source_name: str | None  # the file name, for messages
    language: str  # the expression language the process was compiled with
    deployed: datetime


class TaskCursor(NamedTuple):
    """Where a page of an inbox ended: the inbox-order key of its last task.

    Inbox order is (``created``, ``instance_id``, ``position``) — oldest first, then by case,
    then in the order the case created its tasks (``position`` is the task's number in its
    case, the ``<n>`` of its id ``<case id>.<n>``).  Every store sorts by exactly this key and
    no two open tasks share it, so "the tasks after this key" is the next page: each task is
    on exactly one page, and a task created meanwhile sorts after every task already there
    (its ``created`` is later), so it lands on a later page instead of shifting the pages
    (a keyset, not an offset).

    The key is all a cursor holds, so it stays valid when its task is completed meanwhile.
    ``text`` is the same key as one opaque, URL- and shell-safe word, for the CLI and HTTP.
    """

    created: datetime
    instance_id: str
    position: int

    @classmethod
    def of(cls, task: UserTask) -> TaskCursor:
        """The cursor just past ``task``: pass it as ``after`` for the page that follows."""
        return cls(task.created, task.instance_id, task_position(task.id, task.instance_id))

    @property
    def text(self) -> str:
        created = self.created.astimezone(UTC).isoformat()
        raw = json.dumps(
            [created, self.instance_id, self.position], ensure_ascii=False, separators=(",", ":")
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> TaskCursor:
        """The cursor ``text`` stands for; ``LiuchengError`` naming ``after`` if it is none."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created, instance_id, position = json.loads(raw)
            when = datetime.fromisoformat(created)
            if (
                when.utcoffset() is None
                or type(instance_id) is not str
                or type(position) is not int
            ):
                raise ValueError(text)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise LiuchengError(f"after: {text!r} is not a task cursor") from exc
        return cls(when, instance_id, position)


def task_position(task_id: str, instance_id: str) -> int:
    """A task's place among the tasks of its case, the last part of inbox order.

    The engine names tasks ``<case id>.<n>`` with ``n`` counting up in its case, so ``n`` is
    the order the case created them in, and never repeats in the case.  (An id of another
    shape, from a hand-made dump, counts as 0: such tasks fall back to the other parts of
    the key.)
    """
    prefix, dot, number = task_id.rpartition(".")
    if dot and prefix == instance_id and number.isascii() and number.isdigit():
        return int(number)
    return 0


class TaskQuery(NamedTuple):
    """Filters of ``Engine.tasks``; None means "any"."""

    instance: str | None = None
    assignee: str | None = None
    group: str | None = None
    process: str | None = None
    user: str | None = None
    # (name, value) pairs the case's process variables must equal: text, numbers, booleans,
    # dates and date-times (what a store can index).
    variables: tuple[tuple[str, Any], ...] = ()
    # At most this many tasks, the oldest (a page of an inbox); None: all of them.
    limit: int | None = None
    # Only the tasks after this one in inbox order (the next page); None: from the oldest.
    after: TaskCursor | None = None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """A timer start event waiting to start a case of a process (its latest version)."""

    process_id: str
    node: str
    due: datetime
    cycle: str | None
    armed: datetime
    fired: int = 0


@dataclass(frozen=True, slots=True)
class BufferedMessage:
    """A message published before any case waited for it, kept until ``expires``."""

    message: str
    key: str | None  # None: the first case waiting for the message takes it, whatever its key
    variables: dict[str, Any]
    published: datetime
    expires: datetime


class Comment(NamedTuple):
    """What someone wrote on a case, or on one of its tasks."""

    id: str
    instance_id: str
    task_id: str | None
    author: str
    created: datetime
    text: str


class Attachment(NamedTuple):
    """A file attached to a case or task: its metadata, and where the bytes are kept."""

    id: str
    instance_id: str
    task_id: str | None
    author: str
    created: datetime
    name: str
    media_type: str
    size: int
    uri: str  # a URI or a file store's key; the engine never opens it


class Store(Protocol):
    # -- transactions -------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        """Everything done inside happens together or not at all."""
        ...

    def savepoint(self) -> AbstractContextManager[Any]:
        """Inside a transaction: if what happens inside raises, it alone is undone and the
        transaction goes on (``Engine.run_due_jobs`` fires a batch of timers in one
        transaction, each in a savepoint).  Outside a transaction: a transaction of its own.
        A store without rollback (``MemoryStore``) undoes nothing here either."""
        ...

    # -- deployments ----------------------------------------------------------------------------
    def add_deployment(self, record: DeploymentRecord) -> None: ...

    def deployments(self) -> list[DeploymentRecord]:
        """Every deployed version, oldest first."""
        ...

    def start_timers(self) -> list[StartTimer]: ...

    def replace_start_timers(self, process_id: str, timers: list[StartTimer]) -> None:
        """The timer start events of ``process_id`` are now exactly ``timers``."""
        ...

    # -- cases ----------------------------------------------------------------------------------
    def insert(self, inst: Instance) -> None:
        """Add a new case; ``ConflictError`` if its business key is already used in its process."""
        ...

    def load(self, instance_id: str) -> Instance | None:
        """The case, to change and ``save``; None if there is no such case."""
        ...

    def save(self, inst: Instance) -> None:
        """Write the case back; ``ConflictError`` if someone else saved it since it was loaded."""
        ...

    def instances(
        self, process: str | None = None, state: InstanceState | None = None
    ) -> Iterator[Instance]: ...

    def history(self, instance_id: str) -> list[RawEvent]: ...

    # -- queries that find cases ------------------------------------------------------------
    def business_key_in_use(self, process_id: str, business_key: str) -> bool: ...

    def instance_of_task(self, task_id: str) -> str | None:
        """The case an *open* task belongs to."""
        ...

    def load_for_task(self, task_id: str) -> Instance | None:
        """The case of an *open* task, loaded to change and ``save`` (one lookup, not two).

        Inside a transaction a store may hand out a case it kept from an earlier step without
        asking the database whether it is still current; if it was not, the transaction ends
        in ``StaleCaseError`` (nothing written), and the operation is run once more.
        """
        ...

    def tasks(self, query: TaskQuery) -> list[UserTask]:
        """Open tasks matching ``query``, in inbox order (see ``TaskCursor``)."""
        ...

    def message_waiters(self, message: str, key: str | None) -> list[tuple[str, int]]:
        """(case id, subscription id) of active cases waiting for ``message`` (and ``key``)."""
        ...

    def signal_waiters(self, name: str) -> list[tuple[str, int]]:
        """(case id, subscription id) of active cases waiting for the signal ``name``."""
        ...

    def due_timers(self, now: datetime) -> list[tuple[datetime, str, int]]:
        """(due, case id, subscription id) of timers and jobs due by ``now``, earliest first."""
        ...

    def next_due(self) -> datetime | None:
        """When the earliest timer of any active case falls due."""
        ...

    def claim_cases(
        self, instance_ids: Sequence[str], lock_for: timedelta | None = None
    ) -> set[str]:
        """Inside a transaction: lock the cases no other worker holds, and return their ids.

        Workers firing due timers claim the cases of a batch first and skip the others, so no
        two work on one job at once and none waits for another.  The lock lasts until the
        transaction ends: a worker that dies loses its connection, and with it its claims.
        ``lock_for`` is when the claim expires if the worker stops talking to the database (a
        handler that hangs, a host that vanished): the database then ends the transaction and
        another worker takes the cases over.
        """
        ...

    def calling_out(self) -> None:
        """A registered handler (code outside the engine, perhaps a network call) is about to
        run in this thread's step: let an expiring claim see the worker go quiet while it
        runs (``claim_cases``)."""
        ...

    # -- comments and attachments -----------------------------------------------------------
    def add_comment(self, comment: Comment) -> None:
        """Keep a comment; it names an existing case (rows of their own, never the case's)."""
        ...

    def comments(self, instance_id: str) -> list[Comment]:
        """The case's comments, oldest first."""
        ...

    def add_attachment(self, attachment: Attachment) -> None: ...

    def attachments(self, instance_id: str) -> list[Attachment]:
        """The case's attachments, oldest first."""
        ...

    # -- external tasks ---------------------------------------------------------------------
    def fetch_external(
        self, topics: Sequence[str], worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str]]:
        """Lock up to ``limit`` external tasks of ``topics`` for ``worker`` until ``until``.

        Only tasks that are available (no back-off pending) and not locked by anyone (or whose
        lock expired) are taken, oldest first; returns (task id, case id) pairs.  Two workers
        fetching at once never get the same task.
        """
        ...

    def external_lock(self, task_id: str) -> tuple[str, str | None, datetime | None] | None:
        """(case id, lock owner, lock expiry) of an open external task; None if there is none."""
        ...

    def release_external(self, task_id: str) -> None:
        """Drop a task's lock (after a failure, so it can be fetched again when available)."""
        ...

    # -- buffered messages ------------------------------------------------------------------
    def buffer_message(self, message: BufferedMessage) -> None: ...

    def take_buffered(self, message: str, key: str | None, now: datetime) -> BufferedMessage | None:
        """Remove and return the oldest unexpired buffered ``message`` for ``key``, if any.

        A buffered message without a key matches any key.  Expired messages are never returned
        (a store may delete them on the way).
        """
        ...

    def has_buffered(self) -> bool:
        """Whether any message is buffered at all: lets the engine skip the lookups."""
        ...
