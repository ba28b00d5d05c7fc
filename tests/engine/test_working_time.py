"""Timers and due dates in working time (``P5WD``, ``PT1WH``) on the organisation's calendars.

The case starts on Friday 26 September 2025 at 16:45 in Shanghai, just before the National Day
week: Sunday 28 September is a make-up working day, 1–8 October are holidays, Saturday
11 October is worked again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from liucheng import Clock, Engine, HistoryKind
from liucheng.errors import BpmnValidationError

from .conftest import MODELS, kinds, roundtrip

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY = datetime(2025, 9, 26, 16, 45, tzinfo=SHANGHAI)
CALENDARS = {
    "default": "park-office",
    "calendars": [
        {"name": "park-office"},  # Chinese working days, 09:00-12:00 and 13:30-17:30
        {
            "name": "licence-office",
            "working_hours": [["09:00", "17:00"]],
            "closed_days": ["2025-10-09"],  # the office's own closing day
        },
    ],
}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def office(request: pytest.FixtureRequest) -> Iterator[Engine]:
    store = None if request.param == "memory" else request.getfixturevalue(f"{request.param}_store")
    yield Engine(store=store, clock=Clock.frozen(FRIDAY), calendars=CALENDARS)


def test_working_time_timers(office: Engine) -> None:
    office.deploy(MODELS / "test_working_time_timers.bpmn")
    case = office.start("licence")
    (answer,) = office.tasks(instance=case.id)
    # 45 minutes are left on Friday; the other 15 come on Sunday's make-up working morning.
    assert answer.due == datetime(2025, 9, 28, 9, 15, tzinfo=SHANGHAI)
    roundtrip(office, case.id)

    case = office.complete(answer.id, {"answered": True})
    # The count starts the next working day: Sun 28, Mon 29, Tue 30 Sep; 1-8 Oct are holidays
    # and 9 Oct is the office's own closed day; Fri 10, Sat 11 Oct (make-up) -> 17:00 that day.
    deadline = datetime(2025, 10, 11, 17, 0, tzinfo=SHANGHAI)
    assert office.next_due() == deadline
    roundtrip(office, case.id)

    office.clock.advance(seconds=(deadline - FRIDAY).total_seconds() - 60)
    assert office.run_due_jobs() == 0
    office.clock.advance(minutes=1)
    assert office.run_due_jobs() == 1
    case = office.instance(case.id)
    assert case.active == ("escalate",)
    assert office.path(case.id) == ["start", "answer", "five_days"]
    assert kinds(office, case.id, HistoryKind.TIMER_FIRED) == ["five_days"]
    assert case.variables == {"answered": True}


def test_unknown_calendar_is_refused_at_deploy() -> None:
    engine = Engine(calendars=CALENDARS)
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_working_time_unknown_calendar.bpmn")
    text = str(caught.value)
    assert "five_days" in text and "no business calendar is named 'nowhere'" in text
    assert engine.processes() == []


def test_bad_working_duration_is_refused_at_deploy() -> None:
    engine = Engine(calendars=CALENDARS)
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(MODELS / "test_working_time_bad_duration.bpmn")
    text = str(caught.value)
    assert "five_days" in text and "P5WDX" in text


def test_default_calendar_is_chinese_working_days() -> None:
    """An engine given no calendars counts on the standard one (Chinese working days)."""
    engine = Engine(clock=Clock.frozen(FRIDAY))
    engine.deploy(
        (MODELS / "test_working_time_timers.bpmn")
        .read_bytes()
        .replace(b' liucheng:calendar="park-office"', b"")
        .replace(b' liucheng:calendar="licence-office"', b"")
    )
    case = engine.start("licence")
    (answer,) = engine.tasks(instance=case.id)
    assert answer.due == datetime(2025, 9, 28, 9, 15, tzinfo=SHANGHAI)
    engine.complete(answer.id)
    # Sun 28, Mon 29, Tue 30 Sep, Thu 9, Fri 10 Oct: the end of working hours on the fifth.
    assert engine.next_due() == datetime(2025, 10, 10, 17, 30, tzinfo=SHANGHAI)
