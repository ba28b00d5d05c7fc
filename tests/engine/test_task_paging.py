"""Paging an inbox: ``Engine.tasks(limit=…, after=…)`` hands out every open task exactly once,
in inbox order (oldest first, then by case, then in the order the case created its tasks),
also while tasks are being created and completed between the pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liucheng import Engine, HistoryKind, LiuchengError, UserTask
from liucheng.cli import app
from liucheng.store import TaskCursor

from .conftest import MODELS, START, kinds
from .steps import PERSIST, pause, task_at

Deploy = Callable[..., Engine]
TASK_ID = re.compile(r"\b[0-9a-f]{24}\.\d+\b")
NEXT_PAGE = re.compile(r"--after (\S+)")


def inbox_key(task: UserTask) -> tuple[datetime, str, int]:
    """Inbox order, written out: the task's number in its case is the ``<n>`` of its id."""
    return (task.created, task.instance_id, int(task.id.rpartition(".")[2]))


def pages(engine: Engine, limit: int, **filters: Any) -> list[list[UserTask]]:
    """Every page of ``limit`` tasks, each asked for after the last task of the one before."""
    found = [engine.tasks(limit=limit, **filters)]
    while len(found[-1]) == limit:
        found.append(engine.tasks(limit=limit, after=found[-1][-1], **filters))
    return found


def ids(tasks: list[UserTask]) -> list[str]:
    return [t.id for t in tasks]


def start_cases(engine: Engine, count: int, persist: bool, **variables: Any) -> list[str]:
    started = [engine.start("paging", dict(variables)).id for _ in range(count)]
    for case_id in started:
        pause(engine, case_id, persist)
    return started


@PERSIST
def test_the_pages_hold_every_task_once_in_inbox_order(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_task_paging")
    early = start_cases(engine, 4, persist)  # eight tasks created in one instant
    # ``check`` done in the first case: ``issue`` opens beside ``pay``, which stays open, in
    # the same instant.  (The SQL store once numbered a task by its place among the open ones:
    # ``pay`` and ``issue`` both came out second, so two tasks had one key.)
    engine.complete(task_at(engine, early[0], "check").id)
    pause(engine, early[0], persist)
    engine.clock.advance(minutes=1)
    late = start_cases(engine, 2, persist)
    assert engine.path(early[0]) == ["start", "fork", "check"]
    assert kinds(engine, early[0], HistoryKind.TASK_CREATED) == ["check", "pay", "issue"]
    assert kinds(engine, early[0], HistoryKind.TASK_COMPLETED) == ["check"]

    every = engine.tasks()
    assert len(every) == 12
    keys = [inbox_key(t) for t in every]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # Oldest first: the early cases' tasks in case order, each case's in creation order; then
    # the late cases' a minute later.
    assert [(t.instance_id, t.node) for t in every] == [
        (early[0], "pay"),
        (early[0], "issue"),
        *[(case, node) for case in early[1:] + late for node in ("check", "pay")],
    ]
    for limit in (1, 3, 5, 12, 50):
        found = pages(engine, limit)
        assert all(0 < len(page) <= limit for page in found[:-1]), limit
        assert ids([t for page in found for t in page]) == ids(every), limit
    # With a filter, the pages are those of the filtered inbox.
    security = engine.tasks(group="security_office")
    assert [t.node for t in security] == ["issue"] + ["check"] * 5
    assert [t for page in pages(engine, 2, group="security_office") for t in page] == security
    assert engine.tasks(instance=late[1], limit=1, after=every[-2]) == [every[-1]]


@PERSIST
def test_the_pages_stay_exact_while_tasks_come_and_go(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_task_paging")
    cases = start_cases(engine, 3, persist)
    before = engine.tasks()
    first = engine.tasks(limit=4)
    assert first == before[:4]
    last_seen = first[-1]
    assert (last_seen.instance_id, last_seen.node) == (cases[1], "pay")

    # Between the pages: the page's last task is completed (the cursor outlives it), a task
    # not yet handed out is completed, and new cases bring tasks of their own.
    engine.clock.advance(minutes=5)
    engine.complete(last_seen.id)
    gone = task_at(engine, cases[2], "pay")
    engine.complete(gone.id)
    engine.clock.advance(minutes=5)
    new = start_cases(engine, 2, persist)
    assert engine.instance(cases[2]).active == ("check",)
    assert kinds(engine, cases[2], HistoryKind.TASK_COMPLETED) == ["pay"]

    rest = [t for page in pages_after(engine, 4, last_seen) for t in page]
    seen = ids(first) + ids(rest)
    assert len(seen) == len(set(seen))  # nothing twice
    now_open = engine.tasks()
    # Every task open now is handed out once: on the first page, or on one of the rest.
    assert set(ids(now_open)) <= set(seen)
    # The rest are exactly the tasks now open past the first page, in inbox order.
    assert rest == [t for t in now_open if inbox_key(t) > inbox_key(last_seen)]
    assert [t.node for t in rest] == ["check", "check", "pay", "check", "pay"]
    assert [t.instance_id for t in rest][-4:] == [new[0], new[0], new[1], new[1]]
    assert gone.id not in seen[4:]


def pages_after(engine: Engine, limit: int, after: UserTask) -> list[list[UserTask]]:
    found = [engine.tasks(limit=limit, after=after)]
    while len(found[-1]) == limit:
        found.append(engine.tasks(limit=limit, after=found[-1][-1]))
    return found


def test_pages_of_an_inbox_found_by_a_variable(deploy: Deploy) -> None:
    engine = deploy("test_task_paging")
    gold = start_cases(engine, 3, False, tier="gold")
    start_cases(engine, 2, False, tier="plain")
    gold += start_cases(engine, 2, False, tier="gold")
    every = engine.tasks(variables={"tier": "gold"})
    assert [t.instance_id for t in every] == [case for case in gold for _ in range(2)]
    for limit in (1, 4, 20):
        found = pages(engine, limit, variables={"tier": "gold"})
        assert [t for page in found for t in page] == every, limit


def test_a_cursor_is_the_task_its_key_or_the_keys_text(deploy: Deploy) -> None:
    engine = deploy("test_task_paging")
    start_cases(engine, 3, False)
    every = engine.tasks()
    task = every[1]
    cursor = TaskCursor.of(task)
    assert cursor == (task.created, task.instance_id, int(task.id.rpartition(".")[2]))
    text = cursor.text
    assert text.isascii() and text.replace("-", "").replace("_", "").isalnum()
    assert TaskCursor.parse(text) == cursor
    assert TaskCursor.parse(text).created.tzinfo is not None
    for after in (task, cursor, text):
        assert engine.tasks(limit=2, after=after) == every[2:4]
    # A cursor past the last task: an empty page, not an error.
    assert engine.tasks(after=every[-1]) == []
    # A time in another zone is the same instant.
    shifted = cursor._replace(created=cursor.created.astimezone(UTC))
    assert engine.tasks(after=shifted) == every[2:]
    assert START.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "after",
    [
        "not a cursor",
        "WzEsMiwzXQ",  # the text of [1, 2, 3]
        "WyIyMDI2LTAzLTAyVDA5OjAwOjAwIiwiY2FzZSIsMV0",  # ["2026-03-02T09:00:00","case",1]
        TaskCursor(datetime(2026, 3, 2, 9, 0), "case", 1),
        42,
    ],
)
def test_what_is_not_a_cursor_is_refused(deploy: Deploy, after: Any) -> None:
    engine = deploy("test_task_paging")
    start_cases(engine, 1, False)
    with pytest.raises(LiuchengError, match="after"):
        engine.tasks(limit=1, after=after)


def test_the_command_line_pages_an_inbox(tmp_path: Path) -> None:
    """``liucheng tasks --limit N`` prints the cursor of the next page under a full page;
    ``--after`` with it prints that page."""
    db = ["--db", f"sqlite:///{tmp_path / 'office.db'}"]

    def cli(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, [*args, *db])
        assert result.exit_code == code, result.output
        return result.output

    cli("deploy", str(MODELS / "test_task_paging.bpmn"))
    for _ in range(3):
        cli("start", "paging")
    every = TASK_ID.findall(cli("tasks"))
    assert len(every) == 6
    seen: list[str] = []
    args = ["tasks", "--limit", "4"]
    while True:
        out = cli(*args)
        seen += TASK_ID.findall(out)
        cursor = NEXT_PAGE.search(out)
        if cursor is None:
            break
        args = ["tasks", "--limit", "4", "--after", cursor.group(1)]
    assert seen == every
    assert "after" in cli("tasks", "--after", "nonsense", code=1)
