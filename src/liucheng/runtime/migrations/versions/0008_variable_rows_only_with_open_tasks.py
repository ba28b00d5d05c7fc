"""A case's ``variables`` rows are kept only while it has open user tasks.

The rows exist for one question, "the tasks of cases whose variable has this value"
(``TaskQuery.variables``), and a case without an open task has no task to find.  Keeping the
rows of every case that ever ran meant that each step which changed a text variable wrote a
page of the ``(name, text_value)`` index for it — the largest single writer of pages on the
access-pass benchmark (SQLite, migration 0007's notes) — into an index that grew with every
case ever run rather than with the open ones.  From this revision ``SqlStore.save`` writes a
case's variable rows when it has open tasks and deletes them all when it has none (see
"Variable rows only while a case has tasks" in ``sql_store``).

This migration deletes the rows of the cases that have no open task now, so every case is as
the new code expects.  The schema does not change.  Downgrading writes nothing back (the
values are only in each case's JSON): under the old code a case without open tasks that gets
one again can be found only by the variables its later steps change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM variables WHERE NOT EXISTS"
        " (SELECT 1 FROM tasks WHERE tasks.instance_id = variables.instance_id)"
    )


def downgrade() -> None:
    pass
