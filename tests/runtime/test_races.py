"""Two workers doing the same thing to the same case at the same moment: exactly one wins.

Each test runs on SQLite and on PostgreSQL.  The two workers are two threads, each with an
``Engine`` and a ``SqlStore`` of its own on the same database (their own connection pools), as
two processes would have; a ``threading.Barrier`` releases them together, and every race is run
``ROUNDS`` times.

What "one wins" looks like differs by database, and both are right:

* PostgreSQL: both workers usually load the case before either commits; the second ``save``
  waits for the first's row lock and then fails the revision check (``ConflictError``).
* SQLite: ``BEGIN IMMEDIATE`` makes the second worker wait for the first to commit, so it loads
  the case as the first left it and finds nothing left to do (the task is completed:
  ``ConflictError``; no case waits for the message: ``CorrelationError``; the timer is gone: it
  fires nothing).

Either way the history shows the step once, with the winner's variables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine, InstanceState
from liucheng.engine.state import HistoryKind
from liucheng.errors import ConflictError, CorrelationError
from liucheng.runtime import SqlStore
from liucheng.store import ClaimExpiredError

MODELS = Path(__file__).parent / "models"
ENGINE_MODELS = Path(__file__).parents[1] / "engine" / "models"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROUNDS = 20


# -- two workers on one database ----------------------------------------------------------------
class Worker:
    """One worker: an engine with a store (and connection pool) of its own, on a frozen clock."""

    def __init__(self, url: str) -> None:
        self.store = SqlStore(url)
        self.engine = Engine(store=self.store, clock=Clock.frozen(START))

    def close(self) -> None:
        self.store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty, migrated database (the fixture's own store is not used)."""
    store: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def workers(database_url: str) -> Iterator[Callable[[], Worker]]:
    """Makes workers on the database; closes them after the test."""
    made: list[Worker] = []

    def make() -> Worker:
        worker = Worker(database_url)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.close()


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, one thread each; each one's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:  # the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return outcomes


def set_clocks(at: datetime, *workers: Worker) -> None:
    for worker in workers:
        worker.engine.clock.set(at)


def kinds(engine: Engine, case_id: str, kind: HistoryKind) -> list[Any]:
    return [event for event in engine.history(case_id) if event.kind is kind]


# -- the races ----------------------------------------------------------------------------------
def test_two_workers_complete_one_task(workers: Callable[[], Worker]) -> None:
    a = workers()
    a.engine.deploy(MODELS / "race_task.bpmn")
    b = workers()
    for _ in range(ROUNDS):
        case = a.engine.start("race_task")
        (task,) = a.engine.tasks(instance=case.id)

        outcomes = race(
            partial(a.engine.complete, task.id, {"winner": "a"}),
            partial(b.engine.complete, task.id, {"winner": "b"}),
        )

        won = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Exception)]
        assert len(won) == 1, outcomes
        loser = outcomes[1 - won[0]]
        assert isinstance(loser, ConflictError), repr(loser)
        after = a.engine.instance(case.id)
        assert after.variables == {"winner": "ab"[won[0]]}
        assert after.active == ("after",)
        completed = kinds(a.engine, case.id, HistoryKind.TASK_COMPLETED)
        assert [event.detail for event in completed] == [task.id]
        assert len(a.engine.tasks(instance=case.id)) == 1
        assert a.store.load(case.id).rev == 1  # type: ignore[union-attr]


def test_two_workers_correlate_one_message(workers: Callable[[], Worker]) -> None:
    a = workers()
    a.engine.deploy(MODELS / "race_message.bpmn")
    b = workers()
    for n in range(ROUNDS):
        key = f"order-{n}"
        case = a.engine.start("race_message", business_key=key)

        outcomes = race(
            partial(a.engine.correlate, "payment_received", key=key, variables={"paid_by": "a"}),
            partial(b.engine.correlate, "payment_received", key=key, variables={"paid_by": "b"}),
        )

        won = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Exception)]
        assert len(won) == 1, outcomes
        loser = outcomes[1 - won[0]]
        assert isinstance(loser, ConflictError | CorrelationError), repr(loser)
        after = a.engine.instance(case.id)
        assert after.variables == {"paid_by": "ab"[won[0]]}
        assert after.active == ("after",)
        assert len(kinds(a.engine, case.id, HistoryKind.MESSAGE_RECEIVED)) == 1
        assert len(a.engine.instances(process="race_message")) == n + 1


def test_two_workers_fire_one_timer(workers: Callable[[], Worker]) -> None:
    a = workers()
    a.engine.deploy(MODELS / "race_timer.bpmn")
    b = workers()
    now = START
    for _ in range(ROUNDS):
        set_clocks(now, a, b)
        case = a.engine.start("race_timer")
        set_clocks(now + timedelta(hours=1), a, b)

        outcomes = race(a.engine.run_due_jobs, b.engine.run_due_jobs)

        assert sorted(outcomes) == [0, 1], outcomes
        assert len(kinds(a.engine, case.id, HistoryKind.TIMER_FIRED)) == 1
        assert a.engine.instance(case.id).active == ("after",)
        assert a.store.load(case.id).rev == 1  # type: ignore[union-attr]
        now += timedelta(hours=2)


def test_two_workers_fire_one_timer_start_event(workers: Callable[[], Worker]) -> None:
    """A timer start event "R3/PT1H": each of its three occurrences starts exactly one case,
    however many workers find it due."""
    template = (MODELS / "race_start_timer.bpmn").read_text()
    a = workers()
    now = START
    for i in range(ROUNDS // 3 + 1):
        process = f"tick_{i}"
        set_clocks(now, a)
        a.engine.deploy(template.replace("PROCESS_ID", process).encode())
        b = workers()  # knows the new process: an engine compiles what is deployed when made
        for hour in (1, 2, 3):
            set_clocks(now + timedelta(hours=hour), a, b)

            outcomes = race(a.engine.run_due_jobs, b.engine.run_due_jobs)

            assert sorted(outcomes) == [0, 1], (process, hour, outcomes)
            assert len(a.engine.instances(process=process)) == hour
        set_clocks(now + timedelta(hours=9), a, b)
        assert a.engine.run_due_jobs() == 0
        assert [t for t in a.store.start_timers() if t.process_id == process] == []
        now += timedelta(hours=10)


# -- a loser that looks the case up before the winner commits and loads it after ----------------
def test_correlate_loser_that_loads_after_the_winner_commits(postgresql_store: SqlStore) -> None:
    """PostgreSQL, made deterministic: B finds the waiting case (``message_waiters``), then A
    delivers the message and commits, then B loads the case.  Under READ COMMITTED B's load
    sees A's commit: the subscription B found is gone, and B must lose with a ``ConflictError``
    or ``CorrelationError`` — not a ``KeyError`` from inside the engine."""
    url = postgresql_store.engine.url.render_as_string(hide_password=False)
    a = Worker(url)
    a.engine.deploy(MODELS / "race_message.bpmn")
    b = Worker(url)
    try:
        case = a.engine.start("race_message", business_key="order-1")
        found, delivered = threading.Event(), threading.Event()
        real_load = b.store.load

        def load_after_the_winner(instance_id: str) -> Any:
            found.set()
            delivered.wait(timeout=10)
            return real_load(instance_id)

        b.store.load = load_after_the_winner  # type: ignore[method-assign]

        def winner() -> Any:
            found.wait(timeout=10)
            try:
                return a.engine.correlate("payment_received", key="order-1")
            finally:
                delivered.set()

        won, lost = race(winner, partial(b.engine.correlate, "payment_received", key="order-1"))

        assert not isinstance(won, Exception), won
        assert len(kinds(a.engine, case.id, HistoryKind.MESSAGE_RECEIVED)) == 1
        assert isinstance(lost, ConflictError | CorrelationError), repr(lost)
    finally:
        a.close()
        b.close()


def test_two_servers_deploy_one_new_file(workers: Callable[[], Worker]) -> None:
    """Two servers deploying the same new file at one moment: one version is stored; the
    other server gets a conflict (or finds it deployed) and, deploying again, 'unchanged'."""
    for n in range(ROUNDS):
        a, b = workers(), workers()
        source = (
            (MODELS / "race_task.bpmn")
            .read_bytes()
            .replace(b'id="race_task"', f'id="deploy_race_{n}"'.encode())
        )
        outcomes = race(partial(a.engine.deploy, source), partial(b.engine.deploy, source))
        stored = [r for r in a.store.deployments() if r.process_id == f"deploy_race_{n}"]
        assert [r.version for r in stored] == [1], outcomes
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                assert isinstance(outcome, ConflictError), repr(outcome)
        again = b.engine.deploy(source)
        assert [(d.version, d.new) for d in again] == [(1, False)]
        a.close()
        b.close()


def test_a_process_deployed_through_one_server_runs_through_another(
    workers: Callable[[], Worker],
) -> None:
    a, b = workers(), workers()  # b was running before a deployed
    a.engine.deploy(MODELS / "race_task.bpmn")
    case = b.engine.start("race_task")
    (task,) = b.engine.tasks(instance=case.id)
    a.engine.complete(task.id, {"winner": "a"})
    assert b.engine.instance(case.id).active == ("after",)
    assert [(d.version, d.new) for d in b.engine.deploy(MODELS / "race_task.bpmn")] == [(1, False)]


def test_a_worker_skips_the_cases_another_worker_holds(
    workers: Callable[[], Worker], database_url: str
) -> None:
    """On PostgreSQL a worker claims the cases of its batch with FOR UPDATE SKIP LOCKED: a case
    another worker holds is left to it (not waited for), and is fired once the hold ends."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: a second worker waits instead of skipping")
    a, b = workers(), workers()
    a.engine.deploy(MODELS / "race_timer.bpmn")
    set_clocks(START, a, b)
    held = a.engine.start("race_timer").id
    free = a.engine.start("race_timer").id
    set_clocks(START + timedelta(hours=1), a, b)
    with a.store.transaction():
        assert a.store.claim_cases([held]) == {held}
        assert b.engine.run_due_jobs() == 1  # only the free case; never waits for the held one
        assert b.engine.instance(free).active == ("after",)
        assert b.engine.instance(held).active == ("wait",)
    assert b.engine.run_due_jobs() == 1  # the hold ended: now it is anybody's
    assert a.engine.instance(held).active == ("after",)


def test_a_claim_expires_when_its_worker_goes_quiet_and_another_worker_takes_over(
    postgresql_store: SqlStore,
) -> None:
    """A worker whose service handler hangs holds its claim only for ``lock_for`` of quiet:
    PostgreSQL then ends its transaction, another worker runs the job, and the hung worker gets
    ``ClaimExpiredError`` with nothing of its batch written (and goes on working afterwards)."""
    url = postgresql_store.engine.url.render_as_string(hide_password=False)
    a, b = Worker(url), Worker(url)
    try:
        a.engine.deploy(ENGINE_MODELS / "test_async_jobs.bpmn")
        entered, release = threading.Event(), threading.Event()
        calls: list[str] = []

        def hangs(variables: dict[str, Any]) -> dict[str, Any]:
            calls.append("a")
            entered.set()
            release.wait(timeout=20)
            return {"sms_sent": "a"}

        def answers(variables: dict[str, Any]) -> dict[str, Any]:
            calls.append("b")
            return {"sms_sent": "b"}

        a.engine.register_service("sms", hangs)
        b.engine.register_service("sms", answers)
        case_id = a.engine.start("send_sms").id
        outcome: list[Any] = []

        def run_a() -> None:
            try:
                outcome.append(a.engine.run_due_jobs(lock_for=timedelta(seconds=2)))
            except Exception as exc:  # the outcome under test
                outcome.append(exc)

        thread = threading.Thread(target=run_a)
        thread.start()
        assert entered.wait(timeout=10)
        assert b.engine.run_due_jobs() == 0  # claimed by the hung worker: skipped, not waited for
        deadline = time.monotonic() + 15
        while (fired := b.engine.run_due_jobs()) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fired == 1  # the claim expired: the job was anybody's
        release.set()
        thread.join(timeout=20)
        assert not thread.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], ClaimExpiredError)
        assert calls == ["a", "b"]  # a handler may run more than once: at least once, per step
        case = b.engine.instance(case_id)
        assert case.state is InstanceState.COMPLETED and case.variables["sms_sent"] == "b"
        assert [e.element for e in kinds(b.engine, case_id, HistoryKind.ELEMENT_COMPLETED)] == [
            "start",
            "record",
            "sms",
            "end",
        ]
        assert a.engine.run_due_jobs() == 0  # the hung worker goes on, on a new connection
        assert a.engine.instance(case_id).variables["sms_sent"] == "b"
    finally:
        a.close()
        b.close()
