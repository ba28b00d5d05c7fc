"""``tasks (process_id, due)`` replaces ``tasks (process_id)`` and ``tasks (due)``.

Every index of ``tasks`` is written when a task is created and when it is completed, and on
SQLite each index written is a page the step's commit writes to disk (two ``write`` calls to
the WAL).  ``tasks (due)`` was read by no query, yet on the access-pass benchmark, whose tasks
all carry a due date, it cost 3.5 of the 56 pages a case wrote (one per commit).  One index on
``(process_id, due)`` answers what the two did: the tasks of a process (``TaskQuery.process``,
on its first column, as before), and the tasks of a process due by a time, in due order (both
columns) — a process's deadlines are what its model sets.  Measured on the access-pass
benchmark (SQLite, 300 cases, pages counted in the WAL): 55.7 → 52.2 pages a case; the new
index costs the pages the process index did (its entries for one process are in due order,
and due dates grow with creation, so they are appended at its end).

Tasks of every process by due date no longer have an index of their own; SQLite can still
skip-scan the new index process by process (after ``ANALYZE``), and a query across processes
can ask per process.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_process_id_due", "tasks", ["process_id", "due"])
    op.drop_index("ix_tasks_process_id", table_name="tasks")
    op.drop_index("ix_tasks_due", table_name="tasks")


def downgrade() -> None:
    where = sa.text("due IS NOT NULL")
    op.create_index("ix_tasks_due", "tasks", ["due"], sqlite_where=where, postgresql_where=where)
    op.create_index("ix_tasks_process_id", "tasks", ["process_id"])
    op.drop_index("ix_tasks_process_id_due", table_name="tasks")
