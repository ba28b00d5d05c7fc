"""Business calendars: Chinese working days and working hours, for timers, due dates and SLAs.

A calendar is data an organisation owns (:class:`CalendarSpec`, read from plain JSON-able
dicts), turned into a :class:`BusinessCalendar` that answers "is this working time?" and "when
is the deadline?".  :class:`CalendarSet` holds an organisation's calendars by name with a default;
:func:`parse_working_duration` reads the working-time timer texts (``P3WD``, ``PT1WH``).

This package is ``liucheng.calendar``; it does not hide the standard library's ``calendar``,
which every module (this package's included) imports by its absolute name.

Example::

    from datetime import datetime
    from zoneinfo import ZoneInfo
    from liucheng.calendar import BusinessCalendar, parse_working_duration

    office = BusinessCalendar.from_dict({"name": "park-office"})
    submitted = datetime(2025, 9, 26, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    office.add(submitted, parse_working_duration("P5WD"))
    # -> 2025-10-10 17:30+08:00: Sunday 28 September is a make-up working day, 1–8 October are off
"""

from liucheng.calendar.business import BusinessCalendar
from liucheng.calendar.duration import WorkingDuration, parse_working_duration
from liucheng.calendar.errors import (
    CalendarError,
    CalendarRangeError,
    CalendarSpecError,
    NaiveDatetimeError,
)
from liucheng.calendar.registry import STANDARD_NAME, CalendarSet
from liucheng.calendar.spec import CalendarSpec

__all__ = [
    "STANDARD_NAME",
    "BusinessCalendar",
    "CalendarError",
    "CalendarRangeError",
    "CalendarSet",
    "CalendarSpec",
    "CalendarSpecError",
    "NaiveDatetimeError",
    "WorkingDuration",
    "parse_working_duration",
]
