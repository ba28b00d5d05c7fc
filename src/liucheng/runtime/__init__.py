"""The durable runtime: cases and deployments kept in SQLite or PostgreSQL.

``SqlStore`` is the ``liucheng.store.Store`` that keeps everything in a database;
``connect`` opens one with the settings the runtime relies on and ``upgrade`` creates or
updates its schema (Alembic migrations shipped in the package).
"""

from liucheng.runtime.database import connect, upgrade
from liucheng.runtime.sql_store import SqlStore

__all__ = ["SqlStore", "connect", "upgrade"]
