"""A step's events packed into one history row and unpacked again (``runtime.history_rows``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng.engine.state import changes_dict
from liucheng.errors import LiuchengError
from liucheng.runtime import history_rows

AT = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def encode(changed: Any) -> str:
    return json.dumps(changes_dict(changed))


def test_a_step_round_trips_with_one_time_stored_once_and_a_differing_time_as_an_offset() -> None:
    later = AT + timedelta(seconds=1, microseconds=5)
    events = [
        (4, AT, "element_started", "approve", 1, None, None),
        (5, AT, "variables_changed", None, 1, ("ok", True), None),
        (6, later, "task_created", "approve", 2, None, "c.2"),
    ]
    packed = history_rows.pack(events, encode)
    assert json.loads(packed) == [
        ["element_started", "approve", 1],
        ["variables_changed", None, 1, '{"ok": true}'],
        ["task_created", "approve", 2, None, "c.2", 1_000_005],
    ]
    stored_time = AT.astimezone(UTC)  # as the database gives it back
    assert history_rows.unpack("c", 4, 6, stored_time, packed) == [
        (4, AT, "element_started", "approve", 1, None, None),
        (5, AT, "variables_changed", None, 1, '{"ok": true}', None),
        (6, later, "task_created", "approve", 2, None, "c.2"),
    ]


def test_a_row_whose_events_do_not_match_its_numbering_is_refused_naming_case_and_row() -> None:
    packed = history_rows.pack([(1, AT, "instance_started", None, None, None, "p")], encode)
    with pytest.raises(LiuchengError, match=r"case 'c1': history row 1\.\.2 holds 1 events"):
        history_rows.unpack("c1", 1, 2, AT, packed)


def test_a_gap_in_a_case_s_numbering_is_refused_and_nothing_is_written(tmp_path: Any) -> None:
    from pathlib import Path

    from liucheng import Clock, Engine
    from liucheng.engine.serialize import instance_from_json
    from liucheng.runtime import SqlStore

    model = Path(__file__).parent / "models" / "store_case.bpmn"
    memory = Engine(clock=Clock.frozen(AT))
    memory.deploy(model)
    case = memory.start("store_line", {"note": "gap"})
    inst = instance_from_json(memory.dump(case.id))
    inst.history = inst.history[2:]  # events 3.. with none stored
    store = SqlStore(f"sqlite:///{tmp_path / 'gap.db'}", migrate=True)
    try:
        with pytest.raises(LiuchengError, match=rf"case '{case.id}': history events 3\.\."):
            store.insert(inst)
        assert store.load(case.id) is None
        assert store.history(case.id) == []
    finally:
        store.close()
