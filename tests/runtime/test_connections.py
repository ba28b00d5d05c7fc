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
