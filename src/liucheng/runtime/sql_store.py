"""``SqlStore``: deployments and cases kept in a SQL database (SQLite or PostgreSQL).

A case is one row of ``instances``: its state as JSON without history (``data``) and its
revision ``rev``.  Every ``save`` rewrites that row and, in the same transaction, the rows that
make the case findable — open tasks and their candidates, subscriptions, process variables — and
appends its new history events.  Nothing else is ever read to resume a case: the index rows are
derived data, rewritten whole on every save (a handful of ``executemany`` statements).

The contract with the caller about ``Instance.rev``, ``history`` and ``history_base``
------------------------------------------------------------------------------------
* ``load`` returns a fresh ``Instance`` with ``rev`` = the row's revision, ``history`` empty and
  ``history_base`` = the number of events stored.  The executor numbers new events from
  ``history_base + 1``, so ``history`` then holds exactly the events of this step.
* ``save`` appends the events of ``inst.history`` whose ``seq`` is greater than the number
  stored (so a case restored from a dump, carrying its whole history from 1, works too) and
  refuses a gap in the numbering.  Afterwards ``inst.rev`` is one higher, ``inst.history`` is a
  new empty list and ``inst.history_base`` is the number of events now stored: the object looks
  exactly as a fresh ``load`` would return it and may be changed and saved again.
* ``insert`` writes the row at revision 0 and all of ``inst.history``; afterwards ``inst.rev`` is
  0 and ``history``/``history_base`` are as after ``save``.
* ``history(id)`` returns every stored event, in ``seq`` order.
* If the surrounding transaction is rolled back after a ``save``, the object's ``rev`` and
  ``history`` no longer match the database: load the case again.

Why the revision check is in the UPDATE's WHERE clause
------------------------------------------------------
``save`` runs ``UPDATE instances SET …, rev = rev + 1 WHERE id = :id AND rev = :loaded_rev``
and counts the rows it changed.  Reading ``rev`` first and updating after would leave a window
in which another transaction commits between the two statements; with the test inside the
UPDATE, the database checks and writes under the row's write lock, as one step.  Zero rows
changed means someone else saved since our ``load``: ``ConflictError``, raised before anything
else of this save is written, and the caller's transaction rolls back.  Every other write of
``save`` comes after the UPDATE, so a losing writer never touches the index rows.

What happens when two transactions race
--------------------------------------
* PostgreSQL (READ COMMITTED).  Both load revision 5.  The first UPDATE takes the row lock and
  sets 6.  The second UPDATE blocks on that lock until the first transaction ends; PostgreSQL
  then re-evaluates its WHERE clause against the newly committed row, finds ``rev = 6`` and
  changes nothing: ``ConflictError``.  If the first rolls back instead, the second proceeds
  against revision 5 and wins.  Index rows of one case are only written after its instance
  row's lock is held, so two writers of one case never interleave their index rows, and writers
  of different cases never wait for each other.
* SQLite.  Only one transaction can write at a time.  ``transaction()`` begins with ``BEGIN
  IMMEDIATE`` (see ``database``), taking the write lock before the ``load``, so two engine
  operations on one database run one after the other (the second waits up to the busy timeout)
  and the second loads what the first saved — no conflict arises inside one operation.  The
  revision check still catches a case loaded in one transaction and saved in a later one (a
  user who kept a form open), and a process that saves outside ``transaction()``.

Timer start events: why ``start_timers`` locks inside a transaction
--------------------------------------------------------------------
A timer start event has no case row, so no revision guards it: its row in ``start_timers`` is
the job.  A worker firing it (``Engine._fire_start_timer``) reads the row again inside its
transaction, starts a case if the row is still the one it found due, and replaces the row by
the next occurrence (``replace_start_timers``: delete, insert) or removes it when the cycle is
over.  With a plain read, two PostgreSQL workers both saw the row, both started a case, and then
the second either failed on the primary key of the re-armed row (an ``IntegrityError`` out of
``run_due_jobs``) or, on a cycle's last occurrence or a one-time timer, committed: the
occurrence started two cases.

So inside ``transaction()`` ``start_timers`` reads with ``SELECT … FOR UPDATE`` and holds the
locks until commit.  The second worker's read waits for the first's transaction; under READ
COMMITTED it then skips the row the first deleted and cannot see the row the first inserted
(newer than its statement), so it finds the timer gone or changed and fires nothing.  If the
first rolls back, the second reads the row unchanged and fires it.  Every locker of these rows —
``start_timers`` and ``replace_start_timers`` inside a transaction — locks all of them, in
primary-key order, so two lockers never wait for each other in a circle (a deploy of a file with
several timer-started processes meeting a worker firing one of them).  Firing start timers is
thereby one worker at a time across the database; start timers are few and fire rarely.
Outside a transaction (the scan of ``run_due_jobs``, ``next_due``) the read takes no locks.

Transactions and threads
------------------------
``transaction()`` opens one connection and one database transaction for the outermost ``with``
in the current thread; a nested ``with`` (and every method called inside) joins it.  The open
connection is kept in a ``threading.local``, so threads sharing one ``SqlStore`` each get their
own transaction.  A method called outside any ``transaction()`` runs in a short transaction of
its own.  Do not share one transaction between asyncio tasks of one thread.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from liucheng.engine.codec import dumps as encode_value
from liucheng.engine.codec import loads as decode_value
from liucheng.engine.serialize import instance_from_json, instance_to_dict
from liucheng.engine.state import (
    Instance,
    InstanceState,
    RawEvent,
    Subscription,
    SubscriptionKind,
    UserTask,
)
from liucheng.errors import ConflictError, LiuchengError
from liucheng.runtime import schema
from liucheng.runtime.database import WRITE_OPTION, connect
from liucheng.runtime.database import upgrade as upgrade_schema
from liucheng.store import BufferedMessage, DeploymentRecord, StartTimer, TaskQuery

_I = schema.instances
_T = schema.tasks
_C = schema.task_candidates
_S = schema.subscriptions
_H = schema.history
_V = schema.variables
_D = schema.deployments
_ST = schema.start_timers
_MB = schema.message_buffer
_X = schema.external_tasks

_ACTIVE = InstanceState.ACTIVE.value
_TIMER = SubscriptionKind.TIMER.value
_DUE_KINDS = (_TIMER, SubscriptionKind.JOB.value)  # timers and jobs: what due_timers hands out
_MESSAGE = SubscriptionKind.MESSAGE.value
_START_TIMER_COLUMNS = (
    _ST.c.process_id,
    _ST.c.node,
    _ST.c.due,
    _ST.c.cycle,
    _ST.c.armed,
    _ST.c.fired,
)
_PAGE = 200  # cases read per query by ``instances``
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class _Seen(NamedTuple):
    """What a case's index rows held when it was loaded (they mirror its JSON at that rev).

    ``save`` compares the case with this and writes only the rows that changed, instead of
    deleting and re-inserting every row of the case: a task completion then costs a handful of
    statements however many variables and tasks the case has.
    """

    tasks: frozenset[str]
    subs: dict[int, tuple[Any, ...]]
    variables: dict[str, Any]
    externals: bool


def _seen(inst: Instance) -> _Seen:
    return _Seen(
        frozenset(inst.tasks),
        {s.id: _sub_signature(s) for s in inst.subscriptions.values()},
        dict(inst.variables),
        bool(inst.externals),
    )


def _sub_signature(sub: Any) -> tuple[Any, ...]:
    return (sub.kind, sub.message, sub.key, sub.due)


_SEEN_LIMIT = 10_000  # snapshots kept for cases loaded and not (yet) saved


class SqlStore:
    """A ``Store`` in a SQL database; see the module docstring for its contract.

    ``url_or_engine`` is a database URL (``None``: ``LIUCHENG_DATABASE_URL`` or ``liucheng.db``)
    or an engine made by ``liucheng.runtime.database.connect``.  ``migrate=True`` brings the
    schema up to date first.
    """

    def __init__(self, url_or_engine: str | Engine | None = None, *, migrate: bool = False) -> None:
        self._owns_engine = not isinstance(url_or_engine, Engine)
        self.engine = url_or_engine if isinstance(url_or_engine, Engine) else connect(url_or_engine)
        if migrate:
            upgrade_schema(self.engine)
        self._local = threading.local()
        self._seen: OrderedDict[tuple[str, int], _Seen] = OrderedDict()
        self._seen_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close the pooled connections (only those of an engine this store opened)."""
        if self._owns_engine:
            self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One database transaction for everything inside; nested ``with`` joins the outer one."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                self._local.conn = conn
                try:
                    yield
                finally:
                    self._local.conn = None

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[Connection]:
        """The current transaction's connection, or a short transaction of its own."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as own:
            if write:
                own.execution_options(**{WRITE_OPTION: True})
            with own.begin():
                yield own

    # -- deployments ----------------------------------------------------------------------------
    def add_deployment(self, record: DeploymentRecord) -> None:
        with self._connection(write=True) as conn:
            conn.execute(
                insert(_D),
                {
                    "process_id": record.process_id,
                    "version": record.version,
                    "name": record.name,
                    "content_hash": record.content_hash,
                    "source": record.source,
                    "source_name": record.source_name,
                    "language": record.language,
                    "deployed": record.deployed,
                },
            )

    def deployments(self) -> list[DeploymentRecord]:
        """Every deployed version, oldest first."""
        query = select(
            _D.c.process_id,
            _D.c.version,
            _D.c.name,
            _D.c.content_hash,
            _D.c.source,
            _D.c.source_name,
            _D.c.language,
            _D.c.deployed,
        ).order_by(_D.c.id)
        with self._connection() as conn:
            return [DeploymentRecord(*row) for row in conn.execute(query)]

    def start_timers(self) -> list[StartTimer]:
        """Every timer start event, earliest due first.

        Inside ``transaction()`` the rows are read under their row locks, held to the end of the
        transaction (see "Timer start events" in the module docstring); outside, a plain read.
        """
        with self._connection() as conn:
            if getattr(self._local, "conn", None) is not None:
                timers = self._lock_start_timers(conn)
                timers.sort(key=lambda t: (t.due, t.process_id, t.node))
                return timers
            query = select(*_START_TIMER_COLUMNS).order_by(_ST.c.due, _ST.c.process_id, _ST.c.node)
            return [StartTimer(*row) for row in conn.execute(query)]

    @staticmethod
    def _lock_start_timers(conn: Connection) -> list[StartTimer]:
        """Every start timer row, locked in primary-key order (PostgreSQL ``FOR UPDATE``;
        SQLite has no row locks and needs none: ``BEGIN IMMEDIATE`` already holds its one write
        lock).  One order for every locker, so two of them never wait for each other in a
        circle."""
        query = (
            select(*_START_TIMER_COLUMNS).order_by(_ST.c.process_id, _ST.c.node).with_for_update()
        )
        return [StartTimer(*row) for row in conn.execute(query)]

    def replace_start_timers(self, process_id: str, timers: list[StartTimer]) -> None:
        """The timer start events of ``process_id`` are now exactly ``timers``."""
        rows = [
            {
                "process_id": t.process_id,
                "node": t.node,
                "due": t.due,
                "cycle": t.cycle,
                "armed": t.armed,
                "fired": t.fired,
            }
            for t in timers
        ]
        with self._connection(write=True) as conn:
            if getattr(self._local, "conn", None) is not None:
                self._lock_start_timers(conn)  # the lock order of ``start_timers``
            conn.execute(delete(_ST).where(_ST.c.process_id == process_id))
            if rows:
                conn.execute(insert(_ST), rows)

    # -- cases ----------------------------------------------------------------------------------
    def insert(self, inst: Instance) -> None:
        """Add a new case at revision 0; ``ConflictError`` if its business key is taken."""
        written = _Written(inst)  # everything is converted before the first write
        row = written.instance_row()
        row["id"] = inst.id
        row["process_id"] = inst.process_id
        row["started"] = inst.started
        row["rev"] = 0
        with self._connection(write=True) as conn:
            try:
                # A savepoint, so that on PostgreSQL the caller's transaction survives the
                # refusal (an error there otherwise aborts the whole transaction).
                with conn.begin_nested():
                    conn.execute(insert(_I), row)
            except IntegrityError:
                raise ConflictError(_taken(inst)) from None
            written.write_rows(conn, replace=False)
            if inst.externals:
                _sync_externals(conn, inst)
            written.append_history(conn, stored=inst.history_base)
        inst.rev = 0
        written.done()
        self._remember(inst)

    def load(self, instance_id: str) -> Instance | None:
        """The case, with ``rev`` set and without history (see the module docstring)."""
        with self._connection() as conn:
            row = conn.execute(
                select(_I.c.rev, _I.c.data).where(_I.c.id == instance_id)
            ).one_or_none()
        if row is None:
            return None
        inst = instance_from_json(row.data)
        inst.rev = row.rev
        self._remember(inst)
        return inst

    def _remember(self, inst: Instance) -> None:
        with self._seen_lock:
            self._seen[(inst.id, inst.rev)] = _seen(inst)
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)

    def _recall(self, inst: Instance) -> _Seen | None:
        with self._seen_lock:
            return self._seen.pop((inst.id, inst.rev), None)

    def save(self, inst: Instance) -> None:
        """Write the case back; ``ConflictError`` if it was saved by someone else since ``load``."""
        written = _Written(inst, self._recall(inst))
        row = written.instance_row()
        row["rev"] = _I.c.rev + 1
        with self._connection(write=True) as conn:
            changed = conn.execute(
                update(_I).where(_I.c.id == inst.id, _I.c.rev == inst.rev).values(row)
            ).rowcount
            if changed != 1:
                raise ConflictError(
                    f"case '{inst.id}' was changed by someone else; reload and try again"
                )
            written.write_rows(conn, replace=True)
            if written.seen is None or written.seen.externals or inst.externals:
                _sync_externals(conn, inst)
            # A case loaded from this store knows how many events are stored (``history_base``,
            # checked by the revision above); a case restored from a dump starts from 0 and is
            # asked for the count.
            written.append_history(conn, stored=inst.history_base or None)
        inst.rev += 1
        written.done()
        self._remember(inst)  # the same object may be saved again in this operation

    def instances(
        self, process: str | None = None, state: InstanceState | None = None
    ) -> Iterator[Instance]:
        """Cases oldest first, read a page at a time and decoded as the caller goes."""
        query = select(_I.c.started, _I.c.id, _I.c.rev, _I.c.data)
        if process is not None:
            query = query.where(_I.c.process_id == process)
        if state is not None:
            query = query.where(_I.c.state == state.value)
        query = query.order_by(_I.c.started, _I.c.id).limit(_PAGE)
        after: tuple[datetime, str] | None = None
        while True:
            page = query if after is None else query.where(tuple_(_I.c.started, _I.c.id) > after)
            with self._connection() as conn:
                rows = conn.execute(page).all()
            for row in rows:
                inst = instance_from_json(row.data)
                inst.rev = row.rev
                yield inst
            if len(rows) < _PAGE:
                return
            after = (rows[-1].started, rows[-1].id)

    def history(self, instance_id: str) -> list[RawEvent]:
        """Every stored event of the case, in ``seq`` order."""
        query = (
            select(_H.c.seq, _H.c.time, _H.c.kind, _H.c.element, _H.c.token, _H.c.variables)
            .add_columns(_H.c.detail)
            .where(_H.c.instance_id == instance_id)
            .order_by(_H.c.seq)
        )
        with self._connection() as conn:
            rows = conn.execute(query).all()
        return [
            (seq, time, kind, element, token, decode_value(v) if v is not None else None, detail)
            for seq, time, kind, element, token, v, detail in rows
        ]

    # -- queries that find cases ------------------------------------------------------------
    def business_key_in_use(self, process_id: str, business_key: str) -> bool:
        query = select(
            exists().where(_I.c.process_id == process_id, _I.c.business_key == business_key)
        )
        with self._connection() as conn:
            return bool(conn.scalar(query))

    def instance_of_task(self, task_id: str) -> str | None:
        """The case an *open* task belongs to."""
        with self._connection() as conn:
            found: str | None = conn.scalar(select(_T.c.instance_id).where(_T.c.id == task_id))
            return found

    def load_for_task(self, task_id: str) -> Instance | None:
        """``load`` of the case an open task belongs to, found through ``tasks`` in one query."""
        query = (
            select(_I.c.rev, _I.c.data)
            .join(_T, _T.c.instance_id == _I.c.id)
            .where(_T.c.id == task_id)
        )
        with self._connection() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        inst = instance_from_json(row.data)
        inst.rev = row.rev
        self._remember(inst)
        return inst

    def tasks(self, query: TaskQuery) -> list[UserTask]:
        """Open tasks matching ``query``, oldest first (then by case, then creation order).

        One query: the tasks left-joined to all their candidates, so a task with three
        candidate groups comes as three rows and is put together here.
        """
        where = []
        if query.instance is not None:
            where.append(_T.c.instance_id == query.instance)
        if query.assignee is not None:
            where.append(_T.c.assignee == query.assignee)
        if query.process is not None:
            where.append(_T.c.process_id == query.process)
        if query.group is not None:
            where.append(_candidate("group", query.group))
        if query.user is not None:
            where.append(or_(_T.c.assignee == query.user, _candidate("user", query.user)))
        for name, value in query.variables:
            where.append(_T.c.instance_id.in_(_cases_where(name, value)))
        stmt = (
            select(_T, _C.c.kind.label("c_kind"), _C.c.name.label("c_name"))
            .outerjoin(_C, _C.c.task_id == _T.c.id)
            .where(*where)
            .order_by(_T.c.created, _T.c.instance_id, _T.c.position, _C.c.kind, _C.c.position)
        )
        with self._connection() as conn:
            rows = conn.execute(stmt).all()
        found: dict[str, tuple[Any, list[str], list[str]]] = {}
        for row in rows:
            entry = found.get(row.id)
            if entry is None:
                entry = found[row.id] = (row, [], [])
            if row.c_kind == "group":
                entry[1].append(row.c_name)
            elif row.c_kind == "user":
                entry[2].append(row.c_name)
        return [
            UserTask(
                id=row.id,
                instance_id=row.instance_id,
                token=row.token,
                node=row.node,
                name=row.name,
                created=row.created,
                assignee=row.assignee,
                candidate_groups=tuple(groups),
                candidate_users=tuple(users),
                form_key=row.form_key,
                due=row.due,
                priority=row.priority,
                process_id=row.process_id,
                business_key=row.business_key,
            )
            for row, groups, users in found.values()
        ]

    def message_waiters(self, message: str, key: str | None) -> list[tuple[str, int]]:
        """(case id, subscription id) of active cases waiting for ``message`` (and ``key``)."""
        where = [_S.c.kind == _MESSAGE, _S.c.message == message, _I.c.state == _ACTIVE]
        if key is not None:
            where.append(_S.c.key == key)
        query = (
            select(_S.c.instance_id, _S.c.sub_id)
            .join(_I, _I.c.id == _S.c.instance_id)
            .where(*where)
            .order_by(_I.c.started, _I.c.id, _S.c.sub_id)
        )
        with self._connection() as conn:
            return [(row.instance_id, row.sub_id) for row in conn.execute(query)]

    def due_timers(self, now: datetime) -> list[tuple[datetime, str, int]]:
        """(due, case id, subscription id) of timers due by ``now``, earliest first."""
        query = (
            select(_S.c.due, _S.c.instance_id, _S.c.sub_id)
            .join(_I, _I.c.id == _S.c.instance_id)
            .where(_S.c.kind.in_(_DUE_KINDS), _S.c.due <= now, _I.c.state == _ACTIVE)
            .order_by(_S.c.due, _S.c.instance_id, _S.c.sub_id)
        )
        with self._connection() as conn:
            return [(row.due, row.instance_id, row.sub_id) for row in conn.execute(query)]

    def next_due(self) -> datetime | None:
        """When the earliest timer of any active case falls due."""
        query = (
            select(func.min(_S.c.due))
            .join(_I, _I.c.id == _S.c.instance_id)
            .where(_S.c.kind.in_(_DUE_KINDS), _I.c.state == _ACTIVE)
        )
        with self._connection() as conn:
            due: datetime | None = conn.scalar(query)
            return due

    # -- external tasks ---------------------------------------------------------------------
    def fetch_external(
        self, topics: Sequence[str], worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str]]:
        """Claim tasks for one worker.

        The candidates are read with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a second worker
        fetching at the same moment skips the rows the first is claiming instead of waiting for
        them, so both get different tasks at once.  SQLite has no row locks, but its write
        transaction (``BEGIN IMMEDIATE``) lets only one worker claim at a time, which gives the
        same guarantee.  A lock that expired (a worker that died) makes the task free again.
        """
        free = or_(_X.c.lock_expires.is_(None), _X.c.lock_expires <= now)
        available = or_(_X.c.available.is_(None), _X.c.available <= now)
        query = (
            select(_X.c.id, _X.c.instance_id)
            .where(_X.c.topic.in_(list(topics)), free, available)
            .order_by(_X.c.created, _X.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._connection(write=True) as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(_X)
                    .where(_X.c.id.in_([r.id for r in rows]))
                    .values(lock_owner=worker, lock_expires=until)
                )
        return [(r.id, r.instance_id) for r in rows]

    def external_lock(self, task_id: str) -> tuple[str, str | None, datetime | None] | None:
        query = select(_X.c.instance_id, _X.c.lock_owner, _X.c.lock_expires).where(
            _X.c.id == task_id
        )
        with self._connection() as conn:
            row = conn.execute(query).one_or_none()
        return (row.instance_id, row.lock_owner, row.lock_expires) if row is not None else None

    def release_external(self, task_id: str) -> None:
        with self._connection(write=True) as conn:
            conn.execute(
                update(_X).where(_X.c.id == task_id).values(lock_owner=None, lock_expires=None)
            )

    # -- buffered messages ------------------------------------------------------------------
    def buffer_message(self, message: BufferedMessage) -> None:
        row = {
            "message": message.message,
            "key": message.key,
            "variables": encode_value(message.variables),
            "published": message.published,
            "expires": message.expires,
        }
        with self._connection(write=True) as conn:
            conn.execute(insert(_MB), row)

    def take_buffered(self, message: str, key: str | None, now: datetime) -> BufferedMessage | None:
        """Take the oldest matching message, deleting it in the same transaction.

        The delete is conditional on the row still being there: when two cases race for one
        buffered message, the second's delete finds nothing and it looks again, so a message is
        taken once.  Expired messages are deleted on the way.
        """
        with self._connection(write=True) as conn:
            conn.execute(delete(_MB).where(_MB.c.expires <= now))
            matches_key = (
                _MB.c.key.is_(None) if key is None else or_(_MB.c.key.is_(None), _MB.c.key == key)
            )
            query = (
                select(_MB).where(_MB.c.message == message, matches_key).order_by(_MB.c.id).limit(1)
            )
            while True:
                row = conn.execute(query).mappings().first()
                if row is None:
                    return None
                taken = conn.execute(delete(_MB).where(_MB.c.id == row["id"]))
                if taken.rowcount == 1:
                    return BufferedMessage(
                        row["message"],
                        row["key"],
                        decode_value(row["variables"]),
                        row["published"],
                        row["expires"],
                    )

    def has_buffered(self) -> bool:
        with self._connection() as conn:
            return bool(conn.scalar(select(exists().where(_MB.c.id.is_not(None)))))


def _sync_externals(conn: Connection, inst: Instance) -> None:
    """Make the case's external-task rows match its state, keeping the locks of the ones left.

    Unlike the other index rows these are not rewritten wholesale: a worker's lock lives only
    here, and must survive the saves of its case (a timer firing elsewhere in the case, say).
    """
    stored = dict(
        conn.execute(select(_X.c.id, _X.c.available).where(_X.c.instance_id == inst.id)).all()
    )
    current = inst.externals
    gone = [task_id for task_id in stored if task_id not in current]
    if gone:
        conn.execute(delete(_X).where(_X.c.id.in_(gone)))
    new = [
        {
            "id": t.id,
            "instance_id": inst.id,
            "topic": t.topic,
            "created": t.created,
            "available": t.available,
        }
        for t in current.values()
        if t.id not in stored
    ]
    if new:
        conn.execute(insert(_X), new)
    for t in current.values():
        if t.id in stored and stored[t.id] != t.available:
            conn.execute(update(_X).where(_X.c.id == t.id).values(available=t.available))


def _candidate(kind: str, name: str) -> Any:
    """The task has ``name`` among its candidates of ``kind`` (an alias: the outer query joins
    ``task_candidates`` too, and the subquery must not correlate to that join)."""
    cand = _C.alias("cand")
    return exists().where(and_(cand.c.task_id == _T.c.id, cand.c.kind == kind, cand.c.name == name))


def _taken(inst: Instance) -> str:
    if inst.business_key is None:
        return f"case '{inst.id}' already exists"
    return f"process '{inst.process_id}' already has a case with business key '{inst.business_key}'"


class _Written:
    """One case converted to rows, before anything is written.

    Converting first means a value that cannot be stored is refused before the first statement,
    so a refused ``save`` writes nothing even outside a transaction.
    """

    __slots__ = (
        "candidates",
        "events",
        "gone_subs",
        "gone_tasks",
        "gone_vars",
        "history_rows",
        "inst",
        "last",
        "seen",
        "subs",
        "tasks",
        "vars",
    )

    def __init__(self, inst: Instance, seen: _Seen | None = None) -> None:
        """``seen``: the rows as loaded; then only differences are converted and written."""
        self.inst = inst
        self.seen = seen
        cid = inst.id
        tasks: Iterable[UserTask] = inst.tasks.values()
        subscriptions: Iterable[Subscription] = inst.subscriptions.values()
        variables: Iterable[tuple[str, Any]] = inst.variables.items()
        self.gone_tasks: list[str] = []
        self.gone_subs: list[int] = []
        self.gone_vars: list[str] = []
        if seen is not None:
            self.gone_tasks = [t for t in seen.tasks if t not in inst.tasks]
            tasks = [t for t in tasks if t.id not in seen.tasks]
            changed = [s for s in subscriptions if seen.subs.get(s.id) != _sub_signature(s)]
            self.gone_subs = [i for i in seen.subs if i not in inst.subscriptions] + [
                s.id for s in changed if s.id in seen.subs
            ]
            subscriptions = changed
            old = seen.variables
            variables = [
                (name, value)
                for name, value in variables
                if name not in old or not _same_value(old[name], value)
            ]
            self.gone_vars = [n for n in old if n not in inst.variables] + [
                n for n, _ in variables if n in old
            ]
        self.events = inst.history
        self.last = self.events[-1][0] if self.events else inst.history_base
        self.tasks: list[dict[str, Any]] = []
        self.candidates: list[dict[str, Any]] = []
        positions = {task_id: i for i, task_id in enumerate(inst.tasks)}
        for t in tasks:
            position = positions[t.id]
            self.tasks.append(
                {
                    "id": t.id,
                    "instance_id": cid,
                    "token": t.token,
                    "position": position,
                    "node": t.node,
                    "name": t.name,
                    "assignee": t.assignee,
                    "form_key": t.form_key,
                    "due": t.due,
                    "priority": t.priority,
                    "process_id": t.process_id or inst.process_id,
                    "business_key": t.business_key,
                    "created": t.created,
                }
            )
            for kind, names in (("group", t.candidate_groups), ("user", t.candidate_users)):
                self.candidates.extend(
                    {"task_id": t.id, "kind": kind, "position": i, "name": name}
                    for i, name in enumerate(names)
                )
        self.subs = [
            {
                "instance_id": cid,
                "sub_id": s.id,
                "kind": s.kind.value,
                "message": s.message,
                "key": s.key,
                "due": s.due,
            }
            for s in subscriptions
        ]
        self.vars = [
            _variable_row(cid, name, value) for name, value in variables if len(name) <= schema.NAME
        ]
        self.history_rows: list[dict[str, Any]] = [
            {
                "instance_id": cid,
                "seq": seq,
                "time": time,
                "kind": kind,
                "element": element,
                "token": token,
                "variables": encode_value(variables) if variables is not None else None,
                "detail": detail,
            }
            for seq, time, kind, element, token, variables, detail in self.events
        ]

    def instance_row(self) -> dict[str, Any]:
        inst = self.inst
        data = instance_to_dict(inst, include_history=False)
        data["history_base"] = self.last
        return {
            "version": inst.version,
            "business_key": inst.business_key,
            "state": inst.state.value,
            "ended": inst.ended,
            "data": _JSON.encode(data),
        }

    def write_rows(self, conn: Connection, *, replace: bool) -> None:
        cid = self.inst.id
        if replace and self.seen is not None:
            if self.gone_tasks:
                conn.execute(delete(_C).where(_C.c.task_id.in_(self.gone_tasks)))
                conn.execute(delete(_T).where(_T.c.id.in_(self.gone_tasks)))
            if self.gone_subs:
                conn.execute(
                    delete(_S).where(_S.c.instance_id == cid, _S.c.sub_id.in_(self.gone_subs))
                )
            if self.gone_vars:
                conn.execute(
                    delete(_V).where(
                        _V.c.instance_id == cid, _V.c.scope == 0, _V.c.name.in_(self.gone_vars)
                    )
                )
        elif replace:
            conn.execute(
                delete(_C).where(_C.c.task_id.in_(select(_T.c.id).where(_T.c.instance_id == cid)))
            )
            conn.execute(delete(_T).where(_T.c.instance_id == cid))
            conn.execute(delete(_S).where(_S.c.instance_id == cid))
            conn.execute(delete(_V).where(_V.c.instance_id == cid))
        for table, rows in (
            (_T, self.tasks),
            (_C, self.candidates),
            (_S, self.subs),
            (_V, self.vars),
        ):
            if rows:
                conn.execute(insert(table), rows)

    def append_history(self, conn: Connection, *, stored: int | None) -> None:
        rows = self.history_rows
        if not rows:
            return
        if stored is None:
            count = select(func.max(_H.c.seq)).where(_H.c.instance_id == self.inst.id)
            stored = conn.scalar(count) or 0
        if rows[0]["seq"] <= stored:
            rows = [row for row in rows if row["seq"] > stored]
            if not rows:
                return
        if rows[0]["seq"] != stored + 1 or rows[-1]["seq"] != stored + len(rows):
            raise LiuchengError(
                f"case '{self.inst.id}': history events {rows[0]['seq']}..{rows[-1]['seq']} "
                f"do not follow the {stored} stored"
            )
        conn.execute(insert(_H), rows)

    def done(self) -> None:
        """The case now looks as ``load`` would return it: no history in memory."""
        inst = self.inst
        inst.history_base = self.last
        inst.history = []


def _same_value(old: Any, new: Any) -> bool:
    """Whether a variable is unchanged since load (the engine replaces values, never edits)."""
    if old is new:
        return True
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:  # pragma: no cover - exotic values: treat as changed
        return False


def _cases_where(name: str, value: Any) -> Any:
    """The ids of cases whose process variable ``name`` equals ``value``, via the typed index.

    Written as ``IN (subquery)`` so the database starts from the (name, value) index and then
    finds the tasks by case id, rather than testing every task.
    """
    typed = _variable_row("", name, value)
    if typed["text_value"] is not None:
        match = _V.c.text_value == typed["text_value"]
    elif typed["number_value"] is not None:
        match = _V.c.number_value == typed["number_value"]
    elif typed["bool_value"] is not None:
        match = _V.c.bool_value == typed["bool_value"]
    else:
        raise LiuchengError(
            f"tasks can be found by text, number, boolean or date variables, not by "
            f"{type(value).__name__} ({name!r})"
        )
    return select(_V.c.instance_id).where(_V.c.name == name, _V.c.scope == 0, match)


def _variable_row(instance_id: str, name: str, value: Any) -> dict[str, Any]:
    """A process variable with its value typed for queries; the exact value goes in ``json``."""
    text: str | None = None
    number: Decimal | None = None
    flag: bool | None = None
    exact = encode_value(value)  # refuses what cannot be stored
    kind = type(value)
    if kind is str:
        text = value if len(value) <= schema.TEXT_VALUE_MAX else None
    elif kind is bool:
        flag = value
    elif kind is int or kind is Decimal:
        number = Decimal(value)
    elif kind is float:
        number = Decimal(repr(value))
    elif kind is datetime:
        text = (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    elif kind is date:
        text = value.isoformat()
    return {
        "instance_id": instance_id,
        "scope": 0,
        "name": name,
        "text_value": text,
        "number_value": number,
        "bool_value": flag,
        "json": exact,
    }
