"""Two writers of one case at once, as the ``sql_store`` docstring describes them.

PostgreSQL: both load revision 0; the second UPDATE waits for the first transaction's row lock,
then finds the revision changed and refuses.  SQLite: ``BEGIN IMMEDIATE`` makes the second
operation wait for the first to commit, so it loads the first one's result and both succeed.
"""

from __future__ import annotations

import threading
import time

from liucheng.errors import ConflictError
from liucheng.runtime import SqlStore

from .conftest import Cases


def _race(
    store: SqlStore,
    case_id: str,
    loaded_both: threading.Barrier | None,
    *,
    read_back: bool = True,
) -> dict[str, object]:
    """Two threads load and save the case; the first holds its transaction open a while after
    saving, and the second saves during that time.  With ``read_back`` each writer reads the
    case again after its save, inside its transaction: on PostgreSQL that sends the save
    (a transaction's only write is otherwise held back until its commit), so the first holds
    the case row's lock while it waits.  Returns each writer's outcome by name (the order in
    which they finish is itself a race: the loser's refusal comes as the winner commits)."""
    outcomes: dict[str, object] = {}

    def writer(name: str, before_save: float, before_commit: float) -> None:
        try:
            with store.transaction():
                inst = store.load(case_id)
                assert inst is not None
                if loaded_both is not None:
                    loaded_both.wait(timeout=5)
                time.sleep(before_save)
                inst.scopes[0].variables[name] = inst.rev
                store.save(inst)
                if read_back:
                    store.load(case_id)
                time.sleep(before_commit)
            outcomes[name] = "saved"
        except ConflictError as exc:
            outcomes[name] = exc

    threads = [
        threading.Thread(target=writer, args=("first", 0.0, 0.3)),
        threading.Thread(target=writer, args=("second", 0.1, 0.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


def test_postgresql_second_writer_of_a_revision_is_refused(postgresql_store: SqlStore) -> None:
    sql_store = postgresql_store
    cases = Cases()
    case_id = cases.start()
    sql_store.insert(cases.instance(case_id))

    outcomes = _race(sql_store, case_id, threading.Barrier(2))

    assert outcomes["first"] == "saved"
    assert isinstance(outcomes["second"], ConflictError)
    after = sql_store.load(case_id)
    assert after is not None and after.rev == 1
    assert after.variables["first"] == 0 and "second" not in after.variables


def test_postgresql_a_single_write_is_sent_at_commit(postgresql_store: SqlStore) -> None:
    """A transaction whose only write is its save sends it at its commit, as a statement by
    itself: the second writer commits first and wins, the first is refused at its commit and
    writes nothing."""
    sql_store = postgresql_store
    cases = Cases()
    case_id = cases.start()
    sql_store.insert(cases.instance(case_id))

    outcomes = _race(sql_store, case_id, threading.Barrier(2), read_back=False)

    assert outcomes["second"] == "saved"
    assert isinstance(outcomes["first"], ConflictError)
    after = sql_store.load(case_id)
    assert after is not None and after.rev == 1
    assert after.variables["second"] == 0 and "first" not in after.variables


def test_sqlite_writers_take_turns(sqlite_store: SqlStore) -> None:
    sql_store = sqlite_store
    cases = Cases()
    case_id = cases.start()
    sql_store.insert(cases.instance(case_id))

    outcomes = _race(sql_store, case_id, None)

    assert outcomes == {"first": "saved", "second": "saved"}
    after = sql_store.load(case_id)
    assert after is not None and after.rev == 2
    assert sorted(after.variables[name] for name in ("first", "second")) == [0, 1]
