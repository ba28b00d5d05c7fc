"""Alembic's entry point for Liucheng's schema migrations.

``liucheng.runtime.database.upgrade`` builds the Alembic configuration in code and passes an open
connection in ``config.attributes["connection"]``; this file runs the migrations on it.  Run
from the ``alembic`` command line instead (``-x url=...`` or ``sqlalchemy.url``), it opens the
database with ``database.connect`` so SQLite gets the same settings as at run time.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from liucheng.runtime.database import connect
from liucheng.runtime.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can change few things with ALTER TABLE; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = connect(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Liucheng's migrations run against a database, not as an SQL script")
run_migrations_online()
