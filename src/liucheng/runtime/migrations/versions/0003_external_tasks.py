"""External tasks: ``external_tasks``.

Work a service task leaves to a worker outside the engine (``camunda:type="external"`` with a
topic): one row per open external task, written with its case, with the topic and creation time
workers fetch by (indexed), the time it becomes available again after a failure, and the lock a
worker took on it.  Locks live only in this table, so fetching does not rewrite the case.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liucheng.runtime.types import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
NAME = 255


def upgrade() -> None:
    op.create_table(
        "external_tasks",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("instance_id", sa.String(ID), nullable=False),
        sa.Column("topic", sa.String(NAME), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("available", UtcDateTime()),
        sa.Column("lock_owner", sa.String(NAME)),
        sa.Column("lock_expires", UtcDateTime()),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name="fk_external_tasks_instance_id_instances",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_external_tasks"),
    )
    op.create_index("ix_external_tasks_topic_created", "external_tasks", ["topic", "created"])
    op.create_index("ix_external_tasks_instance_id", "external_tasks", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_external_tasks_instance_id", table_name="external_tasks")
    op.drop_index("ix_external_tasks_topic_created", table_name="external_tasks")
    op.drop_table("external_tasks")
