"""Shared fixtures for engine behaviour tests.

Each behaviour has its own small model in ``tests/engine/models/<name>.bpmn``; ``deploy(name)``
deploys it into a fresh engine — in memory, on SQLite and on PostgreSQL in turn — whose clock
is frozen at a fixed instant, so timers and history timestamps are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine, HistoryKind

MODELS = Path(__file__).parent / "models"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh engine on each store in turn: every behaviour is checked in memory, on SQLite
    and on PostgreSQL (where each step is a database transaction with a revision check)."""
    if request.param == "memory":
        return Engine(clock=Clock.frozen(START))
    store = request.getfixturevalue(f"{request.param}_store")
    return Engine(store=store, clock=Clock.frozen(START))


@pytest.fixture
def deploy(engine: Engine) -> Callable[..., Engine]:
    def _deploy(name: str, **kwargs: object) -> Engine:
        engine.deploy(MODELS / f"{name}.bpmn", **kwargs)  # type: ignore[arg-type]
        return engine

    return _deploy


def kinds(engine: Engine, case_id: str, kind: HistoryKind) -> list[str | None]:
    """The elements of every history event of one kind, in order."""
    return [e.element for e in engine.history(case_id) if e.kind is kind]


def roundtrip(engine: Engine, case_id: str) -> None:
    """Serialise a waiting case to JSON and restore it in place, as a durable runtime would."""
    engine.load(engine.dump(case_id))
