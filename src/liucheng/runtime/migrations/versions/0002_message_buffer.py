"""Buffered messages: ``message_buffer``.

A message published before any case waits for it (``Engine.publish``) is kept, with its
variables as codec JSON, until it expires; the first case that comes to wait for it takes it.
Indexed by (message, key) for that lookup and by ``expires`` for clearing out old ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liucheng.runtime.types import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 255


def upgrade() -> None:
    op.create_table(
        "message_buffer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message", sa.String(NAME), nullable=False),
        sa.Column("key", sa.Text()),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("published", UtcDateTime(), nullable=False),
        sa.Column("expires", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_buffer"),
    )
    op.create_index("ix_message_buffer_message_key", "message_buffer", ["message", "key"])
    op.create_index("ix_message_buffer_expires", "message_buffer", ["expires"])


def downgrade() -> None:
    op.drop_index("ix_message_buffer_expires", table_name="message_buffer")
    op.drop_index("ix_message_buffer_message_key", table_name="message_buffer")
    op.drop_table("message_buffer")
