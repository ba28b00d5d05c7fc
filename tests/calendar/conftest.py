"""Shared helpers for the business-calendar tests: Shanghai times and the demo office calendar.

The office works 09:00–12:00 and 13:30–17:30 on Chinese working days, as in the spec example of
``docs/calendar.md``; every expected date below was checked against the chinesecalendar data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from liucheng.calendar import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")

OFFICE_SPEC = {
    "name": "park-office",
    "timezone": "Asia/Shanghai",
    "base": "cn",
    "working_hours": [["09:00", "12:00"], ["13:30", "17:30"]],
}


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture(scope="session")
def office() -> BusinessCalendar:
    return BusinessCalendar.from_dict(OFFICE_SPEC)
