"""PostgreSQL: ``liucheng_conflict(message)``, which raises a serialization failure.

``SqlStore.save`` on PostgreSQL is one statement (``sql_store._PG_WRITE``) whose other parts
run only if the revision-checked UPDATE changed the case row.  Until now the store read that
statement's row count before sending ``COMMIT``: a completion waited for the server three
times (``BEGIN`` and the load; the save; ``COMMIT``).  With this function the statement itself
fails when the UPDATE changed nothing — ``CASE WHEN … THEN 1 ELSE liucheng_conflict(…) END``,
evaluated only on that branch — so the store queues ``COMMIT`` right behind the save and waits
once for both (two round trips).  A failed statement aborts the transaction, the queued
``COMMIT`` is skipped by the server, and the store turns the error (SQLSTATE 40001,
``serialization_failure``, with the message naming the case) into ``ConflictError``.  The same
holds for ``insert`` of a case whose id or business key is taken.

The function is ``VOLATILE`` (the default): PostgreSQL never calls it while planning, only when
its branch is taken.  Nothing changes on SQLite, which waits for no server.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION liucheng_conflict(message text) RETURNS integer"
        " LANGUAGE plpgsql AS $$ BEGIN"
        " RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message;"
        " END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS liucheng_conflict(text)")
