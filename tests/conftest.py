"""Fixtures shared by every test folder: the databases a ``SqlStore`` runs on.

PostgreSQL runs against ``$LIUCHENG_TEST_POSTGRES_URL`` or the local server with trust
authentication; the session gets a database of its own (``liucheng_test_<random>``, dropped at
the end) and each test starts from empty tables.  If no server answers, the PostgreSQL tests are
skipped — except in CI (``$CI`` set), where they fail: CI must run them.

SQLite tests each get a file of their own, copied from one migrated at the start of the session
(running the migrations for every test would cost more than the tests).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from liucheng.runtime import SqlStore, connect, upgrade
from liucheng.runtime.schema import metadata

POSTGRES_URL = os.environ.get(
    "LIUCHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- databases ----------------------------------------------------------------------------------
def _postgres_admin() -> sa.Engine:
    engine = connect(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: the PostgreSQL tests must run)")
        pytest.skip(message)
    return engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, migrated to the newest schema."""
    admin = _postgres_admin()
    name = f"liucheng_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = connect(postgres_url)
    yield engine
    engine.dispose()


def _empty(engine: sa.Engine) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "liucheng.db"
    engine = connect(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "liucheng.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SqlStore]:
    store = SqlStore(sqlite_url)
    yield store
    store.close()


@pytest.fixture
def postgresql_store(postgres_engine: sa.Engine) -> Iterator[SqlStore]:
    _empty(postgres_engine)
    store = SqlStore(postgres_engine)
    yield store
    # The connections a store keeps stay checked out of the session's pool until it is
    # closed (or collected, which may be many tests later): close it, or the pool runs dry.
    store.close()
