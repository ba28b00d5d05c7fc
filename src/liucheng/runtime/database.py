"""Opening the database, and bringing its schema up to date.

``connect`` turns a URL into a SQLAlchemy ``Engine`` set up the way the runtime needs it:

* **SQLite** (the default: ``liucheng.db`` in the working directory) runs in WAL mode, so readers
  never wait for the writer and the writer never waits for readers; ``synchronous=NORMAL``,
  which in WAL mode is still safe against corruption and loses at most the last transactions on
  a power cut (not on a crash of the process); foreign keys on; and a busy timeout, so a second
  writer waits for the first instead of failing at once.

  Python's ``sqlite3`` module opens transactions lazily, just before the first write, so the
  reads before it would run outside any transaction.  We switch that off and send ``BEGIN``
  ourselves: a transaction of ``SqlStore.transaction()`` starts with ``BEGIN IMMEDIATE``, taking
  SQLite's single write lock at once.  Two writers then queue up (the busy timeout) instead of
  both reading a snapshot and the second failing with "database is locked" when it tries to
  write — an error that the busy timeout cannot cure, because waiting cannot make an old
  snapshot current.  Plain reads begin with ``BEGIN`` (deferred) and never block anyone.
* **PostgreSQL**: ``postgresql://…`` URLs use psycopg 3 (``postgresql+psycopg://``); isolation
  is the server's default, READ COMMITTED — the revision check in ``SqlStore.save`` is what
  keeps concurrent writers apart (see ``sql_store``).

  A pooled connection can die while it waits in the pool (the server restarted, a failover, a
  firewall dropping idle connections).  SQLAlchemy's ``pool_pre_ping`` finds out by sending a
  ``SELECT 1`` on *every* checkout — a round trip more for every engine step, and a step is
  only three or four.  Instead a connection is pinged when it has been idle in the pool for
  more than ``PING_AFTER_IDLE`` seconds (``_ping_if_idle``); one that answers wrongly is
  replaced by a fresh one before anyone uses it.  A connection in steady use is not pinged:
  if the server goes away under it, the statement in flight fails (as it would with pre-ping)
  and the pool drops the connection.

  A checkpoint (copying the WAL's pages into the database file, then syncing both) is what a
  commit in WAL mode may have to wait for: SQLite runs one inside the commit that fills the WAL
  past 1,000 pages, and with its fsyncs it took 15–40 ms on the benchmark machine, every dozen
  access-pass cases — a third of the loop's wall time.  A ``SqlStore`` therefore runs a passive
  checkpoint every 50 ms in a thread of its own (``Checkpointer``), and a commit checkpoints
  by itself only past ``WAL_AUTOCHECKPOINT`` pages, a backstop for when that thread falls
  behind.  With ``synchronous=NORMAL`` the WAL is synced at each checkpoint, so a power cut
  can lose only the commits since the last one: now about the last 50 ms, where before it was
  up to 1,000 pages' worth (on a quiet system, whatever the operating system had not yet
  written back on its own).

``upgrade`` runs the Alembic migrations shipped inside the package, so an installed Liucheng
needs no ``alembic.ini`` or working directory to create or update its database.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from contextlib import suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool

URL_VARIABLE = "LIUCHENG_DATABASE_URL"
DEFAULT_FILE = "liucheng.db"
BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = Path(__file__).parent / "migrations"
# A Connection execution option: begin SQLite transactions with BEGIN IMMEDIATE.
WRITE_OPTION = "liucheng_write"
# Pages in SQLite's WAL past which a commit checkpoints by itself: a backstop, four times
# SQLite's default, for when the store's ``Checkpointer`` (every 50 ms) falls behind.
WAL_AUTOCHECKPOINT = 4000
# Seconds a pooled PostgreSQL connection may sit idle before it is pinged on checkout.
PING_AFTER_IDLE = 1.0
_IDLE_SINCE = "liucheng_idle_since"


def default_url() -> str:
    """``$LIUCHENG_DATABASE_URL``, else a SQLite file ``liucheng.db`` in the working directory."""
    return os.environ.get(URL_VARIABLE) or f"sqlite:///{Path.cwd() / DEFAULT_FILE}"


def connect(url: str | None = None, **engine_options: Any) -> Engine:
    """A SQLAlchemy engine for ``url`` (see ``default_url``), configured as described above."""
    parsed = make_url(url or default_url())
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres") and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        engine = create_engine(parsed, **engine_options)
        event.listen(engine, "connect", _note_idle)
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle)
        return engine
    if parsed.database in (None, "", ":memory:"):
        # One shared connection, or every connection would see its own empty database.
        engine_options.setdefault("poolclass", StaticPool)
        engine_options.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(parsed, **engine_options)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Before a connection that sat in the pool a while is handed out: is the server there?

    Raising ``DisconnectionError`` makes the pool discard this connection and check out
    another (a new one if need be), so the caller never sees the dead one.
    """
    if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE:
        return
    try:
        ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(f"the pooled connection is gone: {exc}") from exc


def ping(dbapi_connection: Any) -> None:
    """Is the PostgreSQL server there?  One round trip, no transaction left behind; raises if
    the connection is closed or broken (also used for the connections ``SqlStore`` keeps,
    see ``connections``)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise ConnectionError("connection closed")
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SELECT 1")
    finally:
        dbapi_connection.autocommit = autocommit


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: transactions are begun explicitly by ``_sqlite_begin``.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    if conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        return  # ``SqlStore`` began it on the DB-API connection (``_Transaction.core``)
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Checkpointer:
    """A thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a SQLite file every ``every``
    seconds, on a connection of its own (see the module docstring).

    Passive: it never waits for a lock and never blocks a writer or a reader; a checkpoint that
    finds nothing new costs microseconds.  It stops with ``stop()``, or by itself once
    ``owner`` (the store it works for) is gone, so a store that is never closed leaves no
    thread behind for long.
    """

    def __init__(self, path: str, owner: object, every: float = 0.05) -> None:
        self._path = path
        self._owner = weakref.ref(owner)
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liucheng-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            uri = f"{Path(self._path).absolute().as_uri()}?mode=rw"  # never create the file
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # no file (yet): SQLite's own checkpoints still run
        try:
            conn.execute("PRAGMA busy_timeout=0")
            while not self._stopped.wait(self._every) and self._owner() is not None:
                # Busy, or the file went away: the next round, or SQLite's own, will do.
                with suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


def alembic_config() -> Config:
    """An Alembic configuration built in code, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url_or_engine: str | Engine | None = None, revision: str = "head") -> None:
    """Bring the database's schema up to ``revision`` (the newest by default)."""
    engine = url_or_engine if isinstance(url_or_engine, Engine) else connect(url_or_engine)
    config = alembic_config()
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
    finally:
        if engine is not url_or_engine:
            engine.dispose()
