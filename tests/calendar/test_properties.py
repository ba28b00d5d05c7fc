"""Laws of working-time arithmetic, checked on random instants and amounts (hypothesis).

Three calendars with different shapes: the Shanghai office on Chinese working days, a Berlin
office with daylight saving, odd hours and its own closed and extra days, and a round-the-clock
duty desk whose hours end at 24:00.  Instants stay inside the years the holiday data knows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liucheng.calendar import BusinessCalendar

from .conftest import OFFICE_SPEC

CALENDARS = [
    BusinessCalendar.from_dict(OFFICE_SPEC),
    BusinessCalendar.from_dict(
        {
            "name": "berlin",
            "base": "weekdays",
            "timezone": "Europe/Berlin",
            "working_hours": [["08:15", "12:00"], ["12:45", "18:10"]],
            "closed_days": ["2024-12-24", "2025-05-01", "2026-04-03"],
            "extra_working_days": ["2025-03-30", "2025-10-26"],  # the change-over Sundays
        }
    ),
    BusinessCalendar.from_dict(
        {
            "name": "duty",
            "base": "weekdays",
            "timezone": "UTC",
            "working_hours": [["00:00", "24:00"]],
        }
    ),
]
ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), UTC]
MICROSECOND = timedelta(microseconds=1)

calendars = st.sampled_from(CALENDARS)
instants = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30)),
    st.sampled_from(ZONES),
)
# Round minutes as well as odd microseconds: boundaries such as 12:00 sharp matter most.
on_the_minute = instants.map(lambda t: t.replace(second=0, microsecond=0))
moments = st.one_of(instants, on_the_minute)
amounts = st.one_of(
    st.integers(1, 300 * 60).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(min_value=MICROSECOND, max_value=timedelta(hours=300)),
)
PROPERTY = settings(max_examples=150, deadline=None)


def in_working_time(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Inside a working period, its end included (where a deadline may fall)."""
    return calendar.is_working_time(moment) or calendar.is_working_time(moment - MICROSECOND)


@PROPERTY
@given(calendars, moments, st.integers(0, 60), st.integers(0, 60))
def test_working_days_add_up(calendar: BusinessCalendar, start: datetime, a: int, b: int) -> None:
    at_once = calendar.add_working_days(start, a + b)
    in_two_steps = calendar.add_working_days(calendar.add_working_days(start, a), b)
    assert at_once == in_two_steps


@PROPERTY
@given(calendars, moments, st.integers(1, 60))
def test_a_working_day_deadline_is_the_end_of_a_working_period(
    calendar: BusinessCalendar, start: datetime, days: int
) -> None:
    deadline = calendar.add_working_days(start, days)
    assert deadline > start
    assert deadline.tzinfo is calendar.zone
    local_start = start.astimezone(calendar.zone)
    # (At midnight exactly, the end of a round-the-clock day belongs to the day before.)
    assume(local_start.time() != time(0))
    last_day = (deadline - MICROSECOND).astimezone(calendar.zone).date()
    assert deadline == calendar.working_periods(last_day)[-1][1]
    # The day of the start never counts; `days` working days follow it, the last one included.
    after_start = local_start.date() + timedelta(days=1)
    between = [after_start + timedelta(n) for n in range((last_day - after_start).days + 1)]
    assert sum(calendar.is_working_day(day) for day in between) == days


@PROPERTY
@given(calendars, moments, amounts)
def test_working_time_between_undoes_add_working_hours(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    due = calendar.add_working_hours(start, amount)
    assert due > start
    assert calendar.working_time_between(start, due) == amount
    assert in_working_time(calendar, due)
    # The earliest such instant: a microsecond before, the amount has not yet passed.
    assert calendar.working_time_between(start, due - MICROSECOND) < amount


@PROPERTY
@given(calendars, moments, amounts, amounts)
def test_working_hours_add_up(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    at_once = calendar.add_working_hours(start, a + b)
    assert at_once == calendar.add_working_hours(calendar.add_working_hours(start, a), b)


@PROPERTY
@given(calendars, moments, moments, moments)
def test_working_time_between_is_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    ab = calendar.working_time_between(a, b)
    bc = calendar.working_time_between(b, c)
    assert ab + bc == calendar.working_time_between(a, c)
    if ab > timedelta(0):
        assert a < b
    if ab < timedelta(0):
        assert b < a


@PROPERTY
@given(calendars, moments)
def test_next_working_time(calendar: BusinessCalendar, moment: datetime) -> None:
    nxt = calendar.next_working_time(moment)
    assert nxt >= moment
    assert calendar.is_working_time(nxt)
    assert calendar.working_time_between(moment, nxt) == timedelta(0)
    if calendar.is_working_time(moment):
        assert nxt == moment


@PROPERTY
@given(calendars, moments, moments, amounts)
def test_later_start_never_gives_an_earlier_due_time(
    calendar: BusinessCalendar, a: datetime, b: datetime, amount: timedelta
) -> None:
    early, late = sorted((a, b))
    assert calendar.add_working_hours(early, amount) <= calendar.add_working_hours(late, amount)
    assert calendar.add_working_days(early, 3) <= calendar.add_working_days(late, 3)


@PROPERTY
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_chinese_working_days_agree_with_the_package(day: date) -> None:
    assert CALENDARS[0].is_working_day(day) == chinese_calendar.is_workday(day)
