"""The ``Store`` contract, run against every store (see ``conftest.store``).

Each test drives real cases through an in-memory engine (``Cases``), hands their state to the
store under test, and checks what the store gives back.  Tests that need a rollback or a
revision check use ``sql_store``: ``MemoryStore`` promises neither (it is one thread's dict).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from liucheng.engine.codec import UnstorableValueError
from liucheng.engine.state import Instance, InstanceState, TokenState
from liucheng.errors import ConflictError
from liucheng.runtime import SqlStore
from liucheng.store import DeploymentRecord, StartTimer, Store, TaskQuery

from .conftest import START, Cases, later


def state_of(inst: Instance) -> dict[str, Any]:
    """Everything a case is, apart from how the store numbers its history and revisions."""
    return {
        "id": inst.id,
        "process_id": inst.process_id,
        "version": inst.version,
        "business_key": inst.business_key,
        "started": inst.started,
        "state": inst.state,
        "ended": inst.ended,
        "tokens": inst.tokens,
        "scopes": inst.scopes,
        "tasks": inst.tasks,
        "subscriptions": inst.subscriptions,
        "incidents": inst.incidents,
        "next_id": inst.next_id,
        # repr shows what == does not: Decimal scale, time zones, list vs tuple
        "variables": repr(inst.variables),
    }


def stored(store: Store, case_id: str) -> Instance:
    inst = store.load(case_id)
    assert inst is not None
    return inst


# -- cases ------------------------------------------------------------------------------------
def test_insert_load_keeps_every_field(store: Store, cases: Cases) -> None:
    case_id = cases.start()
    original = cases.instance(case_id)
    assert original.incidents and original.tasks and len(original.subscriptions) == 2
    events = list(original.history)

    store.insert(cases.instance(case_id))
    loaded = stored(store, case_id)

    assert state_of(loaded) == state_of(original)
    assert loaded.rev == 0
    assert store.history(case_id) == events
    assert loaded.history_base + len(loaded.history) == len(events)
    assert store.load("no-such-case") is None


def test_save_keeps_every_field_and_counts_revisions(store: Store, cases: Cases) -> None:
    case_id = cases.start(note="x" * 2000, ratio=0.25, big=10**30, ok=True, empty=None)
    store.insert(cases.instance(case_id))
    loaded = stored(store, case_id)
    (task,) = cases.engine.tasks(instance=case_id)
    cases.engine.complete(
        task.id,
        {"approved": True, "fee": Decimal("120.00"), "at": datetime(2026, 3, 5, tzinfo=UTC)},
    )
    changed = cases.advanced(loaded)

    store.save(changed)

    assert changed.rev == 1
    again = stored(store, case_id)
    assert again.rev == 1
    assert state_of(again) == state_of(cases.instance(case_id))
    assert again.variables["fee"] == Decimal("120.00")
    assert str(again.variables["fee"]) == "120.00"
    assert again.variables["big"] == 10**30


def test_history_is_appended_across_saves_with_continuous_seq(store: Store, cases: Cases) -> None:
    case_id = cases.start()
    store.insert(cases.instance(case_id))
    (task,) = cases.engine.tasks(instance=case_id)

    steps = [
        lambda: cases.engine.complete(task.id, {"approved": True}),
        lambda: cases.engine.correlate("payment_received", key="A-1", variables={"paid": 1}),
        lambda: cases.engine.set_variables(case_id, {"note": "called back"}),
    ]
    for step in steps:
        loaded = stored(store, case_id)
        step()
        store.save(cases.advanced(loaded))

    history = store.history(case_id)
    assert history == cases.instance(case_id).history
    assert [event[0] for event in history] == list(range(1, len(history) + 1))
    final = stored(store, case_id)
    assert final.history_base + len(final.history) == len(history)


def test_save_of_a_restored_case_appends_only_the_new_events(store: Store, cases: Cases) -> None:
    """``Engine.load`` saves a case from a dump, which carries its whole history from 1."""
    case_id = cases.start()
    store.insert(cases.instance(case_id))
    loaded = stored(store, case_id)
    cases.engine.set_variables(case_id, {"note": "restored"})
    whole = cases.instance(case_id)  # history_base 0, every event
    whole.rev = loaded.rev

    store.save(whole)

    assert store.history(case_id) == cases.instance(case_id).history
    assert stored(store, case_id).variables["note"] == "restored"


def test_business_key_is_unique_per_process(store: Store, cases: Cases) -> None:
    other = Cases()  # a second engine: a different case with the same key
    first, second = cases.start("K-1"), other.start("K-1")
    store.insert(cases.instance(first))
    assert store.business_key_in_use("store_case", "K-1")
    assert not store.business_key_in_use("store_case", "K-2")
    assert not store.business_key_in_use("store_line", "K-1")

    with pytest.raises(ConflictError, match="K-1"):
        store.insert(other.instance(second))

    assert store.load(second) is None
    # Cases without a key never clash.
    store.insert(cases.instance(cases.start(None)))
    store.insert(other.instance(other.start(None)))


def test_refused_insert_refuses_its_transaction(sql_store: SqlStore, cases: Cases) -> None:
    """As a lost race of ``save``: the ``ConflictError`` may come at the transaction's commit
    (PostgreSQL sends the insert without waiting), and nothing of the transaction is kept."""
    store = sql_store
    other = Cases()
    store.insert(cases.instance(cases.start("K-1")))
    duplicate, fine = other.start("K-1"), other.start("K-2")

    with pytest.raises(ConflictError, match="K-1"), store.transaction():
        store.insert(other.instance(fine))
        store.insert(other.instance(duplicate))

    assert store.load(fine) is None
    assert store.load(duplicate) is None
    with pytest.raises(ConflictError, match="K-1"), store.transaction():
        store.insert(other.instance(duplicate))  # the transaction's only write
    store.insert(other.instance(fine))
    assert store.load(fine) is not None


def test_a_refused_insert_in_a_savepoint_is_undone_alone(sql_store: SqlStore, cases: Cases) -> None:
    store = sql_store
    other = Cases()
    store.insert(cases.instance(cases.start("K-1")))
    duplicate, fine = other.start("K-1"), other.start("K-2")

    with store.transaction():
        store.insert(other.instance(fine))
        with pytest.raises(ConflictError, match="K-1"), store.savepoint():
            store.insert(other.instance(duplicate))

    assert store.load(fine) is not None
    assert store.load(duplicate) is None


def test_instances_by_process_and_state(store: Store, cases: Cases) -> None:
    a, b, line = cases.start("A"), cases.start("B"), cases.start_line()
    for case_id in (a, b, line):
        store.insert(cases.instance(case_id))
    loaded = stored(store, b)
    cases.engine.cancel(b)
    store.save(cases.advanced(loaded))

    assert [i.id for i in store.instances()] == [a, b, line]
    assert [i.id for i in store.instances(process="store_case")] == [a, b]
    assert [i.id for i in store.instances(state=InstanceState.ACTIVE)] == [a, line]
    assert [i.id for i in store.instances("store_case", InstanceState.TERMINATED)] == [b]
    assert [i.rev for i in store.instances(process="store_case")] == [0, 1]


# -- tasks ------------------------------------------------------------------------------------
def test_task_queries(store: Store, cases: Cases) -> None:
    a, b, line = cases.start("A", "alice"), cases.start("B", "dave"), cases.start_line()
    for case_id in (a, b, line):
        store.insert(cases.instance(case_id))
    (ta,), (tb,), (tl,) = (cases.engine.tasks(instance=c) for c in (a, b, line))

    def ids(**query: str) -> list[str]:
        return [t.id for t in store.tasks(TaskQuery(**query))]

    assert store.tasks(TaskQuery(instance=a)) == [ta]  # every field, candidates in order
    assert store.tasks(TaskQuery(instance=a))[0].candidate_groups == ("security", "reception")
    assert ids() == [ta.id, tb.id, tl.id]
    assert ids(assignee="alice") == [ta.id]
    assert ids(group="security") == [ta.id, tb.id]
    assert ids(group="finance") == [tl.id]
    assert ids(user="bob") == [ta.id, tb.id]  # a candidate user
    assert ids(user="dave") == [tb.id]  # the assignee
    assert ids(process="store_line") == [tl.id]
    assert ids(process="store_case", group="reception", user="alice") == [ta.id]
    assert ids(group="nobody") == []
    assert store.instance_of_task(tb.id) == b
    assert store.instance_of_task("no-such-task") is None

    loaded = stored(store, a)
    cases.engine.complete(ta.id)
    store.save(cases.advanced(loaded))
    assert ids(group="security") == [tb.id]
    assert store.instance_of_task(ta.id) is None


# -- subscriptions ----------------------------------------------------------------------------
def test_message_waiters_by_name_and_key_only_active_cases(store: Store, cases: Cases) -> None:
    a, b = cases.start("A"), cases.start("B")
    for case_id in (a, b):
        store.insert(cases.instance(case_id))
    sub_a = next(s.id for s in cases.instance(a).subscriptions.values() if s.message)
    sub_b = next(s.id for s in cases.instance(b).subscriptions.values() if s.message)

    assert store.message_waiters("payment_received", "A") == [(a, sub_a)]
    assert store.message_waiters("payment_received", None) == [(a, sub_a), (b, sub_b)]
    assert store.message_waiters("payment_received", "C") == []
    assert store.message_waiters("other", None) == []

    loaded = stored(store, a)
    cases.engine.correlate("payment_received", key="A")
    store.save(cases.advanced(loaded))
    assert store.message_waiters("payment_received", None) == [(b, sub_b)]

    # A case that is no longer active is never a waiter, whatever rows it still has.
    ended = stored(store, b)
    ended.state = InstanceState.COMPLETED
    store.save(ended)
    assert store.message_waiters("payment_received", None) == []


def test_due_timers_earliest_first_and_next_due(store: Store, cases: Cases) -> None:
    assert store.next_due() is None
    a, b = cases.start("A"), cases.start("B")  # b's timer is a minute later
    for case_id in (b, a):
        store.insert(cases.instance(case_id))
    due_a, due_b = START + timedelta(hours=2), later(1) + timedelta(hours=2)
    sub_a = next(s.id for s in cases.instance(a).subscriptions.values() if s.due)
    sub_b = next(s.id for s in cases.instance(b).subscriptions.values() if s.due)

    assert store.next_due() == due_a
    assert store.due_timers(due_a - timedelta(seconds=1)) == []
    assert store.due_timers(due_a) == [(due_a, a, sub_a)]
    assert store.due_timers(due_b + timedelta(days=1)) == [(due_a, a, sub_a), (due_b, b, sub_b)]
    due = store.due_timers(due_a)[0][0]
    assert due.utcoffset() is not None

    ended = stored(store, a)
    ended.state = InstanceState.TERMINATED
    store.save(ended)
    assert store.next_due() == due_b
    assert store.due_timers(due_b) == [(due_b, b, sub_b)]


# -- deployments and start timers -------------------------------------------------------------
def test_deployments_oldest_first(store: Store) -> None:
    records = [
        DeploymentRecord("p", 1, "P", "a" * 64, b"<xml 1/>", "p.bpmn", "feel", START),
        DeploymentRecord("q", 1, None, "b" * 64, b"<xml q/>", None, "python", START),
        DeploymentRecord("p", 2, "P", "c" * 64, "<流程/>".encode(), "p.bpmn", "feel", later(5)),
    ]
    assert store.deployments() == []
    for record in records:
        store.add_deployment(record)
    assert store.deployments() == records


def test_start_timers_replaced_per_process(store: Store) -> None:
    p1 = StartTimer("p", "daily", later(60), "R/2026-03-02T09:00+08:00/P1D", START, 2)
    p2 = StartTimer("p", "once", later(30), None, START)
    q1 = StartTimer("q", "hourly", later(10), "R3/PT1H", START)
    store.replace_start_timers("p", [p1, p2])
    store.replace_start_timers("q", [q1])
    assert sorted(store.start_timers(), key=repr) == sorted([p1, p2, q1], key=repr)

    p3 = StartTimer("p", "daily", later(60 * 25), "R/2026-03-02T09:00+08:00/P1D", START, 3)
    store.replace_start_timers("p", [p3])
    assert sorted(store.start_timers(), key=repr) == sorted([p3, q1], key=repr)
    store.replace_start_timers("q", [])
    assert store.start_timers() == [p3]


# -- what only the SQL store promises ---------------------------------------------------------
def test_second_of_two_saves_from_one_revision_conflicts(sql_store: SqlStore, cases: Cases) -> None:
    case_id = cases.start()
    sql_store.insert(cases.instance(case_id))
    first, second = stored(sql_store, case_id), stored(sql_store, case_id)
    (task,) = cases.engine.tasks(instance=case_id)
    cases.engine.complete(task.id, {"approved": True})
    first = cases.advanced(first)
    second.scopes[0].variables["approved"] = False
    second.tasks.clear()

    sql_store.save(first)
    with pytest.raises(ConflictError, match="changed by someone else; reload and try again"):
        sql_store.save(second)

    assert second.rev == 0  # the loser is left as it was
    now = stored(sql_store, case_id)
    assert now.rev == 1 and now.variables["approved"] is True
    assert state_of(now) == state_of(cases.instance(case_id))
    assert sql_store.history(case_id) == cases.instance(case_id).history


def test_failed_save_writes_nothing(sql_store: SqlStore, cases: Cases) -> None:
    case_id = cases.start()
    sql_store.insert(cases.instance(case_id))
    tasks_before = sql_store.tasks(TaskQuery(instance=case_id))
    history_before = sql_store.history(case_id)
    (task,) = cases.engine.tasks(instance=case_id)
    cases.engine.complete(task.id, {"approved": True})

    # 1. the transaction fails after the save: everything of the save is rolled back
    changed = cases.advanced(stored(sql_store, case_id))
    with pytest.raises(RuntimeError), sql_store.transaction():
        sql_store.save(changed)
        with sql_store.transaction():  # a nested block joins the outer transaction
            assert sql_store.tasks(TaskQuery(instance=case_id)) == []
        raise RuntimeError("the step failed later")
    # 2. a value that cannot be stored is refused before the first write, even outside a
    #    transaction
    refused = cases.advanced(stored(sql_store, case_id))
    refused.scopes[0].variables["bad"] = {1, 2}
    with pytest.raises(UnstorableValueError):
        sql_store.save(refused)

    after = stored(sql_store, case_id)
    assert after.rev == 0
    assert [t.node for t in after.tasks.values()] == ["review"]
    assert sql_store.tasks(TaskQuery(instance=case_id)) == tasks_before
    assert sql_store.history(case_id) == history_before
    assert "approved" not in after.variables


def test_after_save_the_case_looks_freshly_loaded(sql_store: SqlStore, cases: Cases) -> None:
    case_id = cases.start()
    inst = cases.instance(case_id)
    count = len(inst.history)
    sql_store.insert(inst)
    assert (inst.rev, inst.history, inst.history_base) == (0, [], count)

    loaded = stored(sql_store, case_id)
    assert (loaded.rev, loaded.history, loaded.history_base) == (0, [], count)
    (task,) = cases.engine.tasks(instance=case_id)
    cases.engine.complete(task.id)
    changed = cases.advanced(loaded)
    total = count + len(changed.history)
    sql_store.save(changed)
    assert (changed.rev, changed.history, changed.history_base) == (1, [], total)
    sql_store.save(changed)  # saving the same object again is fine: it knows its revision
    assert stored(sql_store, case_id).rev == 2


def test_variables_are_indexed_by_typed_value(sql_store: SqlStore, cases: Cases) -> None:
    import sqlalchemy as sa

    from liucheng.runtime.schema import variables

    case_id = cases.start(note="n" * 600, ratio=0.25, ok=True)
    sql_store.insert(cases.instance(case_id))
    with sql_store.engine.connect() as conn:
        rows = {
            r.name: r
            for r in conn.execute(sa.select(variables).where(variables.c.instance_id == case_id))
        }
        found = conn.scalar(
            sa.select(variables.c.instance_id).where(
                variables.c.name == "amount", variables.c.number_value > Decimal("50.09")
            )
        )
    assert found == case_id
    assert rows["assignee"].text_value == "alice"
    assert rows["amount"].number_value == Decimal("50.10")
    assert rows["ok"].bool_value is True
    assert rows["ratio"].number_value == Decimal("0.25")
    assert rows["note"].text_value is None  # too long to index; kept in json
    assert rows["visit"].text_value == "2026-03-03T02:00:00+00:00"
    assert rows["plates"].json == '["沪A12345","苏E00001"]'
    assert stored(sql_store, case_id).tokens[1].state is TokenState.WAITING


# -- a page of tasks, and the plan that finds it ----------------------------------------------
def test_a_page_of_tasks_found_by_a_common_or_a_rare_value(store: Store, cases: Cases) -> None:
    """``limit`` gives the oldest tasks; with a variable filter the SQL store first counts the
    matches to choose its plan (a rare value drives the query, a common one is tested task by
    task in inbox order) — the tasks found must be the same either way."""
    ids = [cases.start(None, tier="gold" if i % 8 else "rare") for i in range(48)]
    for case_id in ids:
        store.insert(cases.instance(case_id))

    for tier, matching in (("gold", 42), ("rare", 6)):
        query = TaskQuery(variables=(("tier", tier),))
        every = store.tasks(query)
        assert len(every) == matching
        assert [t.created for t in every] == sorted(t.created for t in every)
        for limit in (1, 2, 5, 100):
            page = store.tasks(query._replace(limit=limit))
            assert page == every[:limit], (tier, limit)
    assert [t.instance_id for t in store.tasks(TaskQuery(limit=3))] == ids[:3]
    assert (
        store.tasks(TaskQuery(group="security", limit=2))
        == store.tasks(TaskQuery(group="security"))[:2]
    )


def test_sqlite_pages_a_common_value_in_inbox_order(sqlite_store: SqlStore, cases: Cases) -> None:
    """40 matches per task asked for make a value common (``_COMMON_PER_PAGE``): then SQLite
    walks the tasks on the inbox-order index (migration 0004) instead of sorting every match."""
    for i in range(45):
        sqlite_store.insert(cases.instance(cases.start(None, tier="gold" if i else "rare")))

    common = " ".join(sqlite_store.explain_tasks(TaskQuery(variables=(("tier", "gold"),), limit=1)))
    rare = " ".join(sqlite_store.explain_tasks(TaskQuery(variables=(("tier", "rare"),), limit=1)))

    assert "USING INDEX ix_tasks_created_instance_id_position" in common
    assert "ix_variables_name_text_value" in rare


# -- savepoints -----------------------------------------------------------------------------
def test_a_savepoint_undoes_only_its_own_work(sql_store: SqlStore, cases: Cases) -> None:
    """What ``Engine.run_due_jobs`` relies on to fire many timers in one transaction: a failure
    inside a savepoint — of the engine or of the database — is undone alone."""
    import sqlalchemy as sa

    a, b, c, d = (cases.start(None) for _ in range(4))
    with sql_store.transaction():
        sql_store.insert(cases.instance(a))
        with pytest.raises(RuntimeError), sql_store.savepoint():
            sql_store.insert(cases.instance(b))
            raise RuntimeError("this timer failed")
        with pytest.raises(sa.exc.DBAPIError), sql_store.savepoint():
            sql_store.insert(cases.instance(c))
            with sql_store._connection() as conn:  # a statement the database refuses
                conn.execute(sa.text("SELECT * FROM no_such_table"))
        with sql_store.savepoint():
            sql_store.insert(cases.instance(d))

    assert [sql_store.load(x) is not None for x in (a, b, c, d)] == [True, False, False, True]
    assert sql_store.history(b) == [] and sql_store.tasks(TaskQuery(instance=c)) == []
    assert sql_store.history(d) == cases.instance(d).history

    e = cases.start(None)
    with sql_store.savepoint():  # outside a transaction: one of its own
        sql_store.insert(cases.instance(e))
    assert sql_store.load(e) is not None


def test_a_lost_save_in_a_savepoint_is_undone_alone(sql_store: SqlStore, cases: Cases) -> None:
    """On PostgreSQL a save's revision check fails inside its one statement, found where the
    store next waits (``_PG_WRITE``): leaving the savepoint raises ``ConflictError`` and undoes
    only that savepoint, so the transaction goes on — as ``Engine.run_due_jobs`` needs when
    another worker fired a timer first."""
    a, b = cases.start(None), cases.start("B")
    for case_id in (a, b):
        sql_store.insert(cases.instance(case_id))
    stale = stored(sql_store, a)
    for case_id in (a, b):  # a changes under the stale copy
        (task,) = cases.engine.tasks(instance=case_id)
        cases.engine.complete(task.id, {"approved": True})
    sql_store.save(cases.advanced(stored(sql_store, a)))
    history_of_a = sql_store.history(a)

    lost = f"case '{a}' was changed by someone else"
    with sql_store.transaction():
        with pytest.raises(ConflictError, match=lost), sql_store.savepoint():
            sql_store.save(cases.advanced(stale))
        sql_store.save(cases.advanced(stored(sql_store, b)))

    assert stored(sql_store, a).rev == 1 and sql_store.history(a) == history_of_a
    assert stored(sql_store, b).rev == 1
    assert sql_store.history(b) == cases.instance(b).history


def test_a_lost_save_fails_the_transaction_at_its_commit(sql_store: SqlStore, cases: Cases) -> None:
    """Without a savepoint the conflict may come only with the commit (PostgreSQL: the save and
    ``COMMIT`` share one round trip); nothing of the transaction is written."""
    a, b = cases.start(None), cases.start("B")
    for case_id in (a, b):
        sql_store.insert(cases.instance(case_id))
    stale = stored(sql_store, a)
    for case_id in (a, b):
        (task,) = cases.engine.tasks(instance=case_id)
        cases.engine.complete(task.id, {"approved": True})
    sql_store.save(cases.advanced(stored(sql_store, a)))

    with pytest.raises(ConflictError, match=f"case '{a}'"), sql_store.transaction():
        sql_store.save(cases.advanced(stored(sql_store, b)))
        sql_store.save(cases.advanced(stale))

    assert stored(sql_store, a).rev == 1
    assert stored(sql_store, b).rev == 0  # the other save of the transaction was undone too
    assert [t.node for t in stored(sql_store, b).tasks.values()] == ["review"]


def test_a_postgresql_start_is_one_statement(postgresql_store: SqlStore) -> None:
    """The start's only write is its insert, which fails by itself when refused: it is sent
    alone at the commit, a transaction by itself, without ``BEGIN`` or ``COMMIT``."""
    from pathlib import Path

    from liucheng import Clock, Engine

    engine = Engine(store=postgresql_store, clock=Clock.frozen(START))
    engine.deploy(Path(__file__).parent / "models" / "store_case.bpmn")
    seen: list[tuple[str, str]] = []
    postgresql_store.trace = lambda kind, sql: seen.append((kind, sql.split(" ", 1)[0]))
    try:
        case = engine.start("store_line")
    finally:
        postgresql_store.trace = None
    assert [kind for kind, _ in seen].count("wait") == 1, seen
    assert [kind for kind, _ in seen].count("commit") == 1, seen
    assert [word for kind, word in seen if kind == "statement"] == ["WITH"]
    assert [t.node for t in engine.tasks(instance=case.id)] == ["approve"]
    assert engine.history(case.id)[0].kind == "instance_started"


def _completion_trace(store: SqlStore, engine: Any, task_id: str) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    store.trace = lambda kind, sql: seen.append((kind, sql.split(" ", 1)[0]))
    try:
        engine.complete(task_id, {"ok": True})
    finally:
        store.trace = None
    return seen


def test_a_postgresql_completion_is_one_or_two_round_trips(postgresql_store: SqlStore) -> None:
    """A transaction whose only write is one statement needs no ``BEGIN`` or ``COMMIT`` (the
    statement is a transaction by itself).  On a case this store saved last, the completion is
    that statement alone (the case is kept, and the save checks its revision); on a case it
    does not keep, the load comes first, as a statement by itself."""
    from pathlib import Path

    from liucheng import Clock, Engine

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    engine = Engine(store=postgresql_store, clock=Clock.frozen(START))
    engine.deploy(model)
    for store, expected in ((postgresql_store, ["WITH"]), (None, ["SELECT", "WITH"])):
        case = engine.start("store_line")
        (task,) = engine.tasks(instance=case.id)
        worker, completing = engine, postgresql_store
        if store is None:  # another server: it keeps nothing
            completing = SqlStore(postgresql_store.engine)
            worker = Engine(store=completing, clock=Clock.frozen(START))
        try:
            seen = _completion_trace(completing, worker, task.id)
        finally:
            if completing is not postgresql_store:
                completing.close()
        kinds = [kind for kind, _ in seen]
        assert kinds.count("wait") == len(expected), seen
        assert kinds.count("commit") == 1, seen
        assert [word for kind, word in seen if kind == "statement"] == expected
        assert engine.instance(case.id).is_ended
        assert engine.history(case.id)[-1].kind == "instance_completed"
