"""History as one row per engine step instead of one row per event.

A step appends 10 to 15 events on the access-pass benchmark; each was a row with its key
entry (on SQLite about 12 of the 52 pages a case wrote) and, on PostgreSQL, a foreign-key
check.  Now a step is one row: the events ``first_seq`` to ``last_seq``, the ``time`` of the
first, and the events themselves as a JSON array (layout in ``runtime/history_rows``).

Upgrade packs the existing rows of a case: consecutive events with one time (the events of
one step share their time) become one row.  Downgrade unpacks every row into its events again,
with their own times.  Both copy through a table under a temporary name, a page of rows at a
time, so a large history does not have to fit in memory.  The layout is spelled out here, not
imported: a migration must keep converting the rows of its own time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from liucheng.runtime.types import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID, NAME = 64, 255  # ``schema.ID`` and ``schema.NAME`` at this revision
PAGE = 5000
OLD = "history_before_0011"
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _per_event(name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), *_per_event_columns())


def _per_event_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("instance_id", sa.String(ID), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("time", UtcDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("element", sa.String(NAME)),
        sa.Column("token", sa.Integer),
        sa.Column("variables", sa.Text),
        sa.Column("detail", sa.Text),
    ]


def _per_step(name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), *_per_step_columns())


def _per_step_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("instance_id", sa.String(ID), nullable=False),
        sa.Column("first_seq", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("time", UtcDateTime, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
    ]


def _set_aside() -> None:
    """Rename the current table out of the way (on PostgreSQL its primary key's index too,
    whose name the new table's key takes)."""
    op.rename_table("history", OLD)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX pk_history RENAME TO pk_{OLD}")


def _create(columns: list[sa.Column[Any]], key: str) -> None:
    op.create_table(
        "history",
        *columns,
        sa.PrimaryKeyConstraint("instance_id", key, name="pk_history"),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name="fk_history_instance_id_instances",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=False,
    )


def _pages(table: sa.Table, key: str) -> Iterator[list[sa.Row[Any]]]:
    """All rows of ``table`` in (case, ``key``) order, a page at a time (keyset paging)."""
    conn = op.get_bind()
    query = sa.select(table).order_by(table.c.instance_id, table.c[key]).limit(PAGE)
    after: tuple[str, int] | None = None
    while True:
        page = query
        if after is not None:
            page = query.where(sa.tuple_(table.c.instance_id, table.c[key]) > after)
        rows = list(conn.execute(page))
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = (rows[-1].instance_id, getattr(rows[-1], key))


def upgrade() -> None:
    _set_aside()
    _create(_per_step_columns(), "first_seq")
    old, new = _per_event(OLD), _per_step("history")
    conn = op.get_bind()
    step: list[Any] = []  # the events of the row being gathered
    for rows in _pages(old, "seq"):
        out: list[dict[str, Any]] = []
        for row in rows:
            if step and (
                row.instance_id != step[0].instance_id
                or row.time != step[0].time
                or row.seq != step[-1].seq + 1
            ):
                out.append(_pack(step))
                step = []
            step.append(row)
        if out:
            conn.execute(sa.insert(new), out)
    if step:
        conn.execute(sa.insert(new), [_pack(step)])
    op.drop_table(OLD)


def _pack(events: list[Any]) -> dict[str, Any]:
    packed = []
    for e in events:
        entry = [e.kind, e.element, e.token, e.variables, e.detail]
        while entry[-1] is None:
            entry.pop()
        packed.append(entry)
    first = events[0]
    return {
        "instance_id": first.instance_id,
        "first_seq": first.seq,
        "last_seq": events[-1].seq,
        "time": first.time,
        "events": _ENCODE(packed),
    }


def downgrade() -> None:
    _set_aside()
    _create(_per_event_columns(), "seq")
    old, new = _per_step(OLD), _per_event("history")
    conn = op.get_bind()
    for rows in _pages(old, "first_seq"):
        out: list[dict[str, Any]] = []
        for row in rows:
            out.extend(_unpack(row.instance_id, row.first_seq, row.time, row.events))
        conn.execute(sa.insert(new), out)
    op.drop_table(OLD)


def _unpack(instance_id: str, first: int, time: datetime, events: str) -> list[dict[str, Any]]:
    found = []
    for seq, entry in enumerate(json.loads(events), first):
        kind, element, token, variables, detail, offset = (*entry, None, None, None, None, None)[:6]
        found.append(
            {
                "instance_id": instance_id,
                "seq": seq,
                "time": time if offset is None else time + timedelta(microseconds=offset),
                "kind": kind,
                "element": element,
                "token": token,
                "variables": variables,
                "detail": detail,
            }
        )
    return found
