"""An organisation's calendars by name, with a default."""

from __future__ import annotations

import json
from typing import Any

import pytest

from liucheng.calendar import (
    STANDARD_NAME,
    BusinessCalendar,
    CalendarError,
    CalendarSet,
    CalendarSpecError,
)

from .conftest import OFFICE_SPEC

SECURITY = {"name": "security", "base": "weekdays", "working_hours": [["00:00", "24:00"]]}
SET_DATA: dict[str, Any] = {"default": "park-office", "calendars": [OFFICE_SPEC, SECURITY]}


def test_resolve_by_name_or_default() -> None:
    calendars = CalendarSet.from_dict(SET_DATA)
    assert calendars.resolve("security").name == "security"
    assert calendars.resolve(None).name == "park-office"
    assert calendars.resolve("").name == "park-office"
    assert calendars.default is calendars["park-office"]
    assert list(calendars) == ["park-office", "security"]
    assert len(calendars) == 2
    assert "security" in calendars


def test_an_unknown_name_is_an_error_not_the_default() -> None:
    calendars = CalendarSet.from_dict(SET_DATA)
    with pytest.raises(CalendarError, match=r"no calendar is named 'clinic'.*'park-office'"):
        calendars.resolve("clinic")


def test_round_trip_through_json() -> None:
    calendars = CalendarSet.from_dict(SET_DATA)
    data = json.loads(json.dumps(calendars.to_dict()))
    assert CalendarSet.from_dict(data) == calendars
    assert data["default"] == "park-office"


def test_the_standard_set() -> None:
    standard = CalendarSet.standard()
    assert list(standard) == [STANDARD_NAME]
    assert standard.default.to_dict() == BusinessCalendar.from_dict({"name": "cn"}).to_dict()


def test_one_calendar_is_its_own_default() -> None:
    calendars = CalendarSet.from_dict({"calendars": [SECURITY]})
    assert calendars.default.name == "security"


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"calendars": []}, "calendars", "non-empty list"),
        ({"default": "x"}, "calendars", "non-empty list"),
        ({"calendars": [OFFICE_SPEC], "zone": "x"}, "zone", "unknown field"),
        ({"calendars": [OFFICE_SPEC, SECURITY]}, "default", "name the default"),
        ({"calendars": [OFFICE_SPEC], "default": "clinic"}, "default", "'clinic' is not"),
        ({"calendars": [OFFICE_SPEC], "default": 3}, "default", "calendar's name"),
        ({"calendars": [OFFICE_SPEC, OFFICE_SPEC]}, "calendars[1].name", "calendars[0]"),
        (
            {"calendars": [OFFICE_SPEC, {**SECURITY, "working_hours": [["7:00", "19:00"]]}]},
            "calendars[1].working_hours[0][0]",
            "HH:MM",
        ),
        ({"calendars": [OFFICE_SPEC, "security"]}, "calendars[1]", "must be an object"),
    ],
)
def test_a_bad_set_names_the_field(data: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(CalendarSpecError) as caught:
        CalendarSet.from_dict(data)
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_nested_errors_name_the_calendar() -> None:
    bad = {"calendars": [{**SECURITY, "base": "hk"}]}
    with pytest.raises(CalendarSpecError) as caught:
        CalendarSet.from_dict(bad)
    assert str(caught.value).startswith("calendar 'security', field 'calendars[0].base'")


def test_built_in_python() -> None:
    office = BusinessCalendar.from_dict(OFFICE_SPEC)
    with pytest.raises(CalendarError, match="two calendars"):
        CalendarSet([office, office])
    with pytest.raises(CalendarError, match="at least one"):
        CalendarSet([])
    with pytest.raises(TypeError):
        CalendarSet([OFFICE_SPEC])  # type: ignore[list-item]
