"""SQLite: the tables whose primary key is how their rows are found become ``WITHOUT ROWID``.

An ordinary SQLite table is a B-tree keyed by a hidden integer ``rowid``; a primary key of other
columns is a second B-tree beside it, so every row written is written twice: once in the table,
once in its key.  ``history`` (instance_id, seq), ``variables`` (instance_id, scope, name),
``subscriptions`` (instance_id, sub_id), ``task_candidates`` (task_id, kind, position) and
``tasks`` (id) are only ever looked up by their key or by their secondary indexes, never by
``rowid``; as ``WITHOUT ROWID`` tables the key *is* the table, one B-tree less per table.  On the
access-pass benchmark that is 11 of the 76 pages each case's commits write to the WAL (the
pages of the history's key and of the variables' key were a fifth of them).

Each table is rebuilt the same way (SQLite cannot change this in place): a copy made from the
table's own ``CREATE TABLE`` text with ``WITHOUT ROWID`` added, the rows copied, the old table
dropped, the copy renamed, the indexes created again from their own text.  ``task_candidates``
refers to ``tasks``: its rows wait in a temporary table while ``tasks`` is rebuilt (dropping a
table that rows refer to would delete those rows, ``ON DELETE CASCADE``), then it is rebuilt
after it.  Nothing changes on PostgreSQL, whose tables have no rowid.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Children before parents: ``task_candidates`` refers to ``tasks``.
TABLES = ("history", "variables", "subscriptions", "task_candidates", "tasks")
WITHOUT_ROWID = " WITHOUT ROWID"
# The head of a table's ``CREATE TABLE`` text, its name quoted or not (SQLite quotes it after a
# rename).
_HEAD = re.compile(r'^CREATE TABLE\s+"?\w+"?\s*\(')


def upgrade() -> None:
    _rebuild(rowid=False)


def downgrade() -> None:
    _rebuild(rowid=True)


def _rebuild(*, rowid: bool) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    conn.execute(text("CREATE TEMP TABLE liucheng_candidates AS SELECT * FROM task_candidates"))
    candidates = _definition(conn, "task_candidates")
    conn.execute(text("DROP TABLE task_candidates"))
    for table in ("history", "variables", "subscriptions", "tasks"):
        table_sql, indexes = _definition(conn, table)
        new = f"{table}__rebuilt"
        conn.execute(text(_HEAD.sub(f"CREATE TABLE {new} (", _form(table_sql, rowid), count=1)))
        conn.execute(text(f"INSERT INTO {new} SELECT * FROM {table}"))
        conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text(f"ALTER TABLE {new} RENAME TO {table}"))
        for index_sql in indexes:
            conn.execute(text(index_sql))
    table_sql, indexes = candidates
    conn.execute(
        text(_HEAD.sub("CREATE TABLE task_candidates (", _form(table_sql, rowid), count=1))
    )
    conn.execute(text("INSERT INTO task_candidates SELECT * FROM liucheng_candidates"))
    conn.execute(text("DROP TABLE liucheng_candidates"))
    for index_sql in indexes:
        conn.execute(text(index_sql))


def _definition(conn: Connection, table: str) -> tuple[str, list[str]]:
    """The table's ``CREATE TABLE`` text and its explicit indexes' ``CREATE INDEX`` texts."""
    rows = conn.execute(
        text("SELECT type, sql FROM sqlite_master WHERE tbl_name = :t AND sql IS NOT NULL"),
        {"t": table},
    ).all()
    table_sql = next(sql for kind, sql in rows if kind == "table")
    return table_sql, [sql for kind, sql in rows if kind == "index"]


def _form(table_sql: str, rowid: bool) -> str:
    body = table_sql.rstrip()
    if body.endswith(WITHOUT_ROWID):
        body = body[: -len(WITHOUT_ROWID)].rstrip()
    return body if rowid else body + WITHOUT_ROWID
