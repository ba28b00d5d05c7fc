"""Chinese working days: public holidays, make-up working weekends, and years without data."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest

from liucheng.calendar import BusinessCalendar, CalendarRangeError, CalendarSpecError
from liucheng.calendar.china import KNOWN_YEARS
from liucheng.errors import LiuchengError

from .conftest import sh


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# The State Council's schedules as the chinesecalendar 1.11 data has them (checked by hand).
HOLIDAY_WEEKS = {
    "Spring Festival 2025": (
        date(2025, 1, 28),
        date(2025, 2, 4),
        [date(2025, 1, 26), date(2025, 2, 8)],
    ),
    "National Day 2025": (
        date(2025, 10, 1),
        date(2025, 10, 8),
        [date(2025, 9, 28), date(2025, 10, 11)],
    ),
    "Spring Festival 2026": (
        date(2026, 2, 15),
        date(2026, 2, 23),
        [date(2026, 2, 14), date(2026, 2, 28)],
    ),
    "National Day 2026": (
        date(2026, 10, 1),
        date(2026, 10, 7),
        [date(2026, 9, 20), date(2026, 10, 10)],
    ),
}


@pytest.mark.parametrize("name", list(HOLIDAY_WEEKS))
def test_holiday_weeks_are_off_and_their_make_up_weekends_are_working(
    office: BusinessCalendar, name: str
) -> None:
    first, last, make_up = HOLIDAY_WEEKS[name]
    for day in days(first, last):
        assert not office.is_working_day(day), day
    for day in make_up:
        assert day.weekday() >= 5, "a make-up working day is a Saturday or a Sunday"
        assert office.is_working_day(day), day
    # Work goes on the day before and the day after each of these holidays.
    assert office.is_working_day(first - timedelta(1))
    assert office.is_working_day(last + timedelta(1))


def test_mid_autumn_2026_is_a_three_day_weekend_of_its_own(office: BusinessCalendar) -> None:
    assert [office.is_working_day(d) for d in days(date(2026, 9, 24), date(2026, 9, 28))] == [
        True,
        False,
        False,
        False,
        True,
    ]


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_agrees_with_the_package(office: BusinessCalendar, year: int) -> None:
    for day in days(date(year, 1, 1), date(year, 12, 31)):
        assert office.is_working_day(day) == chinese_calendar.is_workday(day), day


def test_known_years_come_from_the_package_data() -> None:
    assert KNOWN_YEARS.start <= 2025
    assert KNOWN_YEARS.stop - 1 >= 2026
    assert KNOWN_YEARS.stop - 1 == max(d.year for d in chinese_calendar.holidays)


# == years without holiday data ====================================================================
AFTER = KNOWN_YEARS.stop  # the first year the installed package knows nothing about
BEFORE = KNOWN_YEARS.start - 1


@pytest.mark.parametrize("year", [AFTER, BEFORE])
def test_a_year_without_data_is_refused_by_default(office: BusinessCalendar, year: int) -> None:
    with pytest.raises(CalendarRangeError) as caught:
        office.is_working_day(date(year, 3, 2))
    error = caught.value
    assert error.year == year
    assert error.known == KNOWN_YEARS
    message = str(error)
    assert f"no Chinese holiday data for {year}" in message
    assert "park-office" in message
    assert '"unknown_years": "weekdays"' in message
    assert isinstance(error, LiuchengError)
    assert isinstance(error, ValueError)  # the engine turns it into an incident


def test_a_deadline_that_runs_into_a_year_without_data_is_refused(
    office: BusinessCalendar,
) -> None:
    last = KNOWN_YEARS.stop - 1
    with pytest.raises(CalendarRangeError):
        office.add_working_days(sh(last, 12, 28, 10), 5)
    # Inside the known years the same calendar still works.
    assert office.add_working_days(sh(last, 12, 1, 10), 3).year == last


def test_the_weekday_fall_back_counts_monday_to_friday_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge = BusinessCalendar.from_dict(
        {
            "name": "bridge",
            "unknown_years": "weekdays",
            # The organisation lists the new year's holidays itself until the package knows them.
            "closed_days": [f"{AFTER}-01-01"],
        }
    )
    monday = date(AFTER, 1, 4)
    while monday.weekday() != 0:
        monday += timedelta(1)
    with caplog.at_level(logging.WARNING, logger="liucheng.calendar"):
        week = [bridge.is_working_day(monday + timedelta(n)) for n in range(7)]
    assert week == [True] * 5 + [False] * 2
    assert not bridge.is_working_day(date(AFTER, 1, 1))
    assert "no Chinese holiday data" in caplog.text
    assert "Warning" in bridge.description
    assert "Monday to Friday" in bridge.description
    # Known years still use the real data.
    assert bridge.is_working_day(date(2025, 1, 26))


def test_the_fall_back_is_a_choice_only_for_chinese_calendars() -> None:
    with pytest.raises(CalendarSpecError) as caught:
        BusinessCalendar.from_dict({"name": "w", "base": "weekdays", "unknown_years": "weekdays"})
    assert caught.value.field == "unknown_years"


def test_a_weekday_calendar_knows_every_year() -> None:
    plain = BusinessCalendar.from_dict({"name": "plain", "base": "weekdays"})
    assert plain.known_years is None
    assert plain.is_working_day(date(2100, 3, 1))  # a Monday
    assert not plain.is_working_day(date(2025, 1, 26))  # a Sunday, whatever China does
    assert plain.is_working_day(date(2025, 1, 28))  # Spring Festival is not a weekday holiday
