"""Connections that died while idle are replaced before anyone uses them; the connections a
store keeps between operations (``runtime.connections``) are reused, kept clean and given back.

``runtime.database`` pings a connection on checkout only when it sat idle in the pool for more
than ``PING_AFTER_IDLE`` seconds (a ping on every checkout would be a round trip more per step);
a store's kept connections are pinged by the same rule.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa

from liucheng.runtime import SqlStore, database
from liucheng.runtime.connections import kept_cursor
from liucheng.store import TaskQuery


def _backend(store: SqlStore) -> int:
    """The server process of the connection the store uses next."""
    pid: int = store._rows("SELECT pg_backend_pid()", ())[0][0]
    return pid


def _terminate(admin: sa.Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_the_server_closed_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(postgres_url)
    admin = sa.create_engine(postgres_url)
    try:
        assert store.tasks(TaskQuery(instance="none")) == []
        # One the store keeps, and one idle in the pool (for the statements of Core).
        kept = _backend(store)
        with store.engine.connect() as conn:
            pooled = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        assert pooled != kept
        _terminate(admin, kept)
        _terminate(admin, pooled)
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)

        assert store.tasks(TaskQuery(instance="none")) == []
        with store.transaction():
            assert store.load("none") is None
            assert store.deployments() == []  # through Core, on the transaction's connection
        assert store.deployments() == []  # through Core, from the pool
        assert _backend(store) not in (kept, pooled)
    finally:
        store.close()
        admin.dispose()


def test_a_store_reuses_its_connection_and_gives_it_back_on_close(postgres_url: str) -> None:
    store = SqlStore(postgres_url)
    try:
        first = _backend(store)
        with store.transaction():
            assert store.load("none") is None
            assert _backend(store) == first  # the transaction's own connection
        assert _backend(store) == first
        assert store.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        # A transaction that fails leaves no transaction open on the kept connection.
        with pytest.raises(RuntimeError), store.transaction():
            store._rows("SELECT 1", ())
            raise RuntimeError("undo")
        raw = store._connections.take()
        try:
            assert raw.driver_connection.info.transaction_status == 0  # idle
            assert raw.driver_connection.autocommit
        finally:
            store._connections.give(raw)
    finally:
        store.close()
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["sqlite_url", "postgres_url"])
def test_a_kept_connection_runs_every_statement_on_one_cursor(
    url: str, request: pytest.FixtureRequest
) -> None:
    """Made once per connection; a failed statement leaves it usable, and a connection the
    pool replaces comes with a cursor of its own."""
    store = SqlStore(request.getfixturevalue(url))
    try:
        assert store._rows("SELECT 1", ()) == [(1,)]
        fairy = store._connections.take()
        cursor = kept_cursor(fairy)
        assert kept_cursor(fairy) is cursor
        store._connections.give(fairy)
        with store.transaction():
            assert store.load("none") is None
            assert store._tx().cursor is cursor
        with pytest.raises((sqlite3.Error, psycopg.Error)), store.transaction():
            store._rows("SELECT no_such_column FROM instances", ())
        assert store._rows("SELECT 2", ()) == [(2,)]
        fairy = store._connections.take()
        assert kept_cursor(fairy) is cursor
        fairy.invalidate()
        fairy = store._connections.take()
        assert kept_cursor(fairy) is not cursor
        store._connections.give(fairy)
        assert store._rows("SELECT 3", ()) == [(3,)]
    finally:
        store.close()


def test_a_store_keeps_at_most_half_the_pool(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url)
    try:
        kept = store._connections
        taken = [kept.take() for _ in range(8)]
        assert store.engine.pool.checkedout() == 8  # type: ignore[attr-defined]
        for fairy in taken:
            kept.give(fairy)
        # Half the pool (5 // 2) stays checked out, kept; the rest went back.
        assert store.engine.pool.checkedout() == 2  # type: ignore[attr-defined]
    finally:
        store.close()
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_sqlite_store_checkpoints_in_a_thread_of_its_own(sqlite_url: str) -> None:
    """Commits leave their pages in the WAL; the store's ``Checkpointer`` copies them into the
    database file within a moment, so that no commit has to (see ``database``)."""
    import sqlite3
    import threading
    import time
    from pathlib import Path

    from .conftest import Cases

    def checkpointers() -> int:
        return sum(t.name == "liucheng-checkpoint" for t in threading.enumerate())

    before = checkpointers()
    store = SqlStore(sqlite_url)
    # ``immutable``: read the database file alone, as if the WAL did not exist.
    file_only = f"{Path(sqlite_url.removeprefix('sqlite:///')).absolute().as_uri()}?immutable=1"
    try:
        assert checkpointers() == before + 1
        cases = Cases()
        ids = [cases.start(None) for _ in range(5)]
        for case_id in ids:
            store.insert(cases.instance(case_id))
        deadline = time.monotonic() + 5
        while True:
            probe = sqlite3.connect(file_only, uri=True)
            try:
                (in_file,) = probe.execute("SELECT count(*) FROM instances").fetchone()
            finally:
                probe.close()
            if in_file == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert in_file == len(ids)
    finally:
        store.close()
    assert checkpointers() == before
