"""Pooled PostgreSQL connections that died while idle are replaced before anyone uses them.

``runtime.database`` pings a connection on checkout only when it sat idle in the pool for more
than ``PING_AFTER_IDLE`` seconds (a ping on every checkout would be a round trip more per step).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from liucheng.runtime import SqlStore, database
from liucheng.store import TaskQuery


def test_an_idle_connection_the_server_closed_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(postgres_url)
    admin = sa.create_engine(postgres_url)
    try:
        assert store.tasks(TaskQuery(instance="none")) == []  # a connection now idle in the pool
        with store.engine.connect() as conn:
            pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)

        assert store.tasks(TaskQuery(instance="none")) == []
        with store.transaction():
            assert store.load("none") is None
    finally:
        store.close()
        admin.dispose()


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
