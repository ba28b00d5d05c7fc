"""``tasks.position`` becomes the task's number in its case, so inbox order has no ties.

Inbox order is ``created, instance_id, position`` (``liucheng.store.TaskCursor``), and the next
page of an inbox is "the tasks after the last one's key" — which finds every task exactly once
only if no two open tasks share a key.  ``position`` used to be the task's index among its
case's open tasks when it was written: with tasks a (0) and b (1) open, completing a and
creating c gave c the index 1, b's too, and on a frozen clock (or two tasks created in one
instant) b and c then had the same key.  Now ``position`` is the ``<n>`` of the task's id
``<case id>.<n>``: the engine counts it up in each case, so it is unique there and follows
the order the case created its tasks.

This migration rewrites the position of every open task the same way (an id of another shape
gets 0, as ``liucheng.store.task_position`` gives it).  The schema itself does not change.
Downgrading keeps the new numbers: they are valid positions for the old code too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The part of the id after "<case id>.", and whether it is a number, in each dialect.
_NUMBER = "substr(id, length(instance_id) + 2)"
_IS_NUMBER = {
    "sqlite": f"{_NUMBER} <> '' AND {_NUMBER} NOT GLOB '*[^0-9]*'",
    "postgresql": f"{_NUMBER} ~ '^[0-9]+$'",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    own_prefix = "substr(id, 1, length(instance_id) + 1) = instance_id || '.'"
    op.execute(
        f"UPDATE tasks SET position = CASE WHEN {own_prefix} AND {_IS_NUMBER[dialect]}"
        f" THEN CAST({_NUMBER} AS INTEGER) ELSE 0 END"
    )


def downgrade() -> None:
    pass
