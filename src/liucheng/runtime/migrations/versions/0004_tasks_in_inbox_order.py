"""Indexes for paging inboxes, and fewer index entries written per step.

1. ``tasks (created, instance_id, position)``.  An inbox lists open tasks oldest first —
   ``ORDER BY created, instance_id, position`` — and shows a page of them.  Without an index in
   that order the database must fetch and sort every task that matches before it can return
   the first page, which is fast when few tasks match and slow when many do: the tasks of cases
   whose ``applicant_type`` is ``external``, a third of a million open tasks, took 0.6 s to
   page.  With this index ``SqlStore.tasks`` walks the tasks oldest first and stops after a
   page (see "Finding tasks by a variable's value" in ``sql_store``).

2. Six indexes become *partial*: they keep only the rows a query can look for.
   ``variables (name, text_value)`` only text values, ``variables (name, number_value)`` only
   numbers, ``tasks (assignee)`` only assigned tasks, ``tasks (due)`` only tasks with a due
   date, ``subscriptions (kind, message, key)`` only message waits and ``subscriptions (kind,
   due)`` only waits with a due time.  Each was written for every row before — a number
   variable had an entry in the text index, under NULL — and every entry written is a page
   that a step's commit writes to disk.  Every query on them compares the column
   (``text_value = ?``, ``due <= ?``), which both databases know to imply ``IS NOT NULL``, so
   they still use them.  On the access-pass benchmark this cut the pages a SQLite commit writes
   by a fifth.

Nothing else changes: no data is rewritten; the indexes are built again from the tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, columns, the rows it keeps)
PARTIAL = (
    ("ix_variables_name_text_value", "variables", ["name", "text_value"], "text_value"),
    ("ix_variables_name_number_value", "variables", ["name", "number_value"], "number_value"),
    ("ix_tasks_assignee", "tasks", ["assignee"], "assignee"),
    ("ix_tasks_due", "tasks", ["due"], "due"),
    ("ix_subscriptions_kind_message_key", "subscriptions", ["kind", "message", "key"], "message"),
    ("ix_subscriptions_kind_due", "subscriptions", ["kind", "due"], "due"),
)


def upgrade() -> None:
    op.create_index(
        "ix_tasks_created_instance_id_position", "tasks", ["created", "instance_id", "position"]
    )
    for name, table, columns, kept in PARTIAL:
        where = sa.text(f"{kept} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, columns, _ in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    op.drop_index("ix_tasks_created_instance_id_position", table_name="tasks")
