"""Cases a store keeps between steps (``sql_store``: "Cases kept between steps").

Two ``SqlStore`` objects on one database stand for two server processes: each keeps the cases
it saved, and neither may ever act on a kept case that the other has changed since, nor keep a
save that was undone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from liucheng import Engine
from liucheng.engine.executor import Run
from liucheng.errors import ConflictError, LiuchengError
from liucheng.runtime import SqlStore, sql_store
from liucheng.store import StaleCaseError

MODEL = Path(__file__).parent / "models" / "kept_line.bpmn"


class Undone(Exception):
    pass


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest) -> Iterator[tuple[SqlStore, SqlStore]]:
    if request.param == "sqlite":
        url: str | sa.Engine = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_engine")
        request.getfixturevalue("postgresql_store")  # empties the tables
    first, second = SqlStore(url), SqlStore(url)
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the cases the stores decode from their JSON."""
    seen: list[str] = []
    decode = sql_store.instance_from_json

    def counted(text: str) -> Any:
        inst = decode(text)
        seen.append(inst.id)
        return inst

    monkeypatch.setattr(sql_store, "instance_from_json", counted)
    return seen


def _engine(store: SqlStore) -> Engine:
    engine = Engine(store=store)
    engine.deploy(MODEL)
    return engine


def _complete(engine: Engine, case_id: str, node: str, **variables: Any) -> None:
    (task,) = engine.tasks(instance=case_id)
    assert task.node == node
    engine.complete(task.id, variables)


def test_a_case_saved_here_is_not_decoded_again(
    two_stores: tuple[SqlStore, SqlStore], decodes: list[str]
) -> None:
    engine = _engine(two_stores[0])
    case = engine.start("kept_line", {"n": 0})
    _complete(engine, case.id, "a", n=1)
    _complete(engine, case.id, "b", n=2)
    _complete(engine, case.id, "c", n=3)
    assert decodes == []
    # What was kept is what the database holds: another store reads the same case.
    other = _engine(two_stores[1])
    assert other.instance(case.id).variables == {"n": 3}
    assert other.path(case.id) == ["start", "a", "b", "c", "end"]
    assert decodes == [case.id] * 2  # the other store saved nothing: it reads the JSON


def test_a_case_changed_by_another_store_is_read_again(
    two_stores: tuple[SqlStore, SqlStore], decodes: list[str]
) -> None:
    here, there = _engine(two_stores[0]), _engine(two_stores[1])
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)  # kept here at revision 1
    _complete(there, case.id, "b", n=2, by="there")  # revision 2, saved by the other
    assert decodes == [case.id]
    # Here the kept case still waits at b; the database's case waits at c, and wins.
    _complete(here, case.id, "c", n=3)
    assert decodes == [case.id, case.id]
    assert here.instance(case.id).variables == {"n": 3, "by": "there"}
    assert here.path(case.id) == ["start", "a", "b", "c", "end"]


def _save_then_undo(store: SqlStore, case_id: str, *, savepoint: bool) -> None:
    """Change the case and save it, then undo the save: in a savepoint inside a transaction
    that goes on and commits, or with the whole transaction."""
    if savepoint:
        with store.transaction(), pytest.raises(Undone), store.savepoint():
            _change(store, case_id, "undone")
        return
    with pytest.raises(Undone), store.transaction():
        _change(store, case_id, "undone")


def _change(store: SqlStore, case_id: str, value: str) -> None:
    inst = store.load(case_id)
    assert inst is not None
    inst.scopes[0].variables["mark"] = value
    store.save(inst)
    raise Undone


@pytest.mark.parametrize("savepoint", [True, False], ids=["savepoint", "transaction"])
def test_a_save_that_was_undone_is_not_kept(
    two_stores: tuple[SqlStore, SqlStore], savepoint: bool
) -> None:
    """Here the undone save took the case to revision 2 in memory; the other store then
    really saves revision 2.  Had the undone object been kept, here would act on it."""
    here_store, there_store = two_stores
    here = _engine(here_store)
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)  # revision 1, kept here
    _save_then_undo(here_store, case.id, savepoint=savepoint)
    loaded = there_store.load(case.id)
    assert loaded is not None and loaded.rev == 1 and "mark" not in loaded.variables
    loaded.scopes[0].variables["mark"] = "saved there"
    there_store.save(loaded)  # revision 2
    assert here.instance(case.id).variables == {"n": 1, "mark": "saved there"}
    _complete(here, case.id, "b")
    assert here.instance(case.id).variables == {"n": 1, "mark": "saved there"}


def _change_elsewhere(store: SqlStore, case_id: str, **variables: Any) -> None:
    inst = store.load(case_id)
    assert inst is not None
    inst.scopes[0].variables.update(variables)
    store.save(inst)


def test_a_kept_case_changed_elsewhere_is_completed_on_the_new_state(
    two_stores: tuple[SqlStore, SqlStore], decodes: list[str]
) -> None:
    """Here keeps the case waiting at b and completes b without reading the row; the other
    store changed the case meanwhile, so that save fails, and the completion runs again on the
    case as the database holds it: nothing of the other store's change is lost."""
    here_store, there_store = two_stores
    here = _engine(here_store)
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)  # kept here at revision 1, waiting at b
    _change_elsewhere(there_store, case.id, note="from there")  # revision 2
    decodes.clear()
    _complete(here, case.id, "b", n=2)
    assert decodes == [case.id]  # read again, once
    assert here.instance(case.id).variables == {"n": 2, "note": "from there"}
    assert here.path(case.id) == ["start", "a", "b"]
    loaded = there_store.load(case.id)
    assert loaded is not None and loaded.rev == 3


def test_a_task_completed_elsewhere_is_a_conflict_here(
    two_stores: tuple[SqlStore, SqlStore],
) -> None:
    """Two servers complete the same task: exactly one wins; the other, holding the case as it
    was before, is told the task is already completed, and writes nothing."""
    here_store, there_store = two_stores
    here, there = _engine(here_store), _engine(there_store)
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)  # kept here, waiting at b
    (task,) = there.tasks(instance=case.id)
    there.complete(task.id, {"n": 2, "by": "there"})
    with pytest.raises(ConflictError, match="already completed"):
        here.complete(task.id, {"n": 3, "by": "here"})
    assert here.instance(case.id).variables == {"n": 2, "by": "there"}
    assert [t.node for t in here.tasks(instance=case.id)] == ["c"]


def test_an_error_on_a_current_kept_case_is_reported_as_itself(
    two_stores: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step on a kept case that fails for a reason of its own is not retried: the error is
    the step's, and the case is unchanged."""
    here = _engine(two_stores[0])
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)
    calls: list[str] = []
    original = Run.complete_task

    def failing(self: Run, task: Any, values: Any) -> None:
        calls.append(task.node)
        raise LiuchengError("the step failed by itself")

    monkeypatch.setattr(Run, "complete_task", failing)
    with pytest.raises(LiuchengError, match="failed by itself") as raised:
        _complete(here, case.id, "b", n=2)
    assert not isinstance(raised.value, StaleCaseError)
    assert calls == ["b"]  # not run again
    monkeypatch.setattr(Run, "complete_task", original)
    _complete(here, case.id, "b", n=2)
    assert here.instance(case.id).variables == {"n": 2}


def test_the_steps_own_error_wins_when_the_check_cannot_run(
    two_stores: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the database cannot even say whether the kept case was current, the caller hears of
    the step's own failure, not of the check's."""
    store = two_stores[0]
    here = _engine(store)
    case = here.start("kept_line", {"n": 0})
    _complete(here, case.id, "a", n=1)

    def failing(self: Run, task: Any, values: Any) -> None:
        raise LiuchengError("the step failed by itself")

    def no_answer(self: SqlStore, trusted: dict[str, int]) -> str | None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(Run, "complete_task", failing)
    monkeypatch.setattr(SqlStore, "_moved_on", no_answer)
    with pytest.raises(LiuchengError, match="failed by itself"):
        _complete(here, case.id, "b", n=2)


def test_a_large_case_is_not_kept(
    two_stores: tuple[SqlStore, SqlStore], decodes: list[str]
) -> None:
    """What a store keeps stays small: a case whose JSON is past the size limit is read from
    the database at each step, and works the same."""
    engine = _engine(two_stores[0])
    big = "流" * (sql_store._KEPT_CASE_SIZE + 1)
    small = engine.start("kept_line", {"n": 0})
    large = engine.start("kept_line", {"n": 0, "text": big})
    for case in (small, large):
        _complete(engine, case.id, "a", n=1)
        _complete(engine, case.id, "b", n=2)
    assert decodes == [large.id, large.id]
    assert engine.instance(large.id).variables == {"n": 2, "text": big}
