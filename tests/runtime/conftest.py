"""Stores under test, and cases made by running real processes.

``store`` is parametrised over every ``Store``: ``SqlStore`` on a fresh SQLite file,
``SqlStore`` on PostgreSQL, and ``MemoryStore``.  PostgreSQL runs against
``$LIUCHENG_TEST_POSTGRES_URL`` or a local server with trust authentication; the session gets a
database of its own (``liucheng_test_<random>``, dropped at the end) and each test starts from
empty tables.  If no server answers, the PostgreSQL tests are skipped — except in CI (``$CI``
set), where they fail: CI must run them.

Cases are never built by hand: ``Cases`` runs ``tests/runtime/models/store_case.bpmn`` through an
in-memory ``liucheng.Engine`` and takes the case's internal state from ``engine.dump``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine
from liucheng.engine.serialize import instance_from_json
from liucheng.engine.state import Instance
from liucheng.runtime import SqlStore
from liucheng.store import Store

MODEL = Path(__file__).parent / "models" / "store_case.bpmn"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
POSTGRES_URL = os.environ.get(
    "LIUCHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- cases from real runs ----------------------------------------------------------------------
class Cases:
    """An in-memory engine running the test model; hands out its cases as ``Instance`` objects."""

    def __init__(self) -> None:
        self.clock = Clock.frozen(START)
        self.engine = Engine(clock=self.clock)
        self.engine.deploy(MODEL)

        def charge(_variables: Any) -> dict[str, Any]:
            raise RuntimeError("card declined")

        self.engine.register_service("charge-deposit", charge)

    def start(self, key: str | None = "A-1", assignee: str = "alice", **more: Any) -> str:
        """Start a ``store_case`` case, then move the clock on a minute: cases differ in time."""
        variables = {
            "assignee": assignee,
            "amount": Decimal("50.10"),
            "visit": datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            "plates": ["沪A12345", "苏E00001"],
            **more,
        }
        case = self.engine.start("store_case", variables, business_key=key)
        self.clock.advance(minutes=1)
        return case.id

    def start_line(self) -> str:
        case = self.engine.start("store_line")
        self.clock.advance(minutes=1)
        return case.id

    def instance(self, case_id: str) -> Instance:
        """The case's whole state now, with its whole history (``history_base`` 0)."""
        return instance_from_json(self.engine.dump(case_id))

    def advanced(self, loaded: Instance) -> Instance:
        """The engine's current state of ``loaded``'s case, as a step on ``loaded`` would leave
        it: same revision, and only the events past those the store already holds."""
        inst = self.instance(loaded.id)
        inst.rev = loaded.rev
        inst.history = inst.history[loaded.history_base :]
        inst.history_base = loaded.history_base
        return inst


@pytest.fixture
def cases() -> Cases:
    return Cases()


def _memory_store() -> Store:
    module = pytest.importorskip("liucheng.memory_store")
    store: Store = module.MemoryStore()
    return store


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each store in turn."""
    if request.param == "memory":
        module = pytest.importorskip("liucheng.memory_store")
        memory: Store = module.MemoryStore()
        return memory
    sql: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return sql


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest) -> SqlStore:
    """The SQL stores only: for what ``MemoryStore`` does not promise (rollback, conflicts)."""
    sql: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return sql


def later(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)
