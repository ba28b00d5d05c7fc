"""The migrations create exactly the schema that ``liucheng.runtime.schema`` describes.

Two checks on each database: Alembic's own comparison of the migrated database with the
metadata finds no difference, and SQLAlchemy's inspection of a migrated database matches that
of a database made directly from the metadata (tables, columns and their types, nullability,
primary keys, foreign keys, unique constraints and indexes).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from liucheng.runtime import connect, upgrade
from liucheng.runtime.schema import metadata


def describe(engine: sa.Engine, schema: str | None = None) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    result: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        if table == "alembic_version":
            continue
        pk = inspector.get_pk_constraint(table, schema=schema)
        result[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(table, schema=schema)
            ],
            "pk": pk["constrained_columns"],
            "fks": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table, schema=schema)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table, schema=schema)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table, schema=schema)
            ),
        }
    return result


def assert_no_difference(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_sqlite_migrations_match_the_schema(tmp_path: Path) -> None:
    migrated = connect(f"sqlite:///{tmp_path / 'migrated.db'}")
    direct = connect(f"sqlite:///{tmp_path / 'direct.db'}")
    try:
        upgrade(migrated)
        metadata.create_all(direct)
        assert describe(migrated) == describe(direct)
        assert set(describe(migrated)) == set(metadata.tables)
        assert_no_difference(migrated)
        upgrade(migrated)  # already at head: nothing to do
    finally:
        migrated.dispose()
        direct.dispose()


def test_postgresql_migrations_match_the_schema(postgres_engine: sa.Engine) -> None:
    """The session database was migrated by ``upgrade``; build the reference in a schema."""
    reference = f"reference_{uuid.uuid4().hex[:8]}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{reference}"'))
    try:
        direct = postgres_engine.execution_options(schema_translate_map={None: reference})
        metadata.create_all(direct)
        assert describe(postgres_engine) == describe(postgres_engine, reference)
        assert set(describe(postgres_engine)) == set(metadata.tables)
        assert_no_difference(postgres_engine)
    finally:
        with postgres_engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{reference}" CASCADE'))
