"""``SqlStore``: deployments and cases kept in a SQL database (SQLite or PostgreSQL).

A case is one row of ``instances``: its state as JSON without history (``data``) and its
revision ``rev``.  Every ``save`` rewrites that row and, in the same transaction, the rows that
make the case findable — open tasks and their candidates, subscriptions, process variables — and
appends its new history events.  Nothing else is ever read to resume a case: the index rows are
derived data, and ``save`` writes only those that changed since the case was loaded.

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
changed means someone else saved since our ``load``: ``ConflictError``, and nothing else of
this save is written; the caller's transaction rolls back.  Every other write of
``save`` comes after the UPDATE, so a losing writer never touches the index rows.  (On SQLite,
and on PostgreSQL for a case this store did not load, the store waits for the UPDATE's row
count before it sends anything more; on PostgreSQL a save is otherwise one statement whose
other parts run only if the UPDATE changed the row — see ``pg_write``.)

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
``transaction()`` takes one connection — one the store kept from an earlier operation, else
one from the pool (see ``connections``) — and opens one database transaction for the
outermost ``with`` in the current thread; a nested ``with`` (and every method called inside)
joins it, and ``savepoint()`` inside it marks work that is undone alone if it raises.  The open
transaction is kept in a ``threading.local``, so threads sharing one ``SqlStore`` each get
their own.  A write outside any ``transaction()`` runs in a transaction of its own; a read
outside one is a single statement, which both databases run as a transaction by itself (no
``BEGIN``/``COMMIT`` round trips).  Do not share one transaction between asyncio tasks of one
thread.

The hot path: SQL on the driver's connection
--------------------------------------------
An engine step is a handful of statements (``load``, the revision-checked UPDATE, the changed
index rows, the history, the commit), and running each through SQLAlchemy Core cost about
0.25 ms of Python (building the statement, its cache key, the compiled context, the type
processors) — more than SQLite takes to run it, and most of a step.  So the statements of
``load``, ``load_for_task``, ``insert``, ``save``, ``tasks`` and the other per-step queries are
plain SQL text (``_Sql``), run on the DB-API connection of the pooled connection, with the two
column types that need it converted by hand exactly as ``types.UtcDateTime`` and
``types.ExactNumber`` do (``_sqlite_time``, ``_to_utc``, …).  SQLAlchemy Core still defines the
schema and runs the migrations and the rarely used statements (deployments, start timers,
buffered messages, external tasks, listing cases, history); inside a transaction those run on
the same connection (``_Transaction.core``).

Cases kept between steps
------------------------
A case that a committed transaction saved is kept, as the object the engine left, with the
revision it was saved at: the last ``_CASES_KEPT`` of them, and only cases whose JSON has at
most ``_KEPT_CASE_SIZE`` characters, so that what is kept stays within some tens of megabytes.
``load`` and ``load_for_task`` still read the row — its revision says whether the kept object is
what the database holds — but when the revisions agree they hand out the kept object instead of
decoding the JSON again, which was a seventh of a step's CPU time. Every write of a case's row
moves its revision (``save`` checks and increments it; ``insert`` writes a new case), so an
equal revision means an equal case. The object is taken out of the store when it is handed out:
the engine changes it, and it comes back only when a transaction that saved it commits. A save
undone by a savepoint or a rollback leaves nothing kept.

``load_for_task`` inside a transaction goes one step further: when it keeps the case whose
task is asked for, with that task open, it hands the case out without reading the row at all
(on PostgreSQL a round trip, a third of a completion's).  The save checks the revision anyway,
so a case another store changed meanwhile cannot be written over: its save fails, nothing is
written, and the transaction, finding the case's revision moved on, ends in
``StaleCaseError``, on which ``Engine.complete`` runs the completion once more on the case as
the database holds it.  Any other failure of such a transaction is checked the same way, so an
error caused by an outdated case is never reported.  The price: a step retried this way has
run its service handlers twice, as any step that loses a race has run them once for nothing
(the same contract as Camunda's delegates: handlers are called at least once).

Round trips on PostgreSQL
-------------------------
On PostgreSQL every statement is a round trip to the server and 40–80 µs of the client's CPU
(psycopg's Python, the system calls), and both were most of a step.  So:

* ``BEGIN`` only when a transaction needs one.  Reads before the transaction's first write
  are statements by themselves (READ COMMITTED gives every statement its own snapshot, so
  nothing is lost), and the first write is held back: if it stays the only one, ``commit()``
  sends it alone, and a single statement is a transaction of its own, with its commit.
* Otherwise the transaction's statements are sent in psycopg's *pipeline mode*: the store
  queues them and waits only when it needs an answer — a row it reads, or a row count.
  ``BEGIN`` and ``COMMIT`` are sent by the store itself (the connection is in autocommit mode
  while the store holds it, so psycopg adds no ``BEGIN`` of its own), ``BEGIN`` queued in front
  of the held write and ``COMMIT`` behind the last statement.
* ``save`` and ``insert`` are one statement (``pg_write``): the case row, and every index row
  and history event in JSON parameters that the server unpacks.
* A ``save`` that loses the race, and an ``insert`` whose id or business key is taken, fail
  by themselves (``liucheng_conflict``, migration 0009), so the store does not wait for their
  answer: a start is its insert alone, one statement and one round trip.

A task completion is then two statements and two round trips — the load; the save, which
is its own transaction — instead of a dozen of each (until this round: ``BEGIN`` + the load;
the save + ``COMMIT``, four statements, and psycopg's pipeline entered and left for them,
about 0.2 ms of the client's CPU more).  Because queued statements are checked only when the
server answers, an error in one is raised by the next statement that waits — at the latest
the commit — and the whole transaction rolls back as before; leaving a ``savepoint()`` waits
for its statements, so a failure is always undone with the savepoint it belongs to.  SQLite
runs in the process: each statement runs when it is sent, and every transaction begins with
``BEGIN IMMEDIATE`` (its write lock, see ``database``).

Finding tasks by a variable's value
-----------------------------------
``tasks(TaskQuery(variables=…))`` filters tasks by the case's process variables through the
``variables`` table's typed index.  Two plans answer it, and which one is fast depends on how
many open tasks share the value:

* few (a plate number, one case in a thousand): start from the variable's index, reach each
  case's tasks by ``tasks.instance_id``, sort the few matches — ``instance_id IN (…)``;
* many (``applicant_type = 'external'``, a third of all cases), with a page ``limit``: the first
  plan would fetch and sort hundreds of thousands of tasks to return fifty.  Instead walk the
  tasks oldest first on the index ``tasks (created, instance_id, position)`` (migration 0004)
  and test the variable for each task (a correlated ``EXISTS`` on the variables' primary key),
  stopping after a page.

So with a ``limit`` the store first counts, for each variable filter, the open tasks it matches
— up to ``_COMMON_PER_PAGE`` × ``limit``, on the indexes of the first plan, so the count costs
at most what the first plan would.  A value that reaches that count is *common*: a walk in page
order meets a match at least every ``tasks / count`` tasks, so it finds a page after a bounded
number of steps.  Rare values drive the query; common ones filter it.  Without a ``limit``
every match is returned anyway and the first plan is used.  Both plans return the same rows.

Variable rows only while a case has tasks
-----------------------------------------
The ``variables`` rows answer one question — the open tasks of cases whose variable has a
value — so a case has them only while it has an open user task (migration 0008): ``save``
writes every variable when a case gains its first open task, only the changed ones while it
keeps some, and deletes them all when its last one goes (a case that ended, or that waits for
a timer or a message).  Every text variable a step changes is an entry in its own part of the
``(name, text_value)`` index, a page written per commit; written for every case that ever
ran, that index grew with all of them and was the largest writer of pages on SQLite.  Kept
for open cases only, the index stays the size of the open work (measured on the access-pass
benchmark: 65 → 56 pages written a case).  The case's JSON stays the only place a
variable's value is read from.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from liucheng.engine.codec import dumps as encode_value
from liucheng.engine.codec import loads as decode_value
from liucheng.engine.codec import plain_json
from liucheng.engine.serialize import instance_from_json, instance_to_dict
from liucheng.engine.state import (
    Changes,
    Instance,
    InstanceState,
    RawEvent,
    Subscription,
    SubscriptionKind,
    UserTask,
    changes_dict,
    flat_changes,
)
from liucheng.errors import ConflictError, LiuchengError
from liucheng.runtime import history_rows, pg_write, schema
from liucheng.runtime.connections import KeptConnections, kept_cursor
from liucheng.runtime.database import WRITE_OPTION, Checkpointer, connect
from liucheng.runtime.database import upgrade as upgrade_schema
from liucheng.store import (
    Attachment,
    BufferedMessage,
    ClaimExpiredError,
    Comment,
    DeploymentRecord,
    StaleCaseError,
    StartTimer,
    TaskQuery,
    task_position,
)

_I = schema.instances
_T = schema.tasks
_H = schema.history
_D = schema.deployments
_ST = schema.start_timers
_MB = schema.message_buffer
_X = schema.external_tasks
# ``SET LOCAL`` with a parameter: a claim's expiry, for the rest of the transaction.
_IDLE_TIMEOUT = text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)")

_ACTIVE = InstanceState.ACTIVE.value
_TIMER = SubscriptionKind.TIMER.value
_JOB = SubscriptionKind.JOB.value
_DUE_KINDS = (_TIMER, _JOB)  # timers and jobs: what due_timers hands out
_MESSAGE = SubscriptionKind.MESSAGE.value
_SIGNAL = SubscriptionKind.SIGNAL.value
_START_TIMER_COLUMNS = (
    _ST.c.process_id,
    _ST.c.node,
    _ST.c.due,
    _ST.c.cycle,
    _ST.c.armed,
    _ST.c.fired,
)
_PAGE = 200  # cases read per query by ``instances``
# A variable value matched by this many open tasks per task asked for is common (see "Finding
# tasks by a variable's value"): a walk in page order then tests at most about
# ``tasks / _COMMON_PER_PAGE`` tasks for a page.
_COMMON_PER_PAGE = 40
_DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a transaction cancelled to break a deadlock
_SERIALIZATION_FAILURE = "40001"  # what ``liucheng_conflict`` raises (migration 0009)

Trace = Callable[[str, str], None]
"""``SqlStore.trace``: called with ("statement", sql) for every statement the store sends on the
driver's connection (an ``executemany`` once), with ("wait", "") every time it waits for the
PostgreSQL server's answer (a round trip), and with ("commit", "") when a PostgreSQL
transaction of a single write commits without a ``COMMIT`` of its own (see "Round trips on
PostgreSQL").  For benchmarks and tests; None in production."""


# == the hot statements, per driver ===============================================================
class _Sql:
    """The store's own SQL text for one driver: sqlite3 takes ``?`` placeholders, psycopg ``%s``.

    Written once per driver, so psycopg sees the same text for the same statement and prepares
    it on the server after a few uses (``prepare_threshold``).
    """

    def __init__(self, pg: bool) -> None:
        self.pg = pg
        self.load = self.q("SELECT rev, data FROM instances WHERE id = ?")
        self.revision = self.q("SELECT rev FROM instances WHERE id = ?")
        self.load_for_task = self.q(
            "SELECT i.id, i.rev, i.data FROM tasks t JOIN instances i ON i.id = t.instance_id"
            " WHERE t.id = ?"
        )
        self.instance_of_task = self.q("SELECT instance_id FROM tasks WHERE id = ?")
        # ON CONFLICT DO NOTHING instead of a savepoint around a failing INSERT: the row count
        # says whether the row went in, and a refusal leaves the transaction usable (on
        # PostgreSQL a failed statement otherwise aborts the whole transaction).
        self.insert_instance = self.q(
            "INSERT INTO instances"
            " (id, process_id, version, business_key, state, started, ended, rev, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING"
        )
        # Two forms: a step never changes the case's version or business key, and setting an
        # indexed column (even to its value) makes SQLite rewrite that index's entry — a page
        # more for every commit.  The full form is for a case this store did not load.
        self.update_instance = self.q(
            "UPDATE instances SET state = ?, ended = ?, data = ?, rev = rev + 1"
            " WHERE id = ? AND rev = ?"
        )
        self.update_instance_key = self.q(
            "UPDATE instances SET state = ?, ended = ?, data = ?, rev = rev + 1,"
            " version = ?, business_key = ? WHERE id = ? AND rev = ?"
        )
        self.insert_task = self.q(
            "INSERT INTO tasks (id, instance_id, token, position, node, name, assignee,"
            " form_key, due, priority, process_id, business_key, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self.insert_candidate = self.q(
            "INSERT INTO task_candidates (task_id, kind, position, name) VALUES (?, ?, ?, ?)"
        )
        # The task's candidate rows go with it (ON DELETE CASCADE; SQLite's foreign keys are
        # on, see ``database``).
        self.delete_task = self.q("DELETE FROM tasks WHERE id = ?")
        self.delete_tasks_of = self.q("DELETE FROM tasks WHERE instance_id = ?")
        self.upsert_subscription = self.q(
            "INSERT INTO subscriptions (instance_id, sub_id, kind, message, key, due)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, sub_id) DO UPDATE SET"
            " kind = excluded.kind, message = excluded.message, key = excluded.key,"
            " due = excluded.due"
        )
        self.delete_subscription = self.q(
            "DELETE FROM subscriptions WHERE instance_id = ? AND sub_id = ?"
        )
        self.delete_subscriptions_of = self.q("DELETE FROM subscriptions WHERE instance_id = ?")
        self.upsert_variable = self.q(
            "INSERT INTO variables"
            " (instance_id, scope, name, text_value, number_value, bool_value, json)"
            " VALUES (?, 0, ?, ?, ?, ?, ?) ON CONFLICT (instance_id, scope, name) DO UPDATE SET"
            " text_value = excluded.text_value, number_value = excluded.number_value,"
            " bool_value = excluded.bool_value, json = excluded.json"
        )
        self.delete_variable = self.q(
            "DELETE FROM variables WHERE instance_id = ? AND scope = 0 AND name = ?"
        )
        self.delete_variables_of = self.q("DELETE FROM variables WHERE instance_id = ?")
        self.insert_step = self.q(
            "INSERT INTO history (instance_id, first_seq, last_seq, time, events)"
            " VALUES (?, ?, ?, ?, ?)"
        )
        self.events_stored = self.q("SELECT max(last_seq) FROM history WHERE instance_id = ?")
        self.key_in_use = self.q(
            "SELECT 1 FROM instances WHERE process_id = ? AND business_key = ? LIMIT 1"
        )
        self.message_waiters = self.q(
            "SELECT s.instance_id, s.sub_id FROM subscriptions s"
            " JOIN instances i ON i.id = s.instance_id"
            " WHERE s.kind = ? AND s.message = ? AND i.state = ?"
            " ORDER BY i.started, i.id, s.sub_id"
        )
        self.message_waiters_by_key = self.q(
            "SELECT s.instance_id, s.sub_id FROM subscriptions s"
            " JOIN instances i ON i.id = s.instance_id"
            " WHERE s.kind = ? AND s.message = ? AND s.key = ? AND i.state = ?"
            " ORDER BY i.started, i.id, s.sub_id"
        )
        self.due_timers = self.q(
            "SELECT s.due, s.instance_id, s.sub_id FROM subscriptions s"
            " JOIN instances i ON i.id = s.instance_id"
            " WHERE s.kind IN (?, ?) AND s.due <= ? AND i.state = ?"
            " ORDER BY s.due, s.instance_id, s.sub_id"
        )
        self.has_buffered = self.q("SELECT 1 FROM message_buffer LIMIT 1")

    def q(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text


_SQL = {False: _Sql(pg=False), True: _Sql(pg=True)}


# == values the driver cannot take or give as they are ============================================
def _sqlite_time(value: datetime | None) -> str | None:
    """``UtcDateTime`` on SQLite: UTC as fixed-width text, exactly the text SQLAlchemy writes
    (``2026-03-02 01:00:00.000000``), so rows written here and by Core compare and sort alike."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError(f"a stored time must carry a time zone: {value!r}")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> str | None:
    """``UtcDateTime`` on PostgreSQL: ISO text with its offset, which ``timestamptz`` reads as
    the same instant.  Text rather than a ``datetime``: it goes as it is into the JSON of
    ``pg_write``, and psycopg sends a ``str`` untyped, so the server reads it as the column's
    type."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError(f"a stored time must carry a time zone: {value!r}")
    return value.isoformat()


def _from_sqlite_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value is not None else None


def _to_utc(value: datetime | None) -> datetime | None:
    """A ``timestamptz`` comes back in the session's time zone; the runtime hands out UTC."""
    return value.astimezone(UTC) if value is not None else None


def _sqlite_number(value: Decimal | None) -> str | None:
    """``ExactNumber`` on SQLite: text, which the column's NUMERIC affinity turns into a number."""
    return str(value) if value is not None else None


def _pg_number(value: Decimal | None) -> str | None:
    """``ExactNumber`` on PostgreSQL: the decimal's text, read exactly by ``numeric``."""
    return str(value) if value is not None else None


class _Values(NamedTuple):
    """The conversions of one driver (see ``types``: these must write what those write)."""

    time: Callable[[datetime | None], Any]
    time_out: Callable[[Any], Any]  # datetime | None, as what it reads
    number: Callable[[Decimal | None], Any]


_VALUES = {
    False: _Values(_sqlite_time, _from_sqlite_time, _sqlite_number),
    True: _Values(_pg_time, _to_utc, _pg_number),
}


# == what a case's index rows held when it was loaded ============================================
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
    key: tuple[int, str | None]  # version and business key (``instances`` columns)


def _seen(inst: Instance) -> _Seen:
    return _Seen(
        frozenset(inst.tasks),
        {s.id: _sub_signature(s) for s in inst.subscriptions.values()},
        dict(inst.variables),
        bool(inst.externals),
        (inst.version, inst.business_key),
    )


def _sub_signature(sub: Any) -> tuple[Any, ...]:
    return (sub.kind, sub.message, sub.key, sub.due)


_SEEN_LIMIT = 10_000  # snapshots kept for cases loaded and not (yet) saved
_CASES_KEPT = 1_000  # cases kept between steps (see "Cases kept between steps")
_KEPT_CASE_SIZE = 16_384  # characters of JSON: a larger case is decoded at each step instead


# == one transaction on the driver's connection ==================================================
class _Transaction:
    """The outermost ``transaction()`` of one thread: a pooled DB-API connection with its
    database transaction open, and on PostgreSQL the pipeline its statements are queued on.

    SQLite: ``BEGIN IMMEDIATE`` first (the write lock, see ``database``), ``commit()`` at the
    end; every statement runs when it is sent.  PostgreSQL: the connection is in autocommit
    mode (as the store keeps it, see ``connections``), so psycopg sends no ``BEGIN`` of its
    own.  This class sends ``BEGIN`` only when a transaction needs one: reads before the first
    write run as statements by themselves, the first write is held back (``_pending``), and a
    transaction whose only write is that one sends it alone at ``commit()`` — one statement,
    its own transaction.  Anything more (a second write, a read after a write, a savepoint,
    Core) first queues ``BEGIN`` and the held write, and ``COMMIT`` is queued behind the last
    statement (see "Round trips on PostgreSQL" in the module docstring).  The connection goes
    back to the store's kept connections as it came — no transaction open — or, if that cannot
    be made sure, is closed.
    """

    __slots__ = (
        "_begun",
        "_core",
        "_pending",
        "_pipeline",
        "_pipeline_block",
        "_savepoints",
        "connections",
        "cursor",
        "engine",
        "expiring",
        "fairy",
        "pg",
        "raw",
        "saved",
        "trace",
        "trusted",
    )

    def __init__(
        self, engine: Engine, connections: KeptConnections, pg: bool, trace: Trace | None
    ) -> None:
        self.engine = engine
        self.connections = connections
        self.pg = pg
        self.trace = trace
        self._core: Connection | None = None
        self._pipeline: Any = None  # psycopg's Pipeline while statements are being queued
        self._pipeline_block: Any = None  # the context manager that opened it
        self._savepoints = 0
        self._begun = not pg  # PostgreSQL: BEGIN sent (queued) yet?
        self._pending: tuple[str, Sequence[Any]] | None = None  # PostgreSQL: the held write
        self.saved: list[Instance] = []  # the cases saved, kept by the store once committed
        self.trusted: dict[str, int] = {}  # kept cases handed out unread: id -> revision
        self.expiring = False  # holds a worker's claim that expires (``claim_cases``)
        self.fairy = connections.take()  # on PostgreSQL in autocommit mode
        self.raw: Any = cast(Any, self.fairy.driver_connection)  # sqlite3 or psycopg
        try:
            self.cursor: Any = kept_cursor(self.fairy)
            if not pg:
                self.command("BEGIN IMMEDIATE")
        except BaseException:
            self.rollback()
            self.close()
            raise

    # -- statements ---------------------------------------------------------------------------
    # In pipeline mode psycopg reads whatever answers have arrived while it sends a statement,
    # so the error of an earlier queued statement (a save's lost race) can be raised by any
    # of these: each turns it into ``ConflictError`` (``_lost_race``).
    def command(self, sql: str) -> None:
        """A statement without parameters or result (COMMIT, SAVEPOINT …)."""
        if self.trace is not None:
            self.trace("statement", sql)
        if not self._begun:
            self._begin()
        self._send(sql, None)

    def run(self, sql: str, params: Sequence[Any]) -> None:
        """A write whose result is not needed now (queued on PostgreSQL; the transaction's
        first write is held back, see the class docstring)."""
        if self.trace is not None:
            self.trace("statement", sql)
        if not self._begun:
            if self._pending is None:
                self._pending = (sql, params)
                return
            self._begin()
        self._send(sql, params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows (queued on PostgreSQL)."""
        if self.trace is not None:
            self.trace("statement", sql)
        if not self._begun:
            self._begin()
        if self.pg and self._pipeline is None:
            self._open_pipeline()
        try:
            self.cursor.executemany(sql, rows)
        except Exception as exc:
            _raise_lost_race(exc)
            raise

    def rows(self, sql: str, params: Sequence[Any], *, write: bool = False) -> list[Any]:
        """A query's rows (``write``: a write whose returned rows are needed now).  On
        PostgreSQL this sends everything queued and waits: a round trip.  A read before the
        transaction has written anything is a statement by itself: under READ COMMITTED every
        statement reads its own snapshot anyway, and a plain read takes no lock to hold."""
        trace = self.trace
        if trace is not None:
            trace("statement", sql)
        if not self.pg:
            result: list[Any] = self.cursor.execute(sql, params).fetchall()
            return result
        if not self._begun:
            if not write and self._pending is None:
                if trace is not None:
                    trace("wait", "")
                try:
                    result = self.cursor.execute(sql, params).fetchall()
                except Exception as exc:
                    _raise_lost_race(exc)
                    raise
                return result
            self._begin()
        if self._pipeline is None:
            self._open_pipeline()
        cursor = self.raw.cursor()
        if trace is not None:
            trace("wait", "")
        try:
            cursor.execute(sql, params)
            result = cursor.fetchall()
        except Exception as exc:
            _raise_lost_race(exc)
            raise
        return result

    def changed(self, sql: str, params: Sequence[Any]) -> int:
        """A write's row count; on PostgreSQL it waits for the server (a round trip)."""
        trace = self.trace
        if trace is not None:
            trace("statement", sql)
        if not self.pg:
            count: int = self.cursor.execute(sql, params).rowcount
            return count
        if not self._begun:
            self._begin()
        if self._pipeline is None:
            self._open_pipeline()
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql, params)
        except Exception as exc:
            _raise_lost_race(exc)
            raise
        self._sync()
        count = cursor.rowcount
        return count

    def core(self) -> Connection:
        """A SQLAlchemy ``Connection`` on this transaction, for the statements written in Core.

        It runs on this transaction's DB-API connection and never commits, rolls back or
        returns it (it is never closed): this class does.  Its ``begin()`` sends nothing (the
        database transaction is open already, see ``database._sqlite_begin``), but it must be
        called: a SQLAlchemy connection that is not "in a transaction" rolls the DB-API
        connection back after a failed statement, which would silently end ours.  On
        PostgreSQL the queued statements are sent first and the pipeline is left, because
        SQLAlchemy reads each result as soon as it executes.
        """
        if not self._begun:
            self._begin()
        if self._pipeline is not None:
            self._close_pipeline()
        if self._core is None:
            core = Connection(self.engine, self.fairy)
            core.begin()
            self._core = core
        return self._core

    # -- BEGIN and the pipeline (PostgreSQL) ----------------------------------------------------
    def _begin(self) -> None:
        """Queue ``BEGIN``, then the write held back (if any): the transaction needs one."""
        self._begun = True
        if self.trace is not None:
            self.trace("statement", "BEGIN")
        self._send("BEGIN", None)
        pending, self._pending = self._pending, None
        if pending is not None:
            self._send(*pending)

    def _send(self, sql: str, params: Sequence[Any] | None) -> None:
        """Queue a statement (PostgreSQL; run it on SQLite) on the transaction's cursor."""
        if self.pg and self._pipeline is None:
            self._open_pipeline()
        try:
            if params is None:
                self.cursor.execute(sql)
            else:
                self.cursor.execute(sql, params)
        except Exception as exc:
            _raise_lost_race(exc)
            raise

    def _open_pipeline(self) -> None:
        block = self.raw.pipeline()
        self._pipeline = block.__enter__()
        self._pipeline_block = block

    def _sync(self) -> None:
        """Send what is queued and wait for all of it; raises the first error among it."""
        if self.trace is not None:
            self.trace("wait", "")
        try:
            self._pipeline.sync()
        except Exception as exc:
            _raise_lost_race(exc)
            raise

    def _close_pipeline(self) -> None:
        """Leave the pipeline: send what is queued and wait for it (raises its first error)."""
        block, self._pipeline, self._pipeline_block = self._pipeline_block, None, None
        if self.trace is not None:
            self.trace("wait", "")
        try:
            block.__exit__(None, None, None)
        except Exception as exc:
            _raise_lost_race(exc)
            raise

    # -- savepoints, commit, rollback ------------------------------------------------------------
    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Everything inside is undone alone if it raises; the transaction goes on.

        On PostgreSQL leaving the savepoint waits for its queued writes, so that an error in one
        of them — a save's lost race among them (``pg_write``) — is raised here and undone with
        this savepoint, not found later by a statement of someone else's savepoint.  The
        ``RELEASE`` itself goes with the transaction's next statement.
        """
        self._savepoints += 1
        name = f"liucheng_{self._savepoints}"
        self.command(f"SAVEPOINT {name}")
        saved = len(self.saved)
        try:
            yield
            if self._pipeline is not None:
                self._sync()
        except BaseException:
            del self.saved[saved:]  # undone: not to be kept
            self._rollback_to(name)
            raise
        self.command(f"RELEASE SAVEPOINT {name}")

    def settle(self) -> None:
        """PostgreSQL: send what is queued and wait for it, so that the server sees the session
        idle in its transaction until the next statement (``SqlStore.calling_out``)."""
        if self.pg and self._pipeline is not None:
            self._sync()

    def _rollback_to(self, name: str) -> None:
        if self.pg and self._pipeline is not None:
            # What the failed work queued: its error is the one already being raised.
            with suppress(Exception):
                self._sync()
        self.command(f"ROLLBACK TO SAVEPOINT {name}")
        self.command(f"RELEASE SAVEPOINT {name}")
        if self.pg:
            self._sync()

    def commit(self) -> None:
        if self.pg and not self._begun:
            # No BEGIN was needed: nothing written, or one write, which as a statement by itself
            # is a transaction by itself (committed, or — a lost race — failed, as a whole).
            pending, self._pending = self._pending, None
            if pending is not None:
                if self.trace is not None:
                    self.trace("wait", "")
                    self.trace("commit", "")
                try:
                    self.cursor.execute(*pending)
                except Exception as exc:
                    _raise_lost_race(exc)
                    raise
        elif self.pg:
            self.command("COMMIT")  # behind the last queued writes: one round trip for all
            self._close_pipeline()
        else:
            if self.trace is not None:
                self.trace("statement", "COMMIT")
            self.raw.commit()

    def rollback(self) -> None:
        """Undo everything; errors are swallowed (the connection is then not reused)."""
        self._pending = None  # never sent: nothing to undo
        if self.trace is not None:
            self.trace("statement", "ROLLBACK")
        # Errors of the queued work are those of what is being undone; a connection that
        # cannot roll back is not reused (``close``).
        with suppress(Exception):
            if self._pipeline is not None:
                with suppress(Exception):
                    self._close_pipeline()
            self.raw.rollback()

    def close(self) -> None:
        """Hand the connection back (see ``connections``: rolled back if need be, or dropped)."""
        self.connections.give(self.fairy)


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
        name = self.engine.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise LiuchengError(f"Liucheng runs on SQLite or PostgreSQL, not {name}")
        self._pg = name == "postgresql"
        self._sql = _SQL[self._pg]
        self._values = _VALUES[self._pg]
        self.trace: Trace | None = None
        self._checkpointer: Checkpointer | None = None
        database = self.engine.url.database
        if not self._pg and database not in (None, "", ":memory:"):
            self._checkpointer = Checkpointer(str(database), self)
        self._connections = KeptConnections(self.engine, self._pg)
        self._local = threading.local()
        self._seen: OrderedDict[tuple[str, int], _Seen] = OrderedDict()
        self._seen_lock = threading.Lock()
        self._cases: OrderedDict[str, Instance] = OrderedDict()  # see "Cases kept between steps"

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close the pooled connections (only those of an engine this store opened)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._connections.close()
        if self._owns_engine:
            self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One database transaction for everything inside; nested ``with`` joins the outer one."""
        local = self._local
        if getattr(local, "tx", None) is not None:
            yield
            return
        tx = _Transaction(self.engine, self._connections, self._pg, self.trace)
        local.tx = tx
        try:
            try:
                yield
                tx.commit()
            except BaseException:
                tx.rollback()
                raise
            finally:
                local.tx = None
                tx.close()
        except Exception as exc:
            if tx.expiring and _connection_lost(exc):
                raise ClaimExpiredError(
                    "the database ended this worker's transaction while it held its claim "
                    "(quiet for longer than lock_for, or the connection was lost): nothing was "
                    "written, and another worker may have run the jobs since"
                ) from exc
            if tx.trusted:
                try:
                    stale = self._moved_on(tx.trusted)
                except Exception:  # the database is gone too: the step's own error is the news
                    raise exc from None
                if stale is not None:
                    raise StaleCaseError(
                        f"case '{stale}' was changed elsewhere while this step ran"
                    ) from exc
            raise
        if tx.saved:
            self._keep(tx.saved)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: what happens inside is undone alone if it raises, and the
        transaction goes on (``Engine.run_due_jobs`` fires a batch of timers in one transaction,
        each in a savepoint).  Outside one: a transaction of its own."""
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is None:
            with self.transaction():
                yield
            return
        with tx.savepoint():
            yield

    def _tx(self) -> _Transaction:
        tx: _Transaction = self._local.tx
        return tx

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[Connection]:
        """A SQLAlchemy connection: the current transaction's, or a short transaction of its own."""
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is not None:
            yield tx.core()
            return
        with self.engine.connect() as own:
            if write:
                own.execution_options(**{WRITE_OPTION: True})
            with own.begin():
                yield own

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """A query's rows: in the current transaction, or as a statement of its own."""
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is not None:
            return tx.rows(sql, params)
        trace = self.trace
        if trace is not None:
            trace("statement", sql)
        connections = self._connections
        fairy = connections.take()  # on PostgreSQL in autocommit: the statement is a transaction
        try:
            if self._pg and trace is not None:
                trace("wait", "")
            rows: list[Any] = kept_cursor(fairy).execute(sql, params).fetchall()
        finally:
            connections.give(fairy)
        return rows

    # -- deployments ----------------------------------------------------------------------------
    def add_deployment(self, record: DeploymentRecord) -> None:
        """Store a new version; two servers deploying the same process at one moment both
        computed the same version number, and the unique (process, version) key lets only one
        insert it: the other gets ConflictError and its deployment writes nothing."""
        try:
            self._insert_deployment(record)
        except IntegrityError as exc:
            raise ConflictError(
                f"'{record.process_id}' version {record.version} was deployed elsewhere at the "
                "same moment; deploy again"
            ) from exc

    def _insert_deployment(self, record: DeploymentRecord) -> None:
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
            if getattr(self._local, "tx", None) is not None:
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
            if getattr(self._local, "tx", None) is not None:
                self._lock_start_timers(conn)  # the lock order of ``start_timers``
            conn.execute(delete(_ST).where(_ST.c.process_id == process_id))
            if rows:
                conn.execute(insert(_ST), rows)

    # -- cases ----------------------------------------------------------------------------------
    def insert(self, inst: Instance) -> None:
        """Add a new case at revision 0; ``ConflictError`` if its id or business key is taken.

        ``INSERT … ON CONFLICT DO NOTHING``: no row written means the id or the (process,
        business key) pair is taken — also by a concurrent transaction, which PostgreSQL waits
        for before deciding.  The refusal undoes the whole transaction, as a lost race of
        ``save`` does, and may likewise come only where the transaction next waits, at the
        latest its commit: on PostgreSQL the insert is one statement that fails by itself
        (``pg_write``), so a start — whose only write is its insert — is that statement alone,
        a transaction by itself, without ``BEGIN`` and ``COMMIT`` round trips.  (The engine
        checks the business key before it runs the case; the refusal is for a concurrent
        start with the same key.)
        """
        written = _Written(inst, None, self._values)  # converted before the first write
        sql = self._sql
        if self._pg and not inst.externals:
            documents = written.documents(inst.history_base)
            statement = pg_write.statement("insert", pg_write.shape(documents))
            params = (*written.insert_row(), *(doc for _, doc in documents), _taken(inst))
            with self.transaction():
                self._tx().run(statement, params)
            inst.rev = 0
            written.done()
            self._remember(inst)
            self._saved(inst, written.size)
            return
        with self.transaction():
            tx = self._tx()
            if tx.changed(sql.insert_instance, written.insert_row()) != 1:
                raise ConflictError(_taken(inst))
            written.write_rows(tx, sql, replace=False)
            if inst.externals:
                _sync_externals(tx.core(), inst)
            written.append_history(tx, sql, stored=inst.history_base)
        inst.rev = 0
        written.done()
        self._remember(inst)
        self._saved(inst, written.size)

    def load(self, instance_id: str) -> Instance | None:
        """The case, with ``rev`` set and without history (see the module docstring)."""
        rows = self._rows(self._sql.load, (instance_id,))
        if not rows:
            return None
        rev, data = rows[0]
        return self._case(instance_id, rev, data)

    def _case(self, instance_id: str, rev: int, data: str) -> Instance:
        """The case whose row holds ``rev`` and ``data``: the kept object if it is at that
        revision (taken out: the caller may change it), else decoded from ``data``."""
        with self._seen_lock:
            kept = self._cases.pop(instance_id, None)
        if kept is not None and kept.rev == rev:
            return kept
        inst = instance_from_json(data)
        inst.rev = rev
        self._remember(inst)
        return inst

    def _moved_on(self, trusted: dict[str, int]) -> str | None:
        """The first of the cases handed out unread whose row is no longer at the revision
        they were kept at (read after the transaction ended)."""
        for case_id, rev in trusted.items():
            rows = self._rows(self._sql.revision, (case_id,))
            if not rows or rows[0][0] != rev:
                return case_id
        return None

    def _keep(self, saved: list[Instance]) -> None:
        """Keep the cases a transaction saved, now committed (the last object saved of each)."""
        with self._seen_lock:
            cases = self._cases
            for inst in saved:
                cases[inst.id] = inst
                cases.move_to_end(inst.id)
            while len(cases) > _CASES_KEPT:
                cases.popitem(last=False)

    def _remember(self, inst: Instance) -> None:
        with self._seen_lock:
            self._seen[(inst.id, inst.rev)] = _seen(inst)
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)

    def _recall(self, inst: Instance) -> _Seen | None:
        with self._seen_lock:
            return self._seen.pop((inst.id, inst.rev), None)

    def save(self, inst: Instance) -> None:
        """Write the case back; ``ConflictError`` if it was saved by someone else since ``load``.

        The revision-checked UPDATE goes first, and nothing else of the save is written unless
        it changed the row (see "Why the revision check is in the UPDATE's WHERE clause").  On
        PostgreSQL, for a case loaded here, the save is one statement that fails by itself on a
        lost race: the store does not wait for it, and ``ConflictError`` comes where the
        transaction next waits — at the latest its commit, which then goes in the same round
        trip as the save.  The object is changed (``rev``, ``history``) only once the save is
        known to have worked or the transaction is left to do that check; a ``save`` outside
        any transaction leaves a loser as it was.
        """
        written = _Written(inst, self._recall(inst), self._values)
        sql = self._sql
        seen = written.seen
        one_statement = (  # PostgreSQL, a case loaded here: see ``pg_write``
            self._pg
            and seen is not None
            and not seen.externals
            and not inst.externals
            and inst.history_base > 0
            and seen.key == (inst.version, inst.business_key)
        )
        with self.transaction():
            tx = self._tx()
            if one_statement:
                state, ended = inst.state.value, self._values.time(inst.ended)
                documents = written.documents(inst.history_base)
                statement = pg_write.statement("save", pg_write.shape(documents))
                params = (
                    state,
                    ended,
                    written.data(),
                    inst.id,
                    inst.rev,
                    *(doc for _, doc in documents),
                    _changed(inst),
                )
                tx.run(statement, params)
            else:
                if tx.changed(*written.update(sql)) != 1:
                    raise ConflictError(_changed(inst))
                written.write_rows(tx, sql, replace=True)
                if seen is None or seen.externals or inst.externals:
                    _sync_externals(tx.core(), inst)
                # A case loaded from this store knows how many events are stored
                # (``history_base``, checked by the revision above); a case restored from a
                # dump starts from 0 and is asked for the count.
                written.append_history(tx, sql, stored=inst.history_base or None)
        inst.rev += 1
        written.done()
        self._remember(inst)  # the same object may be saved again in this operation
        self._saved(inst, written.size)

    def _saved(self, inst: Instance, size: int) -> None:
        """Keep ``inst`` once what saved it has committed (see "Cases kept between steps"),
        unless its JSON has ``size`` characters past ``_KEPT_CASE_SIZE``."""
        if size > _KEPT_CASE_SIZE:
            return
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is not None:
            tx.saved.append(inst)
        else:
            self._keep([inst])  # saved in a transaction of its own, committed already

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
        """Every stored event of the case, in ``seq`` order (unpacked from its step rows)."""
        query = (
            select(_H.c.first_seq, _H.c.last_seq, _H.c.time, _H.c.events)
            .where(_H.c.instance_id == instance_id)
            .order_by(_H.c.first_seq)
        )
        with self._connection() as conn:
            rows = conn.execute(query).all()
        return [
            (seq, time, kind, element, token, _changes(v), detail)
            for first, last, at, events in rows
            for seq, time, kind, element, token, v, detail in history_rows.unpack(
                instance_id, first, last, at, events
            )
        ]

    # -- queries that find cases ------------------------------------------------------------
    def business_key_in_use(self, process_id: str, business_key: str) -> bool:
        return bool(self._rows(self._sql.key_in_use, (process_id, business_key)))

    def instance_of_task(self, task_id: str) -> str | None:
        """The case an *open* task belongs to."""
        rows = self._rows(self._sql.instance_of_task, (task_id,))
        found: str | None = rows[0][0] if rows else None
        return found

    def load_for_task(self, task_id: str) -> Instance | None:
        """``load`` of the case an open task belongs to, found through ``tasks`` in one query;
        inside a transaction, a kept case with that task open, unread (see "Cases kept
        between steps")."""
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is not None:
            # The engine names tasks "<case id>.<n>"; the kept case's own tasks decide.
            case_id = task_id.rpartition(".")[0]
            with self._seen_lock:
                kept = self._cases.get(case_id)
                if kept is not None and task_id in kept.tasks:
                    del self._cases[case_id]
                    tx.trusted[case_id] = kept.rev
                    return kept
        rows = self._rows(self._sql.load_for_task, (task_id,))
        if not rows:
            return None
        instance_id, rev, data = rows[0]
        return self._case(instance_id, rev, data)

    def tasks(self, query: TaskQuery) -> list[UserTask]:
        """Open tasks matching ``query``, oldest first (then by case, then creation order).

        One query: the tasks left-joined to all their candidates, so a task with three
        candidate groups comes as three rows and is put together here.  With variable filters
        and a ``limit``, one short count per filter first chooses the plan (see "Finding tasks
        by a variable's value" in the module docstring).
        """
        rows = self._rows(*self._task_query(query))
        time_out = self._values.time_out
        found: dict[str, tuple[Any, list[str], list[str]]] = {}
        for row in rows:
            entry = found.get(row[0])
            if entry is None:
                entry = found[row[0]] = (row, [], [])
            kind = row[12]
            if kind == "group":
                entry[1].append(row[13])
            elif kind == "user":
                entry[2].append(row[13])
        return [
            UserTask(
                id=row[0],
                instance_id=row[1],
                token=row[2],
                node=row[3],
                name=row[4],
                created=time_out(row[5]),
                assignee=row[6],
                candidate_groups=tuple(groups),
                candidate_users=tuple(users),
                form_key=row[7],
                due=time_out(row[8]),
                priority=row[9],
                process_id=row[10],
                business_key=row[11],
            )
            for row, groups, users in found.values()
        ]

    def explain_tasks(self, query: TaskQuery) -> list[str]:
        """The database's plan for the statement ``tasks(query)`` would run now, one line per
        step (SQLite's ``EXPLAIN QUERY PLAN``, PostgreSQL's ``EXPLAIN``): to see which index
        an inbox query uses."""
        sql, params = self._task_query(query)
        prefix = "EXPLAIN " if self._pg else "EXPLAIN QUERY PLAN "
        return [str(row[-1]) for row in self._rows(prefix + sql, params)]

    def _task_query(self, query: TaskQuery) -> tuple[str, list[Any]]:
        """The statement of ``tasks(query)``: for variable filters with a ``limit``, first one
        count per filter tells a common value (tested per task) from a rare one (driving the
        query); see "Finding tasks by a variable's value" in the module docstring."""
        typed = [_typed_filter(name, value, self._values) for name, value in query.variables]
        common = [False] * len(typed)
        if query.limit is not None and typed:
            enough = _COMMON_PER_PAGE * query.limit
            for i, (column, name, value) in enumerate(typed):
                rows = self._rows(self._sql.q(_COUNT_SQL[column]), (name, value, enough))
                common[i] = rows[0][0] >= enough
        return _task_statement(query, typed, common, self._sql, self._values.time)

    def message_waiters(self, message: str, key: str | None) -> list[tuple[str, int]]:
        """(case id, subscription id) of active cases waiting for ``message`` (and ``key``)."""
        if key is None:
            rows = self._rows(self._sql.message_waiters, (_MESSAGE, message, _ACTIVE))
        else:
            rows = self._rows(self._sql.message_waiters_by_key, (_MESSAGE, message, key, _ACTIVE))
        return [(instance_id, sub_id) for instance_id, sub_id in rows]

    def signal_waiters(self, name: str) -> list[tuple[str, int]]:
        """(case id, subscription id) of active cases waiting for the signal ``name``."""
        rows = self._rows(self._sql.message_waiters, (_SIGNAL, name, _ACTIVE))
        return [(instance_id, sub_id) for instance_id, sub_id in rows]

    def due_timers(self, now: datetime) -> list[tuple[datetime, str, int]]:
        """(due, case id, subscription id) of timers due by ``now``, earliest first."""
        values = self._values
        time_out = values.time_out
        rows = self._rows(self._sql.due_timers, (_TIMER, _JOB, values.time(now), _ACTIVE))
        return [(time_out(due), instance_id, sub_id) for due, instance_id, sub_id in rows]

    def next_due(self) -> datetime | None:
        """When the earliest timer of any active case falls due."""
        query = (
            select(func.min(schema.subscriptions.c.due))
            .join(_I, _I.c.id == schema.subscriptions.c.instance_id)
            .where(
                schema.subscriptions.c.kind.in_(_DUE_KINDS),
                schema.subscriptions.c.due.is_not(None),  # what the partial (kind, due) index holds
                _I.c.state == _ACTIVE,
            )
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

    def claim_cases(
        self, instance_ids: Sequence[str], lock_for: timedelta | None = None
    ) -> set[str]:
        """Lock the case rows no other transaction holds (``FOR UPDATE SKIP LOCKED``).

        Never waits: a row another worker locked is skipped, not queued for, so two workers
        sweeping the same due timers split them instead of waiting on each other (or
        deadlocking).  On SQLite the transaction already holds the database's write lock
        (``BEGIN IMMEDIATE``), so every case is this worker's; a worker that dies gives the
        file lock back at once, one that hangs keeps it (SQLite has no server to expire it).

        **Expiry.**  The locks are the transaction's, so they go when it ends: at once when the
        worker's process dies (its connection closes).  For a worker that stops talking to
        the server without closing (a handler that hangs, a host that vanished from the
        network), ``lock_for`` is the transaction's ``idle_in_transaction_session_timeout``:
        once it has waited that long for the worker's next statement, PostgreSQL ends the
        session, rolls the transaction back and frees the cases for the next worker's round.
        The worker that hung finds its connection gone and its step undone
        (``ClaimExpiredError``).
        """
        if not instance_ids:
            return set()
        if self.engine.dialect.name != "postgresql":
            return set(instance_ids)
        query = (
            select(_I.c.id)
            .where(_I.c.id.in_(list(instance_ids)))
            .order_by(_I.c.id)
            .with_for_update(skip_locked=True)
        )
        with self._connection(write=True) as conn:
            if lock_for is not None:
                milliseconds = max(1, round(lock_for.total_seconds() * 1000))
                conn.execute(_IDLE_TIMEOUT, {"ms": str(milliseconds)})
                tx: _Transaction | None = getattr(self._local, "tx", None)
                if tx is not None:
                    tx.expiring = True
            return {row[0] for row in conn.execute(query)}

    def calling_out(self) -> None:
        """A registered handler is about to run in this thread's step (``Environment``).

        In a transaction that holds a worker's expiring claim, what is queued is sent and
        answered first: psycopg's pipeline would otherwise leave the session busy in the
        server's eyes, and only a session idle in its transaction is ended by its
        ``idle_in_transaction_session_timeout`` (``claim_cases``).  Elsewhere nothing is
        sent: a user's step claims nothing, so it costs no round trip.
        """
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is not None and tx.expiring:
            tx.settle()

    # -- comments and attachments -----------------------------------------------------------
    # Cold paths, on SQLAlchemy Core: rows of their own, never part of the case's row, so a
    # comment never conflicts with a step of the case.
    def add_comment(self, comment: Comment) -> None:
        self._add_note(schema.comments, comment._asdict())

    def comments(self, instance_id: str) -> list[Comment]:
        return [Comment(*row) for row in self._notes(schema.comments, Comment._fields, instance_id)]

    def add_attachment(self, attachment: Attachment) -> None:
        self._add_note(schema.attachments, attachment._asdict())

    def attachments(self, instance_id: str) -> list[Attachment]:
        rows = self._notes(schema.attachments, Attachment._fields, instance_id)
        return [Attachment(*row) for row in rows]

    def _add_note(self, table: Table, row: dict[str, Any]) -> None:
        with self._connection(write=True) as conn:
            conn.execute(insert(table), row)

    def _notes(self, table: Table, fields: Sequence[str], instance_id: str) -> list[Any]:
        """A case's comment or attachment rows, oldest first, in ``fields`` order."""
        query = (
            select(*(table.c[f] for f in fields))
            .where(table.c.instance_id == instance_id)
            .order_by(table.c.created, table.c.id)
        )
        with self._connection() as conn:
            return list(conn.execute(query))

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
        return bool(self._rows(self._sql.has_buffered, ()))


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


# == the task query ============================================================================
_TASK_COLUMNS = (
    "t.id, t.instance_id, t.token, t.node, t.name, t.created, t.assignee, t.form_key, t.due,"
    " t.priority, t.process_id, t.business_key"
)
_TASK_ORDER = "t.created, t.instance_id, t.position"
# How many open tasks a variable value matches, counted up to a bound on the first plan's
# indexes (the variable's (name, value) index, then tasks by case).
_COUNT_SQL = {
    column: "SELECT count(*) FROM (SELECT 1 FROM variables v"
    " JOIN tasks t ON t.instance_id = v.instance_id"
    f" WHERE v.name = ? AND v.scope = 0 AND v.{column} = ? LIMIT ?) AS matches"
    for column in ("text_value", "number_value", "bool_value")
}


def _task_statement(
    query: TaskQuery,
    typed: list[tuple[str, str, Any]],
    common: list[bool],
    sql: _Sql,
    time: Callable[[datetime | None], Any],
) -> tuple[str, list[Any]]:
    """The SQL text and parameters of ``tasks(query)``; ``common[i]``: filter ``typed[i]`` on a
    value many open tasks share (tested per task instead of driving the query)."""
    params: list[Any] = []
    for value in (query.instance, query.assignee, query.process, query.group):
        if value is not None:
            params.append(value)
    if query.user is not None:
        params += (query.user, query.user)
    for _, name, value in typed:
        params += (name, value)
    after = query.after
    if after is not None:
        params += (time(after.created), after.instance_id, after.position)
    if query.limit is not None:
        params.append(query.limit)
    shape = (
        query.instance is not None,
        query.assignee is not None,
        query.process is not None,
        query.group is not None,
        query.user is not None,
        tuple((column, common[i]) for i, (column, _, _) in enumerate(typed)),
        after is not None,
        query.limit is not None,
    )
    return _task_sql(shape, sql.pg), params


@functools.lru_cache(maxsize=256)
def _task_sql(shape: tuple[Any, ...], pg: bool) -> str:
    """The text of a task query of one shape (which filters, which plan), written once: the
    same text every time, so psycopg prepares it on the server after a few uses."""
    instance, assignee, process, group, user, variables, after, limit = shape
    where: list[str] = []
    if instance:
        where.append("t.instance_id = ?")
    if assignee:
        where.append("t.assignee = ?")
    if process:
        where.append("t.process_id = ?")
    if group:
        where.append(
            "EXISTS (SELECT 1 FROM task_candidates g"
            " WHERE g.task_id = t.id AND g.kind = 'group' AND g.name = ?)"
        )
    if user:
        where.append(
            "(t.assignee = ? OR EXISTS (SELECT 1 FROM task_candidates u"
            " WHERE u.task_id = t.id AND u.kind = 'user' AND u.name = ?))"
        )
    for i, (column, common) in enumerate(variables):
        if common:
            where.append(
                f"EXISTS (SELECT 1 FROM variables v{i} WHERE v{i}.instance_id = t.instance_id"
                f" AND v{i}.scope = 0 AND v{i}.name = ? AND v{i}.{column} = ?)"
            )
        else:
            where.append(
                "t.instance_id IN (SELECT instance_id FROM variables"
                f" WHERE name = ? AND scope = 0 AND {column} = ?)"
            )
    if after:
        # The next page: a keyset on the inbox-order index, which both databases walk from
        # the cursor on (a row-value comparison, not an OFFSET that counts the pages before).
        where.append("(t.created, t.instance_id, t.position) > (?, ?, ?)")
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    if not limit:
        text = (
            f"SELECT {_TASK_COLUMNS}, c.kind, c.name FROM tasks t"
            f" LEFT JOIN task_candidates c ON c.task_id = t.id{condition}"
            f" ORDER BY {_TASK_ORDER}, c.kind, c.position"
        )
    else:
        # The page is chosen among tasks first, then joined to its candidates.
        text = (
            f"SELECT {_TASK_COLUMNS}, c.kind, c.name FROM"
            f" (SELECT * FROM tasks t{condition} ORDER BY {_TASK_ORDER} LIMIT ?) AS t"
            f" LEFT JOIN task_candidates c ON c.task_id = t.id"
            f" ORDER BY {_TASK_ORDER}, c.kind, c.position"
        )
    return _SQL[pg].q(text)


def _typed_filter(name: str, value: Any, values: _Values) -> tuple[str, str, Any]:
    """(column, name, value to bind) of a variable filter, via the typed columns of
    ``variables`` (text, number or boolean; dates and times as ISO text)."""
    _, _, text, number, flag, _ = _variable_row("", name, value)
    if text is not None:
        return "text_value", name, text
    if number is not None:
        return "number_value", name, values.number(number)
    if flag is not None:
        return "bool_value", name, flag
    raise LiuchengError(
        f"tasks can be found by text, number, boolean or date variables, not by "
        f"{type(value).__name__} ({name!r})"
    )


def _changed(inst: Instance) -> str:
    return f"case '{inst.id}' was changed by someone else; reload and try again"


def _lost_race(exc: Exception) -> ConflictError | None:
    """The ``ConflictError`` a PostgreSQL error stands for, if it is a lost race: a save or
    insert that failed its check (SQLSTATE 40001, raised by ``liucheng_conflict`` with the
    message the store gave it), or a transaction the server cancelled to break a deadlock
    (two transactions each waiting for a case row the other had saved — batches of timers
    meeting in different orders)."""
    state = getattr(exc, "sqlstate", None)
    if state == _SERIALIZATION_FAILURE:
        message = getattr(getattr(exc, "diag", None), "message_primary", None)
        return ConflictError(message or str(exc))
    if state == _DEADLOCK:
        return ConflictError(
            "another transaction was saving the same case at the same moment; try again"
        )
    return None


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the server ended the session (psycopg's ``OperationalError``, as
    raised or wrapped by SQLAlchemy) rather than refusing a statement."""
    import psycopg

    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return isinstance(cause, psycopg.OperationalError)


def _raise_lost_race(exc: Exception) -> None:
    """Raise the ``ConflictError`` ``exc`` stands for, if it is a lost race."""
    conflict = _lost_race(exc)
    if conflict is not None:
        raise conflict from exc


def _taken(inst: Instance) -> str:
    if inst.business_key is None:
        return f"case '{inst.id}' already exists"
    return f"process '{inst.process_id}' already has a case with business key '{inst.business_key}'"


# == one case as rows ===========================================================================
class _Written:
    """One case converted to rows, before anything is written.

    Converting first means a value that cannot be stored is refused before the first statement,
    so a refused ``save`` writes nothing even outside a transaction.  Rows are tuples in the
    column order of ``_Sql``'s statements, with times and numbers converted for the driver.
    """

    __slots__ = (
        "candidates",
        "events",
        "gone_subs",
        "gone_tasks",
        "gone_vars",
        "inst",
        "last",
        "packed",
        "seen",
        "size",
        "subs",
        "tasks",
        "values",
        "vars",
    )

    def __init__(self, inst: Instance, seen: _Seen | None, values: _Values) -> None:
        """``seen``: the rows as loaded; then only differences are converted and written.
        Without it (a case this store did not load) every row of the case is replaced."""
        self.inst = inst
        self.seen = seen
        self.values = values
        self.size = 0  # characters of the case's JSON, once ``data`` wrote it
        to_time = values.time
        cid = inst.id
        tasks: Iterable[UserTask] = inst.tasks.values()
        subscriptions: Iterable[Subscription] = inst.subscriptions.values()
        # A case's variables have rows only while it has open user tasks: the rows exist to
        # find tasks by a variable's value (see "Variable rows only while a case has tasks").
        searchable = bool(inst.tasks)
        variables: Iterable[tuple[str, Any]] = inst.variables.items() if searchable else ()
        self.gone_tasks: list[str] = []
        self.gone_subs: list[int] = []
        self.gone_vars: list[str] = []
        if seen is not None:
            self.gone_tasks = [t for t in seen.tasks if t not in inst.tasks]
            tasks = [t for t in tasks if t.id not in seen.tasks]
            subscriptions = [s for s in subscriptions if seen.subs.get(s.id) != _sub_signature(s)]
            self.gone_subs = [i for i in seen.subs if i not in inst.subscriptions]
            old = seen.variables if seen.tasks else {}  # the rows that exist now
            if searchable:
                variables = [
                    (name, value)
                    for name, value in variables
                    if name not in old or not _same_value(old[name], value)
                ]
                self.gone_vars = [n for n in old if n not in inst.variables]
            else:
                self.gone_vars = list(old)
        self.events = inst.history
        self.last = self.events[-1][0] if self.events else inst.history_base
        # The step's history row, packed now so that an event that cannot be stored is
        # refused before the first statement; ``new_events`` repacks the rare tail of a case
        # restored from a dump.
        self.packed = self._step_row(self.events) if self.events else None
        self.tasks: list[tuple[Any, ...]] = []
        self.candidates: list[tuple[Any, ...]] = []
        for t in tasks:
            self.tasks.append(
                (
                    t.id,
                    cid,
                    t.token,
                    task_position(t.id, cid),  # inbox order's last part (``TaskCursor``)
                    t.node,
                    t.name,
                    t.assignee,
                    t.form_key,
                    to_time(t.due),
                    t.priority,
                    t.process_id or inst.process_id,
                    t.business_key,
                    to_time(t.created),
                )
            )
            for kind, names in (("group", t.candidate_groups), ("user", t.candidate_users)):
                self.candidates.extend((t.id, kind, i, name) for i, name in enumerate(names))
        self.subs = [
            (cid, s.id, s.kind.value, s.message, s.key, to_time(s.due)) for s in subscriptions
        ]
        number = values.number
        self.vars: list[tuple[Any, ...]] = []
        for name, value in variables:
            if len(name) <= schema.NAME:
                _, _, text, num, flag, exact = _variable_row(cid, name, value)
                self.vars.append((cid, name, text, number(num), flag, exact))

    def data(self) -> str:
        data = instance_to_dict(self.inst, include_history=False)
        data["history_base"] = self.last
        text = plain_json(data)
        self.size = len(text)
        return text

    def insert_row(self) -> tuple[Any, ...]:
        inst = self.inst
        to_time = self.values.time
        return (
            inst.id,
            inst.process_id,
            inst.version,
            inst.business_key,
            inst.state.value,
            to_time(inst.started),
            to_time(inst.ended),
            self.data(),
        )

    def update(self, sql: _Sql) -> tuple[str, tuple[Any, ...]]:
        """The revision-checked UPDATE of the case row, and its parameters."""
        inst = self.inst
        state, ended, data = inst.state.value, self.values.time(inst.ended), self.data()
        key = (inst.version, inst.business_key)
        if self.seen is not None and self.seen.key == key:
            return sql.update_instance, (state, ended, data, inst.id, inst.rev)
        return sql.update_instance_key, (state, ended, data, *key, inst.id, inst.rev)

    def write_rows(self, tx: _Transaction, sql: _Sql, *, replace: bool) -> None:
        """Delete the rows that went, then insert (or update) the new and changed ones.

        ``replace`` (a save): the case has rows already; without ``seen`` all of them go first.
        """
        cid = self.inst.id
        if not replace:
            pass
        elif self.seen is None:
            tx.run(sql.delete_tasks_of, (cid,))
            tx.run(sql.delete_subscriptions_of, (cid,))
            tx.run(sql.delete_variables_of, (cid,))
        else:
            if self.gone_tasks:
                tx.many(sql.delete_task, [(t,) for t in self.gone_tasks])
            if self.gone_subs:
                tx.many(sql.delete_subscription, [(cid, s) for s in self.gone_subs])
            if self.gone_vars:
                tx.many(sql.delete_variable, [(cid, n) for n in self.gone_vars])
        if self.tasks:
            tx.many(sql.insert_task, self.tasks)
        if self.candidates:
            tx.many(sql.insert_candidate, self.candidates)
        if self.subs:
            tx.many(sql.upsert_subscription, self.subs)
        if self.vars:
            tx.many(sql.upsert_variable, self.vars)

    def append_history(self, tx: _Transaction, sql: _Sql, *, stored: int | None) -> None:
        if not self.events:
            return
        if stored is None:
            stored = tx.rows(sql.events_stored, (self.inst.id,))[0][0] or 0
        rows = self.new_events(stored)
        if rows:
            tx.many(sql.insert_step, rows)

    def new_events(self, stored: int) -> list[tuple[Any, ...]]:
        """The history row of the events past the ``stored`` ones (none if there are none):
        (case, first seq, last seq, time, events); a gap in the numbering is refused."""
        events = self.events
        row = self.packed
        if row is None:
            return []
        if events[0][0] <= stored:
            events = [event for event in events if event[0] > stored]
            if not events:
                return []
            row = self._step_row(events)
        first, last = row[1], row[2]
        if first != stored + 1 or last != stored + len(events):
            raise LiuchengError(
                f"case '{self.inst.id}': history events {first}..{last} "
                f"do not follow the {stored} stored"
            )
        return [row]

    def _step_row(self, events: Sequence[RawEvent]) -> tuple[Any, ...]:
        packed = history_rows.pack(events, _encode_changes)
        return (self.inst.id, events[0][0], events[-1][0], self.values.time(events[0][1]), packed)

    def documents(self, stored: int) -> list[tuple[str, str]]:
        """The rows to write as ``pg_write`` parts: (part, JSON text) for each kind of row this
        save writes, in ``pg_write.PARTS`` order; kinds without rows are left out."""
        # Rows go in with times and numbers as text already (``_pg_time``, ``_pg_number``).
        encode = plain_json
        columns = pg_write.COLUMNS
        found: list[tuple[str, str]] = []
        for part, keys in (
            ("gone_tasks", self.gone_tasks),
            ("gone_subs", self.gone_subs),
            ("gone_vars", self.gone_vars),
        ):
            if keys:
                found.append((part, encode(keys)))
        for part, rows in (
            ("tasks", self.tasks),
            ("candidates", self.candidates),
            ("subs", self.subs),
            ("vars", self.vars),
            ("history", self.new_events(stored)),
        ):
            if rows:
                names = columns[part]
                found.append((part, encode([dict(zip(names, row, strict=True)) for row in rows])))
        return found

    def done(self) -> None:
        """The case now looks as ``load`` would return it: no history in memory."""
        inst = self.inst
        inst.history_base = self.last
        inst.history = []


def _encode_changes(changed: Changes) -> str:
    """An event's changed variables as the codec JSON of an object (refuses what cannot be
    stored)."""
    return encode_value(changes_dict(changed))


def _changes(stored: str | None) -> Changes | None:
    """An event's changed variables, stored as a JSON object, as the engine's ``Changes``."""
    if stored is None:
        return None
    return flat_changes(decode_value(stored))


def _same_value(old: Any, new: Any) -> bool:
    """Whether a variable is unchanged since load (the engine replaces values, never edits)."""
    if old is new:
        return True
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:  # pragma: no cover - exotic values: treat as changed
        return False


def _variable_row(
    instance_id: str, name: str, value: Any
) -> tuple[str, str, str | None, Decimal | None, bool | None, str]:
    """A process variable with its value typed for queries: (case, name, text, number, boolean,
    exact value as codec JSON)."""
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
    return (instance_id, name, text, number, flag, exact)
