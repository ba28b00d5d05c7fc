"""The migrations create exactly the schema that ``liucheng.runtime.schema`` describes.

Two checks on each database: Alembic's own comparison of the migrated database with the
metadata finds no difference, and SQLAlchemy's inspection of a migrated database matches that
of a database made directly from the metadata (tables, columns and their types, nullability,
primary keys, foreign keys, unique constraints and indexes, with a partial index's condition).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from liucheng.runtime import connect, upgrade
from liucheng.runtime.schema import metadata

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def describe(engine: sa.Engine, schema: str | None = None) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    result: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        if table == "alembic_version":
            continue
        pk = inspector.get_pk_constraint(table, schema=schema)
        result[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(table, schema=schema)
            ],
            "pk": pk["constrained_columns"],
            "fks": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table, schema=schema)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table, schema=schema)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]), _where(i))
                for i in inspector.get_indexes(table, schema=schema)
            ),
        }
    return result


def _where(index: Any) -> str | None:
    """A partial index's condition as the database gives it back (None: a full index)."""
    options = index.get("dialect_options", {})
    where = options.get("sqlite_where", options.get("postgresql_where"))
    return str(where).strip("()") if where is not None else None


def assert_no_difference(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_sqlite_migrations_match_the_schema(tmp_path: Path) -> None:
    migrated = connect(f"sqlite:///{tmp_path / 'migrated.db'}")
    direct = connect(f"sqlite:///{tmp_path / 'direct.db'}")
    try:
        upgrade(migrated)
        metadata.create_all(direct)
        assert describe(migrated) == describe(direct)
        assert set(describe(migrated)) == set(metadata.tables)
        assert_no_difference(migrated)
        upgrade(migrated)  # already at head: nothing to do
    finally:
        migrated.dispose()
        direct.dispose()


def test_postgresql_migrations_match_the_schema(postgres_engine: sa.Engine) -> None:
    """The session database was migrated by ``upgrade``; build the reference in a schema."""
    reference = f"reference_{uuid.uuid4().hex[:8]}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{reference}"'))
    try:
        direct = postgres_engine.execution_options(schema_translate_map={None: reference})
        metadata.create_all(direct)
        assert describe(postgres_engine) == describe(postgres_engine, reference)
        assert set(describe(postgres_engine)) == set(metadata.tables)
        assert_no_difference(postgres_engine)
    finally:
        with postgres_engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{reference}" CASCADE'))


def test_a_database_made_by_the_first_migration_upgrades_with_its_cases_intact(
    tmp_path: Path,
) -> None:
    """Cases written under schema 0001 load and run on after upgrading to the newest schema."""
    from liucheng import Clock, Engine, InstanceState
    from liucheng.engine.serialize import instance_from_json
    from liucheng.runtime import SqlStore

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = connect(url)
    try:
        upgrade(old, revision="0001")
        # Write a waiting case the way release 0001 stored it: its JSON without history, and the
        # history as rows.  (Today's store would also write tables 0001 did not have.)
        memory = Engine(clock=Clock.frozen(START))
        memory.deploy(model)
        case = memory.start("store_line", {"note": "from 0001"}, business_key="OLD-1")
        inst = instance_from_json(memory.dump(case.id))
        assert not inst.externals  # so ``insert`` writes only tables that 0001 created
        stored_events = len(inst.history)
        source = model.read_bytes()
        with old.begin() as conn:
            conn.execute(
                metadata.tables["deployments"].insert(),
                [
                    {
                        "process_id": pid,
                        "version": 1,
                        "name": None,
                        "content_hash": "0001",
                        "source": source,
                        "source_name": "store_case.bpmn",
                        "language": "feel",
                        "deployed": START,
                    }
                    for pid in ("store_case", "store_line")
                ],
            )
        # The instance row and its task/subscription/variable rows by the store's own writer
        # (their shape has not changed since 0001); the history as 0001's rows, one an event.
        written, inst.history, inst.history_base = inst.history, [], len(inst.history)
        SqlStore(old).insert(inst)
        write_events_per_row(old, case.id, written)
        upgrade(old)  # to the newest schema
    finally:
        old.dispose()

    engine = Engine(store=SqlStore(url), clock=Clock.frozen(START))
    restored = engine.instance(case.id)
    assert restored.business_key == "OLD-1" and restored.variables == {"note": "from 0001"}
    assert len(engine.history(case.id)) == stored_events
    [task] = engine.tasks(group="finance")
    # Migration 0004's index serves a page of the inbox found by a variable.
    assert engine.tasks(variables={"note": "from 0001"}, limit=1) == [task]
    done = engine.complete(task.id, {"ok": True})
    assert done.state is InstanceState.COMPLETED
    events = engine.history(case.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) > stored_events


def insert_as_before_0011(db: sa.Engine, memory: Any, case_id: str) -> None:
    """Write a case of the in-memory engine ``memory`` into a database of a schema before
    0011: its rows by the store's own writer, its history one row per event."""
    from liucheng.engine.serialize import instance_from_json
    from liucheng.runtime import SqlStore

    inst = instance_from_json(memory.dump(case_id))
    events, inst.history, inst.history_base = inst.history, [], len(inst.history)
    store = SqlStore(db)
    try:
        store.insert(inst)
    finally:
        store.close()
    write_events_per_row(db, case_id, events)


def write_events_per_row(db: sa.Engine, case_id: str, events: Any) -> None:
    """History rows as releases before 0011 wrote them: one row per event."""
    from liucheng.engine.codec import dumps
    from liucheng.engine.state import changes_dict

    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO history (instance_id, seq, time, kind, element, token, variables,"
                " detail) VALUES (:id, :seq, :time, :kind, :element, :token, :variables, :detail)"
            ),
            [
                {
                    "id": case_id,
                    "seq": seq,
                    "time": time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "kind": kind,
                    "element": element,
                    "token": token,
                    "variables": dumps(changes_dict(changed)) if changed is not None else None,
                    "detail": detail,
                }
                for seq, time, kind, element, token, changed, detail in events
            ],
        )


def test_0006_numbers_tasks_and_0007_rebuilds_tables_without_rowid_keeping_rows(
    tmp_path: Path,
) -> None:
    """0006: a task's position becomes its number in its case (ids of another shape get 0).
    0007: SQLite's keyed tables are rebuilt ``WITHOUT ROWID`` with every row, candidate rows
    included (they refer to ``tasks``, which is rebuilt under them); downgrading rebuilds them
    with a rowid again."""
    import sqlite3

    from alembic import command

    from liucheng import Clock, Engine
    from liucheng.runtime import SqlStore
    from liucheng.runtime.database import alembic_config

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    old = connect(url)
    try:
        upgrade(old, revision="0005")
        Engine(store=SqlStore(old), clock=Clock.frozen(START)).deploy(model)
        memory = Engine(clock=Clock.frozen(START))
        memory.deploy(model)
        case = memory.start("store_line", {"note": "kept"}, business_key="OLD-2")
        [task] = memory.tasks(instance=case.id)
        waits = memory.start("store_case", {"note": "waits"})  # a message and a timer
        for started in (case, waits):
            insert_as_before_0011(old, memory, started.id)
        with old.begin() as conn:  # as the store numbered tasks before 0006
            conn.execute(sa.text("UPDATE tasks SET position = 5"))
        counts = _row_counts(path)
        upgrade(old)
    finally:
        old.dispose()

    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT position FROM tasks WHERE id = ?", (task.id,)).fetchall() == [
            (int(task.id.rpartition(".")[2]),)
        ]
        assert _row_counts(path) == {**counts, "history": 2}  # 0011: a row per step, 2 cases
        assert all(n > 0 for n in counts.values())
        assert _without_rowid(db) == {
            "history",
            "variables",
            "subscriptions",
            "task_candidates",
            "tasks",
        }
    finally:
        db.close()
    engine = Engine(store=SqlStore(url), clock=Clock.frozen(START))
    assert engine.tasks(group="finance") == [task]
    engine.complete(task.id, {"ok": True})
    assert engine.tasks(instance=case.id) == []

    down = connect(url)
    try:
        config = alembic_config()
        with down.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0006")
            conn.commit()
    finally:
        down.dispose()
    db = sqlite3.connect(path)
    try:
        assert _without_rowid(db) == set()
    finally:
        db.close()


def _row_counts(path: Path) -> dict[str, int]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        tables = ("history", "variables", "subscriptions", "task_candidates", "tasks")
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        db.close()


def _without_rowid(db: Any) -> set[str]:
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for name, sql in rows if sql.rstrip().endswith("WITHOUT ROWID")}


@contextmanager
def _old_database(tmp_path: Path, revision: str) -> Iterator[tuple[str, sa.Engine, Any]]:
    """A SQLite file at ``revision`` with ``store_case.bpmn`` deployed, and an in-memory
    engine with the same model to make cases for it: (URL, database, engine)."""
    from liucheng import Clock, Engine
    from liucheng.runtime import SqlStore

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = connect(url)
    try:
        upgrade(old, revision=revision)
        store = SqlStore(old)
        Engine(store=store, clock=Clock.frozen(START)).deploy(model)
        store.close()
        memory = Engine(clock=Clock.frozen(START))
        memory.deploy(model)
        yield url, old, memory
    finally:
        old.dispose()


def test_0008_keeps_variable_rows_only_for_cases_with_open_tasks(tmp_path: Path) -> None:
    """Rows an older release left for a case without open tasks go; a case with a task keeps
    its rows, and is still found by them."""
    from liucheng import Clock, Engine
    from liucheng.runtime import SqlStore

    with _old_database(tmp_path, "0007") as (url, old, memory):
        ended = memory.start("store_line", {"note": "ended"})
        [task] = memory.tasks(instance=ended.id)
        memory.complete(task.id, {"ok": True})
        open_case = memory.start("store_line", {"note": "open"})
        for started in (ended, open_case):
            insert_as_before_0011(old, memory, started.id)
        with old.begin() as conn:  # as releases before 0008 left an ended case's rows
            conn.execute(
                sa.text(
                    "INSERT INTO variables (instance_id, scope, name, text_value, json)"
                    " VALUES (:id, 0, 'note', 'ended', '\"ended\"')"
                ),
                {"id": ended.id},
            )
        upgrade(old)
        with old.connect() as conn:
            rows = conn.execute(sa.text("SELECT instance_id, name FROM variables")).all()
    assert sorted(rows) == [(open_case.id, "note")]
    engine = Engine(store=SqlStore(url), clock=Clock.frozen(START))
    [task] = engine.tasks(instance=open_case.id)
    assert engine.tasks(variables={"note": "open"}) == [task]
    assert engine.tasks(variables={"note": "ended"}) == []


def test_0010_one_index_answers_a_process_s_tasks_and_their_due_dates(tmp_path: Path) -> None:
    """``tasks (process_id, due)`` replaces the indexes on ``process_id`` and ``due``; a task
    made before the upgrade is found by its process, and by due date within it, through the
    new index."""
    from liucheng.runtime import SqlStore
    from liucheng.store import TaskQuery

    with _old_database(tmp_path, "0009") as (url, old, memory):
        case = memory.start("store_line", {"note": "open"})
        insert_as_before_0011(old, memory, case.id)
        upgrade(old)
        with old.connect() as conn:
            indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("tasks")}
            conn.execute(
                sa.text("UPDATE tasks SET due = :due"), {"due": "2026-03-04 00:00:00.000000"}
            )
            conn.commit()
            plan = conn.execute(
                sa.text(
                    "EXPLAIN QUERY PLAN SELECT id FROM tasks"
                    " WHERE process_id = :p AND due <= :d ORDER BY due"
                ),
                {"p": "store_line", "d": "2026-03-05 00:00:00.000000"},
            ).all()
            due = conn.execute(
                sa.text("SELECT instance_id FROM tasks WHERE process_id = :p AND due <= :d"),
                {"p": "store_line", "d": "2026-03-05 00:00:00.000000"},
            ).all()
    assert indexes["ix_tasks_process_id_due"] == ["process_id", "due"]
    assert "ix_tasks_process_id" not in indexes and "ix_tasks_due" not in indexes
    assert any("ix_tasks_process_id_due" in str(row[-1]) for row in plan), plan
    assert due == [(case.id,)]
    store = SqlStore(url)
    try:
        [task] = store.tasks(TaskQuery(process="store_line"))
        assert task.instance_id == case.id
        assert any(
            "ix_tasks_process_id_due" in line
            for line in store.explain_tasks(TaskQuery(process="store_line"))
        )
    finally:
        store.close()


def test_0011_packs_history_into_a_row_per_step_and_back(tmp_path: Path) -> None:
    """Events written one row each are packed, a row per run of events with one time, and
    read back unchanged; downgrading unpacks them into exactly the rows there were."""
    from liucheng import Clock, Engine
    from liucheng.engine.serialize import instance_from_json
    from liucheng.runtime import SqlStore

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    url = f"sqlite:///{tmp_path / 'old.db'}"
    clock = Clock.frozen(START)
    memory = Engine(clock=clock)
    memory.deploy(model)
    case = memory.start("store_line", {"note": "before 0011"})
    clock.advance(minutes=5)
    [task] = memory.tasks(instance=case.id)
    memory.complete(task.id, {"ok": True, "amount": Decimal("12.50")})
    inst = instance_from_json(memory.dump(case.id))
    events = list(inst.history)
    times = sorted({time for _, time, *_ in events})
    assert len(times) == 2  # the start's events, then the completion's
    started = times_count(events, times[0])
    # One event of the start a moment later than its neighbours: a row of its own.
    late = 2
    seq, time, kind, element, token, changed, detail = events[late - 1]
    events[late - 1] = (
        seq,
        time + timedelta(microseconds=7),
        kind,
        element,
        token,
        changed,
        detail,
    )

    old = connect(url)
    try:
        upgrade(old, revision="0010")
        writer = SqlStore(old)
        inst.history, inst.history_base = [], len(events)
        writer.insert(inst)
        writer.close()
        write_events_per_row(old, case.id, events)
        with old.connect() as conn:
            before = conn.execute(sa.text("SELECT * FROM history ORDER BY seq")).all()
        upgrade(old)
        with old.connect() as conn:
            steps = conn.execute(
                sa.text("SELECT first_seq, last_seq FROM history ORDER BY first_seq")
            ).all()
        reader = SqlStore(old)
        stored = reader.history(case.id)
        reader.close()
        downgrade(old, "0010")
        with old.connect() as conn:
            after = conn.execute(sa.text("SELECT * FROM history ORDER BY seq")).all()
    finally:
        old.dispose()
    n = len(events)
    assert steps == [(1, 1), (2, 2), (3, started), (started + 1, n)]
    assert stored == [
        (seq, time, kind, element, token, changed, detail)
        for seq, time, kind, element, token, changed, detail in events
    ]
    assert after == before


def downgrade(db: sa.Engine, revision: str) -> None:
    """Take the database's schema back to ``revision`` (as ``upgrade`` goes forward)."""
    from alembic import command

    from liucheng.runtime.database import WRITE_OPTION, alembic_config

    config = alembic_config()
    with db.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()


def times_count(events: Any, time: datetime) -> int:
    """How many events carry ``time``."""
    return sum(1 for event in events if event[1] == time)
