"""Working-time arithmetic on the office calendar: hours, days, zones, closed and extra days."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from liucheng.calendar import (
    BusinessCalendar,
    CalendarError,
    NaiveDatetimeError,
    WorkingDuration,
    parse_working_duration,
)

from .conftest import OFFICE_SPEC, SH, sh

HOUR = timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


# == working hours =================================================================================
@pytest.mark.parametrize(
    ("hour", "minute", "working"),
    [
        (8, 59, False),
        (9, 0, True),
        (11, 59, True),
        (12, 0, False),  # lunch starts
        (13, 29, False),
        (13, 30, True),
        (17, 29, True),
        (17, 30, False),  # a period ends before its end instant
        (23, 0, False),
    ],
)
def test_working_time_has_a_lunch_break(
    office: BusinessCalendar, hour: int, minute: int, working: bool
) -> None:
    assert office.is_working_time(sh(2026, 3, 2, hour, minute)) is working


def test_no_working_time_on_a_weekend_or_a_holiday(office: BusinessCalendar) -> None:
    assert not office.is_working_time(sh(2026, 3, 7, 10))
    assert not office.is_working_time(sh(2025, 10, 3, 10))
    assert office.is_working_time(sh(2025, 9, 28, 10))  # make-up Sunday


def test_working_periods_of_a_day(office: BusinessCalendar) -> None:
    assert office.working_periods(date(2026, 3, 2)) == [
        (sh(2026, 3, 2, 9), sh(2026, 3, 2, 12)),
        (sh(2026, 3, 2, 13, 30), sh(2026, 3, 2, 17, 30)),
    ]
    assert office.working_periods(date(2026, 3, 7)) == []


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (sh(2026, 3, 2, 10), sh(2026, 3, 2, 10)),
        (sh(2026, 3, 2, 12, 15), sh(2026, 3, 2, 13, 30)),
        (sh(2026, 3, 2, 17, 30), sh(2026, 3, 3, 9)),
        (sh(2026, 3, 6, 18), sh(2026, 3, 9, 9)),
        (sh(2025, 1, 24, 18), sh(2025, 1, 26, 9)),  # the make-up Sunday before Spring Festival
        (sh(2025, 1, 27, 17, 45), sh(2025, 2, 5, 9)),
        (sh(2025, 9, 30, 17, 30), sh(2025, 10, 9, 9)),
        (sh(2025, 12, 31, 18), sh(2026, 1, 4, 9)),  # New Year off, Sunday 4 January worked
    ],
)
def test_next_working_time(office: BusinessCalendar, moment: datetime, expected: datetime) -> None:
    assert office.next_working_time(moment) == expected


# == time zones ====================================================================================
def test_a_utc_evening_is_the_next_morning_in_shanghai(office: BusinessCalendar) -> None:
    sunday_night_utc = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # Monday 07:00 in Shanghai
    assert office.is_working_day(sunday_night_utc)
    assert not office.is_working_time(sunday_night_utc)
    nxt = office.next_working_time(sunday_night_utc)
    assert nxt == sh(2026, 3, 2, 9)
    assert nxt.tzinfo is SH
    # The submission day is Monday (in Shanghai), so the first working day counted is Tuesday.
    assert office.add_working_days(sunday_night_utc, 1) == sh(2026, 3, 3, 17, 30)
    assert office.is_working_time(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 09:00 Shanghai


def test_results_do_not_depend_on_the_zone_of_the_input(office: BusinessCalendar) -> None:
    in_shanghai = sh(2025, 9, 26, 15)
    in_new_york = in_shanghai.astimezone(NEW_YORK)  # still Friday 26th, 03:00
    for method in (office.next_working_time, office.is_working_time):
        assert method(in_new_york) == method(in_shanghai)
    assert office.add_working_days(in_new_york, 5) == office.add_working_days(in_shanghai, 5)
    result = office.add_working_hours(in_new_york, HOUR)
    assert result == sh(2025, 9, 26, 16)
    assert result.tzinfo is SH


NAIVE = datetime(2026, 3, 2, 10)
NAIVE_CALLS: dict[str, Callable[[BusinessCalendar], object]] = {
    "is_working_day": lambda c: c.is_working_day(NAIVE),
    "is_working_time": lambda c: c.is_working_time(NAIVE),
    "next_working_time": lambda c: c.next_working_time(NAIVE),
    "add_working_days": lambda c: c.add_working_days(NAIVE, 1),
    "add_working_hours": lambda c: c.add_working_hours(NAIVE, HOUR),
    "working_time_between start": lambda c: c.working_time_between(NAIVE, sh(2026, 3, 3)),
    "working_time_between end": lambda c: c.working_time_between(sh(2026, 3, 1), NAIVE),
    "add": lambda c: c.add(NAIVE, WorkingDuration(days=1)),
}


@pytest.mark.parametrize("call", list(NAIVE_CALLS))
def test_naive_datetimes_are_refused(office: BusinessCalendar, call: str) -> None:
    with pytest.raises(NaiveDatetimeError, match="has no time zone") as caught:
        NAIVE_CALLS[call](office)
    assert "ZoneInfo('Asia/Shanghai')" in str(caught.value)


def test_a_plain_date_is_a_day_of_the_calendar(office: BusinessCalendar) -> None:
    assert office.is_working_day(date(2026, 3, 2))
    with pytest.raises(TypeError):
        office.is_working_day("2026-03-02")  # type: ignore[arg-type]


# == working days: P9 company registration ("business licence: 5 working days") ====================
@pytest.mark.parametrize(
    ("submitted", "days", "deadline"),
    [
        # Friday afternoon before National Day 2025: Sunday 28 Sep is worked, 1-8 Oct are off.
        (sh(2025, 9, 26, 15), 5, sh(2025, 10, 10, 17, 30)),
        # Friday before Spring Festival 2025: Sunday 26 Jan worked, 28 Jan - 4 Feb off.
        (sh(2025, 1, 24, 16), 5, sh(2025, 2, 7, 17, 30)),
        # Friday before Spring Festival 2026: Saturday 14 Feb worked, 15-23 Feb off.
        (sh(2026, 2, 13, 15), 5, sh(2026, 2, 27, 17, 30)),
        # Across National Day 2026: 1-7 Oct off, Saturday 10 Oct worked.
        (sh(2026, 9, 29, 15), 5, sh(2026, 10, 12, 17, 30)),
        # Across the Mid-Autumn weekend 2026 (Friday 25 Sep off).
        (sh(2026, 9, 24, 15), 3, sh(2026, 9, 30, 17, 30)),
        # An ordinary week: Friday to Friday.
        (sh(2026, 3, 6, 15), 5, sh(2026, 3, 13, 17, 30)),
        # Tax registration, 7 working days from the licence: Saturday 11 Oct is worked.
        (sh(2025, 10, 10, 17, 30), 7, sh(2025, 10, 20, 17, 30)),
        # Organisation code, 1 working day.
        (sh(2026, 3, 2, 10), 1, sh(2026, 3, 3, 17, 30)),
        # The submission day never counts, even before opening time.
        (sh(2026, 3, 2, 8), 1, sh(2026, 3, 3, 17, 30)),
        # A weekend submission: Monday is the first working day.
        (sh(2026, 3, 7, 10), 1, sh(2026, 3, 9, 17, 30)),
        # A submission on a make-up Sunday: that day does not count either.
        (sh(2025, 9, 28, 10), 1, sh(2025, 9, 29, 17, 30)),
        # Across the new year: 1-3 Jan 2026 off, Sunday 4 Jan worked.
        (sh(2025, 12, 31, 10), 2, sh(2026, 1, 5, 17, 30)),
    ],
)
def test_add_working_days(
    office: BusinessCalendar, submitted: datetime, days: int, deadline: datetime
) -> None:
    assert office.add_working_days(submitted, days) == deadline


def test_zero_working_days_is_the_start(office: BusinessCalendar) -> None:
    start = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
    assert office.add_working_days(start, 0) == start
    assert office.add_working_days(start, 0).tzinfo is SH


def test_working_days_must_be_a_whole_non_negative_number(office: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="negative"):
        office.add_working_days(sh(2026, 3, 2), -1)
    with pytest.raises(TypeError):
        office.add_working_days(sh(2026, 3, 2), True)
    with pytest.raises(TypeError):
        office.add_working_days(sh(2026, 3, 2), 1.5)  # type: ignore[arg-type]


# == working hours: P4 customer service ("settled within 1 working hour") =========================
@pytest.mark.parametrize(
    ("received", "amount", "due"),
    [
        (sh(2026, 3, 2, 10), HOUR, sh(2026, 3, 2, 11)),
        (sh(2026, 3, 2, 11, 30), HOUR, sh(2026, 3, 2, 14)),  # half an hour before lunch
        (sh(2026, 3, 2, 12, 30), HOUR, sh(2026, 3, 2, 14, 30)),  # received during lunch
        (sh(2026, 3, 2, 16, 30), HOUR, sh(2026, 3, 2, 17, 30)),  # due at closing, not next day
        (sh(2026, 3, 6, 17), HOUR, sh(2026, 3, 9, 9, 30)),  # Friday evening
        (sh(2026, 3, 7, 10), HOUR, sh(2026, 3, 9, 10)),  # Saturday
        (sh(2025, 9, 30, 17), HOUR, sh(2025, 10, 9, 9, 30)),  # eve of National Day
        (sh(2025, 10, 3, 10), HOUR, sh(2025, 10, 9, 10)),  # during the holiday
        (sh(2025, 1, 24, 17), HOUR, sh(2025, 1, 26, 9, 30)),  # make-up Sunday
        (sh(2026, 3, 2, 11, 45), timedelta(minutes=30), sh(2026, 3, 2, 13, 45)),
        (sh(2026, 3, 2, 9), timedelta(hours=70), sh(2026, 3, 13, 17, 30)),  # ten full days
    ],
)
def test_add_working_hours(
    office: BusinessCalendar, received: datetime, amount: timedelta, due: datetime
) -> None:
    assert office.add_working_hours(received, amount) == due


def test_zero_working_time_leaves_the_start_alone(office: BusinessCalendar) -> None:
    saturday = sh(2026, 3, 7, 10)
    assert office.add_working_hours(saturday, timedelta(0)) == saturday


def test_working_time_must_be_a_non_negative_timedelta(office: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="negative"):
        office.add_working_hours(sh(2026, 3, 2), -HOUR)
    with pytest.raises(TypeError):
        office.add_working_hours(sh(2026, 3, 2), 1)  # type: ignore[arg-type]


# == working time between two instants (SLA reports) ===============================================
@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (sh(2026, 3, 2, 9), sh(2026, 3, 2, 17, 30), timedelta(hours=7)),
        (sh(2026, 3, 2, 11), sh(2026, 3, 2, 14), timedelta(hours=1, minutes=30)),
        (sh(2026, 3, 7, 9), sh(2026, 3, 8, 18), timedelta(0)),
        (sh(2025, 9, 26, 15), sh(2025, 10, 10, 17, 30), timedelta(hours=37, minutes=30)),
        (sh(2025, 12, 31, 9), sh(2026, 1, 5, 9), timedelta(hours=14)),
    ],
)
def test_working_time_between(
    office: BusinessCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert office.working_time_between(start, end) == expected
    assert office.working_time_between(end, start) == -expected


# == working-time durations ========================================================================
@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("P5WD", sh(2025, 9, 26, 15), sh(2025, 10, 10, 17, 30)),
        ("PT1WH", sh(2026, 3, 2, 11, 30), sh(2026, 3, 2, 14)),
        ("PT30WM", sh(2026, 3, 2, 17, 15), sh(2026, 3, 3, 9, 15)),
        # One working day (to the end of Tuesday), then four working hours.
        ("P1WDT4WH", sh(2026, 3, 2, 10), sh(2026, 3, 4, 14, 30)),
        ("P0WD", sh(2026, 3, 7, 10), sh(2026, 3, 7, 10)),
    ],
)
def test_add_a_working_duration(
    office: BusinessCalendar, text: str, start: datetime, due: datetime
) -> None:
    duration = parse_working_duration(text)
    assert duration is not None
    assert office.add(start, duration) == due


def test_add_wants_a_working_duration(office: BusinessCalendar) -> None:
    with pytest.raises(TypeError, match="parse_working_duration"):
        office.add(sh(2026, 3, 2), "P1WD")  # type: ignore[arg-type]


# == the organisation's own days ===================================================================
def test_closed_days_are_skipped() -> None:
    closed = BusinessCalendar.from_dict({**OFFICE_SPEC, "closed_days": ["2026-05-06"]})
    open_ = BusinessCalendar.from_dict(OFFICE_SPEC)
    assert not closed.is_working_day(date(2026, 5, 6))
    # Labour Day 1-5 May 2026, then (closed) 6 May, 7, 8, and the make-up Saturday 9 May.
    assert closed.add_working_days(sh(2026, 4, 30, 15), 3) == sh(2026, 5, 9, 17, 30)
    assert open_.add_working_days(sh(2026, 4, 30, 15), 3) == sh(2026, 5, 8, 17, 30)
    assert closed.add_working_hours(sh(2026, 4, 30, 17), HOUR) == sh(2026, 5, 7, 9, 30)
    assert closed.working_time_between(sh(2026, 5, 6, 9), sh(2026, 5, 7, 9)) == timedelta(0)


def test_extra_working_days_are_counted() -> None:
    extra = BusinessCalendar.from_dict({**OFFICE_SPEC, "extra_working_days": ["2026-03-08"]})
    assert extra.is_working_day(date(2026, 3, 8))  # a Sunday
    assert extra.add_working_days(sh(2026, 3, 6, 15), 1) == sh(2026, 3, 8, 17, 30)
    assert extra.add_working_hours(sh(2026, 3, 7, 10), HOUR) == sh(2026, 3, 8, 10)
    assert extra.next_working_time(sh(2026, 3, 7, 10)) == sh(2026, 3, 8, 9)


# == round-the-clock hours and daylight saving =====================================================
def test_hours_ending_at_midnight() -> None:
    duty = BusinessCalendar.from_dict(
        {
            "name": "duty",
            "base": "weekdays",
            "timezone": "UTC",
            "working_hours": [["00:00", "24:00"]],
        }
    )

    def utc(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]

    assert duty.add_working_hours(utc(2026, 3, 6, 23), 2 * HOUR) == utc(2026, 3, 9, 1)
    end_of_tuesday = duty.add_working_days(utc(2026, 3, 2, 10), 1)
    assert end_of_tuesday == utc(2026, 3, 4)  # the end of Tuesday is Wednesday's midnight
    # ...and it still belongs to Tuesday, so counting on from it gives the end of Wednesday.
    assert duty.add_working_days(end_of_tuesday, 1) == utc(2026, 3, 5)
    assert duty.add_working_days(utc(2026, 3, 2, 10), 2) == utc(2026, 3, 5)
    assert duty.is_working_time(utc(2026, 3, 3))
    assert duty.next_working_time(utc(2026, 3, 7, 10)) == utc(2026, 3, 9)
    assert duty.working_time_between(utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)) == 24 * HOUR


def test_daylight_saving_days_are_shorter_and_longer() -> None:
    berlin = BusinessCalendar.from_dict(
        {
            "name": "berlin",
            "base": "weekdays",
            "timezone": "Europe/Berlin",
            "working_hours": [["00:00", "24:00"]],
            "extra_working_days": ["2026-03-29", "2026-10-25"],  # the two change-over Sundays
        }
    )

    def local(*args: int) -> datetime:
        return datetime(*args, tzinfo=BERLIN)  # type: ignore[arg-type, misc]

    assert berlin.working_time_between(local(2026, 3, 29), local(2026, 3, 30)) == 23 * HOUR
    assert berlin.working_time_between(local(2026, 10, 25), local(2026, 10, 26)) == 25 * HOUR
    # 01:00 CET plus two hours of elapsed time is 04:00 CEST.
    assert berlin.add_working_hours(local(2026, 3, 29, 1), 2 * HOUR) == local(2026, 3, 29, 4)


def test_office_hours_on_a_daylight_saving_monday_are_unchanged() -> None:
    berlin = BusinessCalendar.from_dict(
        {**OFFICE_SPEC, "name": "b", "base": "weekdays", "timezone": "Europe/Berlin"}
    )
    monday = datetime(2026, 3, 30, 9, tzinfo=BERLIN)
    assert berlin.add_working_hours(monday, 7 * HOUR) == datetime(
        2026, 3, 30, 17, 30, tzinfo=BERLIN
    )


# == speed =========================================================================================
def test_long_additions_do_not_walk_minute_by_minute(office: BusinessCalendar) -> None:
    start = sh(2024, 1, 2, 10)
    office.add_working_days(start, 500)  # build the years once
    began = time.perf_counter()
    for n in range(1, 2001):
        office.add_working_days(start, n % 400 + 1)
        office.add_working_hours(start, timedelta(hours=n % 2000 + 1))
    # Each call is a few binary searches (tens of microseconds); a per-minute walk would take
    # minutes here, and a per-day walk seconds.  The bound is loose for slow CI machines.
    assert time.perf_counter() - began < 2.0
    assert office.add_working_days(start, 10) == sh(2024, 1, 16, 17, 30)
