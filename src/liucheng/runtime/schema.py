"""The database schema of the durable runtime, as SQLAlchemy Core tables.

A case is one row of ``instances``: its whole state as JSON (``data``, without history) and a
revision number (``rev``) that guards it against lost updates (see ``sql_store``).  The other
tables are written in the same transaction as that row and exist so that questions can be
answered without reading every case:

* ``tasks`` / ``task_candidates``: the open user tasks, for inboxes (by assignee, candidate
  group or user, process, case, a process's tasks by due date; and in inbox order, oldest
  first, for paging);
  indexes that would hold many NULL entries (assignee, due, …) are partial, see ``_only``;
* ``subscriptions``: the messages and timers each case waits for, so correlation and the timer
  loop find their cases with an index;
* ``variables``: the process-scope variables with a typed value, so open tasks can be found by
  a variable of their case (text, number, boolean; the exact value is in ``json``); only cases
  with open user tasks have rows here (migration 0008);
* ``history``: every event of every case, append-only, numbered per case; one row per engine
  step holds the step's events ``first_seq`` to ``last_seq`` (migration 0011, ``history_rows``).

On SQLite the tables found by their primary key (``tasks``, ``task_candidates``,
``subscriptions``, ``variables``, ``history``) are ``WITHOUT ROWID``: the key is the table, not
a second B-tree beside it, so a row written is one B-tree written less (migration 0007).

``deployments`` keeps each deployed version with its source file, so a restarted engine
compiles exactly what ran before; ``start_timers`` keeps the timer start events waiting to
start cases; ``message_buffer`` keeps messages published before any case waited for them,
until they expire; ``external_tasks`` holds the work waiting for outside workers, with the lock
a worker took on it (locks live only here, so fetching does not rewrite the case).

The schema is created and changed only by the Alembic migrations in ``migrations/``; the tests
check that the migrations produce exactly these tables.  Constraint and index names follow one
naming convention, so later migrations can refer to them on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from liucheng.runtime.types import ExactNumber, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths of indexed text columns.  PostgreSQL refuses index entries over ~2700 bytes, so a
# text variable longer than TEXT_VALUE_MAX characters is stored in ``json`` only.
ID = 64
NAME = 255
TEXT_VALUE_MAX = 500

metadata = MetaData(naming_convention=NAMING_CONVENTION)

deployments = Table(
    "deployments",
    metadata,
    # A surrogate key only to keep "oldest first" exact for versions deployed in the same instant.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("process_id", String(NAME), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", Text),
    Column("content_hash", String(64), nullable=False),
    Column("source", LargeBinary, nullable=False),
    Column("source_name", Text),
    Column("language", String(32), nullable=False),
    Column("deployed", UtcDateTime, nullable=False),
    UniqueConstraint("process_id", "version"),
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("process_id", String(NAME), nullable=False),
    Column("version", Integer, nullable=False),
    Column("business_key", Text),
    Column("state", String(16), nullable=False),
    Column("started", UtcDateTime, nullable=False),
    Column("ended", UtcDateTime),
    Column("rev", Integer, nullable=False),  # the optimistic lock: +1 on every save
    Column("data", Text, nullable=False),  # the case as JSON, without its history
    # NULL keys are distinct in both databases: any number of cases may have no key.
    UniqueConstraint("process_id", "business_key"),
)


def _only(column: str) -> dict[str, Any]:
    """A partial index's options: only rows where ``column`` is set (migration 0004).

    Every index entry is written on every insert and delete of its row, and each page written
    is a page the commit writes to disk; an entry under NULL is one no query looks for.  Each
    query on these indexes compares the column (``= ?``, ``<= ?``), which both databases know to
    imply ``IS NOT NULL``, so it can use them.
    """
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


def _case() -> ForeignKey:
    """A reference to the case; its rows go when the case row goes."""
    return ForeignKey("instances.id", ondelete="CASCADE")


tasks = Table(
    "tasks",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("token", Integer, nullable=False),
    Column("position", Integer, nullable=False),  # creation order within its case
    Column("node", String(NAME), nullable=False),
    Column("name", Text),
    Column("assignee", String(NAME)),
    Column("form_key", Text),
    Column("due", UtcDateTime),
    Column("priority", Integer, nullable=False),
    Column("process_id", String(NAME), nullable=False),
    Column("business_key", Text),
    Column("created", UtcDateTime, nullable=False),
    Index(None, "assignee", **_only("assignee")),
    # A process's tasks, and those of them due by a time (migration 0010: one index where
    # ``process_id`` and ``due`` had one each, and the one on ``due`` served no query).
    Index(None, "process_id", "due"),
    Index(None, "instance_id"),
    # Inbox order (``ORDER BY created, instance_id, position``): a page of tasks without
    # sorting every match (migration 0004).
    Index(None, "created", "instance_id", "position"),
    sqlite_with_rowid=False,  # the key is the table: one B-tree less (migration 0007)
)

task_candidates = Table(
    "task_candidates",
    metadata,
    Column("task_id", String(128), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # 'group' or 'user'
    Column("position", Integer, nullable=False),  # order in the task's list of that kind
    Column("name", String(NAME), nullable=False),
    PrimaryKeyConstraint("task_id", "kind", "position"),
    Index(None, "kind", "name"),
    sqlite_with_rowid=False,
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("sub_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # 'message' or 'timer'
    Column("message", String(NAME)),
    Column("key", Text),
    Column("due", UtcDateTime),
    PrimaryKeyConstraint("instance_id", "sub_id"),
    Index(None, "kind", "message", "key", **_only("message")),
    Index(None, "kind", "due", **_only("due")),
    sqlite_with_rowid=False,
)

history = Table(
    "history",
    metadata,
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("first_seq", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("time", UtcDateTime, nullable=False),  # of the step's first event
    Column("events", Text, nullable=False),  # the step's events, see ``history_rows``
    PrimaryKeyConstraint("instance_id", "first_seq"),
    sqlite_with_rowid=False,
)

start_timers = Table(
    "start_timers",
    metadata,
    Column("process_id", String(NAME), nullable=False),
    Column("node", String(NAME), nullable=False),
    Column("due", UtcDateTime, nullable=False),
    Column("cycle", Text),
    Column("armed", UtcDateTime, nullable=False),
    Column("fired", Integer, nullable=False),
    PrimaryKeyConstraint("process_id", "node"),
)

variables = Table(
    "variables",
    metadata,
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("scope", Integer, nullable=False),  # 0: the process scope (the only one written yet)
    Column("name", String(NAME), nullable=False),
    Column("text_value", String(TEXT_VALUE_MAX)),  # text, and dates/times as ISO text in UTC
    Column("number_value", ExactNumber),
    Column("bool_value", Boolean),
    Column("json", Text, nullable=False),  # the exact value, as codec JSON
    PrimaryKeyConstraint("instance_id", "scope", "name"),
    Index(None, "name", "text_value", **_only("text_value")),
    Index(None, "name", "number_value", **_only("number_value")),
    sqlite_with_rowid=False,
)

message_buffer = Table(
    "message_buffer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # publication order
    Column("message", String(NAME), nullable=False),
    Column("key", Text),
    Column("variables", Text, nullable=False),  # codec JSON
    Column("published", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime, nullable=False),
    Index(None, "message", "key"),
    Index(None, "expires"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("task_id", String(128)),
    Column("author", String(NAME), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Index(None, "instance_id", "created"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("task_id", String(128)),
    Column("author", String(NAME), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("media_type", String(NAME), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("uri", Text, nullable=False),
    Index(None, "instance_id", "created"),
)

external_tasks = Table(
    "external_tasks",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("instance_id", String(ID), _case(), nullable=False),
    Column("topic", String(NAME), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("available", UtcDateTime),  # not handed out before (back-off after a failure)
    Column("lock_owner", String(NAME)),
    Column("lock_expires", UtcDateTime),
    Index(None, "topic", "created"),
    Index(None, "instance_id"),
)
