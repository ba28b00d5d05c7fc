"""Comments and attachments on cases: ``comments``, ``attachments``.

What people write on a case or one of its tasks ("called the applicant, plate corrected"), and
the metadata of files they attach (name, media type, size, where the file is kept: a URI or a
storage key; the bytes themselves live in a file store, not here).  Rows of their own, never
part of the case's JSON, so adding one never conflicts with someone completing a task of the
case at the same moment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liucheng.runtime.types import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
NAME = 255


def _notes(name: str, *columns: sa.Column[object]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("instance_id", sa.String(ID), nullable=False),
        sa.Column("task_id", sa.String(128)),
        sa.Column("author", sa.String(NAME), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=f"fk_{name}_instance_id_instances",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_instance_id_created", name, ["instance_id", "created"])


def upgrade() -> None:
    _notes("comments", sa.Column("text", sa.Text(), nullable=False))
    _notes(
        "attachments",
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("media_type", sa.String(NAME), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for name in ("attachments", "comments"):
        op.drop_index(f"ix_{name}_instance_id_created", table_name=name)
        op.drop_table(name)
