"""The driver connections a ``SqlStore`` keeps between its operations.

Every engine operation takes a database connection and gives it back: an access-pass case is
six of them (start; twice or three times "list the case's tasks", then "complete one").
Taken from SQLAlchemy's pool and given back, a connection cost about 30 µs of Python each way
round (the pool's queue, its events, the rollback it sends on return, the ping check) — as much
as SQLite takes to run two statements, and on PostgreSQL also the switching of psycopg's
autocommit on and off.  So a store keeps the connections it has used checked out of the pool,
on a stack of its own, and hands out the one used last (its pages are the warmest):

* **State.**  A connection goes on the stack only as the store found it: no transaction open
  (rolled back if one is, or dropped — invalidated — when that cannot be made sure, e.g. the
  server went away).  On PostgreSQL it stays in autocommit mode while kept: the store sends
  ``BEGIN`` and ``COMMIT`` itself (see "Round trips on PostgreSQL" in ``sql_store``).  It is
  switched back, and rolled back, only when it returns to the pool.
* **Liveness.**  A kept PostgreSQL connection that sat unused for longer than
  ``PING_AFTER_IDLE`` is pinged before it is handed out, as the pool's own checkout does
  (``database``); one that does not answer is invalidated and another one is taken.  SQLite
  runs in the process: nothing to ping.
* **How many.**  At most ``keep``: as many as threads have used the store at once, up to half
  the pool, so the rest of the pool stays free for the statements that go through SQLAlchemy
  Core (deployments, listing cases) and for other users of the same engine.  A connection
  given back past that goes back to the pool.
* **Threads.**  A connection is used by one thread at a time: taken, used for one operation,
  given back.  The stack's lock is held only to push or pop.
* ``close()`` gives every kept connection back to the pool; the store calls it before it
  disposes of the engine.
* **One cursor.**  ``kept_cursor(fairy)`` is the connection's cursor for the store's statements,
  made once and kept with the connection (in the pool's ``info`` of it, which the pool clears
  when it replaces the connection).  A psycopg cursor made per statement — ``connection.execute``
  does that — cost some 14 µs of the client's CPU more than running the statement on a kept one
  (75 → 55 µs, measured against the local server), and a case sends ten statements or so.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine

from liucheng.runtime import database

DEFAULT_KEEP = 4
_CURSOR = "liucheng_cursor"  # the key of a connection's kept cursor in its pool ``info``


class KeptConnections:
    """A stack of pooled DB-API connections kept checked out (see the module docstring)."""

    __slots__ = ("_engine", "_idle", "_keep", "_lock", "_pg")

    def __init__(self, engine: Engine, pg: bool) -> None:
        self._engine = engine
        self._pg = pg
        size = getattr(engine.pool, "size", None)
        self._keep = max(1, size() // 2) if callable(size) else DEFAULT_KEEP
        self._idle: list[tuple[Any, float]] = []  # (pool connection, when given back)
        self._lock = threading.Lock()

    def take(self) -> Any:
        """A pooled connection (SQLAlchemy's ``PoolProxiedConnection``), no transaction open;
        on PostgreSQL in autocommit mode."""
        while True:
            with self._lock:
                if not self._idle:
                    break
                fairy, since = self._idle.pop()
            if not self._pg or time.monotonic() - since < database.PING_AFTER_IDLE:
                return fairy
            try:
                database.ping(fairy.driver_connection)
            except Exception:
                fairy.invalidate()  # gone while kept; try the next one
                continue
            return fairy
        fairy = self._engine.raw_connection()
        if self._pg:
            raw: Any = fairy.driver_connection
            try:
                raw.autocommit = True
            except BaseException:
                fairy.invalidate()
                raise
        return fairy

    def give(self, fairy: Any) -> None:
        """Take back a connection from ``take``: kept if it is clean, else closed or repaired."""
        raw = fairy.driver_connection
        try:
            if self._pg:
                if raw.closed or raw.broken:
                    raise ConnectionError("connection lost")
                if raw.info.transaction_status != 0:  # not IDLE
                    raw.rollback()
            elif raw.in_transaction:
                raw.rollback()
        except Exception:
            fairy.invalidate()
            return
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append((fairy, time.monotonic()))
                return
        self._to_pool(fairy)

    def close(self) -> None:
        """Give every kept connection back to the pool."""
        with self._lock:
            idle, self._idle = self._idle, []
        for fairy, _ in idle:
            self._to_pool(fairy)

    def _to_pool(self, fairy: Any) -> None:
        """Back to the pool as it lent it: autocommit off (psycopg), no transaction open."""
        try:
            if self._pg:
                fairy.driver_connection.autocommit = False
        except Exception:
            fairy.invalidate()
            return
        fairy.close()


def kept_cursor(fairy: Any) -> Any:
    """The kept cursor of a pooled connection (see "One cursor" in the module docstring).

    Used by one thread at a time, as its connection is; its result is read before the next
    statement runs on it."""
    info = fairy.info
    kept = info.get(_CURSOR)
    if kept is None:
        kept = info[_CURSOR] = fairy.driver_connection.cursor()
    return kept
