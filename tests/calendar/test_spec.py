"""Calendar specs as data: defaults, round trips, and errors that name the field."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from liucheng.calendar import BusinessCalendar, CalendarSpec, CalendarSpecError
from liucheng.errors import LiuchengError

from .conftest import OFFICE_SPEC

FULL_SPEC: dict[str, Any] = {
    "name": "park-office",
    "timezone": "Asia/Shanghai",
    "base": "cn",
    "working_hours": [["08:30", "12:00"], ["14:00", "17:30"]],
    "closed_days": ["2026-05-06", "2026-03-12"],
    "extra_working_days": ["2026-03-08"],
    "unknown_years": "weekdays",
}


def test_only_the_name_is_required_and_the_defaults_are_written_out() -> None:
    calendar = BusinessCalendar.from_dict({"name": "park-office"})
    assert calendar.to_dict() == {
        "name": "park-office",
        "timezone": "Asia/Shanghai",
        "base": "cn",
        "working_hours": [["09:00", "12:00"], ["13:30", "17:30"]],
        "closed_days": [],
        "extra_working_days": [],
        "unknown_years": "error",
    }
    assert calendar == BusinessCalendar.from_dict(OFFICE_SPEC)


def test_to_dict_round_trips_through_json() -> None:
    calendar = BusinessCalendar.from_dict(FULL_SPEC)
    data = calendar.to_dict()
    assert data["closed_days"] == ["2026-03-12", "2026-05-06"]  # sorted, so stable to store
    again = BusinessCalendar.from_dict(json.loads(json.dumps(data)))
    assert again == calendar
    assert again.to_dict() == data
    assert hash(again) == hash(calendar)


def test_a_weekday_calendar_writes_no_unknown_years_field() -> None:
    data = BusinessCalendar.from_dict({"name": "w", "base": "weekdays"}).to_dict()
    assert "unknown_years" not in data
    assert BusinessCalendar.from_dict(data).to_dict() == data


def test_working_hours_may_end_at_midnight() -> None:
    spec = {"name": "duty", "base": "weekdays", "working_hours": [["00:00", "24:00"]]}
    assert BusinessCalendar.from_dict(spec).to_dict()["working_hours"] == [["00:00", "24:00"]]


def test_a_spec_can_be_built_in_python_and_is_checked_the_same_way() -> None:
    spec = CalendarSpec(
        "py",
        working_hours=[[9 * 60, 17 * 60]],  # type: ignore[arg-type]
        closed_days={date(2026, 5, 6)},  # type: ignore[arg-type]
    )
    assert spec.working_hours == ((540, 1020),)
    assert spec.closed_days == frozenset({date(2026, 5, 6)})
    with pytest.raises(CalendarSpecError) as caught:
        CalendarSpec("py", working_hours=((600, 540),))
    assert caught.value.field == "working_hours[0]"
    with pytest.raises(CalendarSpecError) as caught:
        CalendarSpec("py", closed_days=frozenset({datetime(2026, 5, 6)}))
    assert caught.value.field == "closed_days"


def test_date_objects_are_accepted_in_day_lists() -> None:
    calendar = BusinessCalendar.from_dict({"name": "d", "closed_days": [date(2026, 5, 6)]})
    assert calendar.to_dict()["closed_days"] == ["2026-05-06"]


def spec_with(**changes: Any) -> dict[str, Any]:
    spec = dict(FULL_SPEC)
    spec.update(changes)
    return {k: v for k, v in spec.items() if v is not ...}


BAD_SPECS = [
    ({"timezone": "Asia/Shanghai"}, "name", "needs a name"),
    (spec_with(name=""), "name", "non-empty"),
    (spec_with(name=" office"), "name", "without spaces"),
    (spec_with(name=7), "name", "non-empty text"),
    (spec_with(holidays=["2026-05-06"]), "holidays", "unknown field"),
    (spec_with(timezone="Mars/Olympus"), "timezone", "not a known time zone"),
    (spec_with(timezone="../etc/passwd"), "timezone", "not a known time zone"),
    (spec_with(timezone=8), "timezone", "must be text"),
    (spec_with(base="hk"), "base", "'hk' is not a base"),
    (spec_with(unknown_years="guess"), "unknown_years", "'guess' is not allowed"),
    (spec_with(working_hours=[]), "working_hours", "at least one period"),
    (spec_with(working_hours="09:00-17:00"), "working_hours", "list of [start, end] pairs"),
    (spec_with(working_hours=[["09:00"]]), "working_hours[0]", "[start, end] pair"),
    (spec_with(working_hours=[["09:00", "25:00"]]), "working_hours[0][1]", "not a time of day"),
    (spec_with(working_hours=[["9:00", "12:00"]]), "working_hours[0][0]", "write HH:MM"),
    (spec_with(working_hours=[["24:00", "24:00"]]), "working_hours[0][0]", "00:00 to 23:59"),
    (spec_with(working_hours=[["09:60", "12:00"]]), "working_hours[0][0]", "not a time of day"),
    (spec_with(working_hours=[["12:00", "09:00"]]), "working_hours[0]", "not before its end"),
    (
        spec_with(working_hours=[["09:00", "12:00"], ["11:00", "17:00"]]),
        "working_hours[1]",
        "without overlap",
    ),
    (
        spec_with(working_hours=[["13:00", "17:00"], ["09:00", "12:00"]]),
        "working_hours[1]",
        "in order",
    ),
    (spec_with(closed_days="2026-05-06"), "closed_days", "list of dates"),
    (spec_with(closed_days=["2026-02-30"]), "closed_days[0]", "not a date"),
    (spec_with(closed_days=["20260506"]), "closed_days[0]", "YYYY-MM-DD"),
    (spec_with(closed_days=["2026-05-06T00:00"]), "closed_days[0]", "YYYY-MM-DD"),
    (spec_with(closed_days=[datetime(2026, 5, 6)]), "closed_days[0]", "not a date"),
    (spec_with(closed_days=["2026-05-06", "2026-05-06"]), "closed_days[1]", "closed_days[0]"),
    (spec_with(extra_working_days=["2026-05-06"]), "extra_working_days", "also in closed_days"),
]


@pytest.mark.parametrize(("spec", "field", "fragment"), BAD_SPECS)
def test_an_invalid_spec_is_refused_naming_the_field(
    spec: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(CalendarSpecError) as caught:
        BusinessCalendar.from_dict(spec)
    error = caught.value
    assert error.field == field
    assert fragment in error.message
    assert f"field {field!r}" in str(error)
    assert isinstance(error, LiuchengError)


def test_the_error_names_the_calendar_when_it_has_a_readable_name() -> None:
    with pytest.raises(CalendarSpecError) as caught:
        BusinessCalendar.from_dict(spec_with(base="hk"))
    assert str(caught.value).startswith("calendar 'park-office', field 'base': ")


def test_a_spec_must_be_an_object() -> None:
    with pytest.raises(CalendarSpecError, match="must be an object"):
        BusinessCalendar.from_dict(["park-office"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="from_dict"):
        BusinessCalendar({"name": "x"})  # type: ignore[arg-type]
