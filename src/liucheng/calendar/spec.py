"""A business calendar as data: the spec an organisation writes, checked field by field.

Calendars differ per organisation (a park office closes for its own anniversary, a clinic opens
on a Saturday), so a calendar is not code but a plain JSON-able object that can be stored beside
a deployment and edited in the UI::

    {
        "name": "park-office",
        "timezone": "Asia/Shanghai",
        "base": "cn",
        "working_hours": [["09:00", "12:00"], ["13:30", "17:30"]],
        "closed_days": ["2026-05-06"],
        "extra_working_days": [],
        "unknown_years": "error"
    }

Only ``name`` is required; the other fields default to the values above (Chinese working days,
a lunch break, Shanghai time, refuse years without holiday data).  ``base`` is ``"cn"`` (China's
public holidays and adjusted working weekends) or ``"weekdays"`` (Monday to Friday).
``unknown_years`` only applies to ``"cn"``: ``"error"`` refuses a day in a year the holiday data
does not cover, ``"weekdays"`` counts such a year Monday to Friday (plus the closed and extra
days), which lets an organisation bridge a new year by listing its holidays itself before the
package is upgraded.

Reading (:meth:`CalendarSpec.from_dict`) turns text into values and names the field of any text it
cannot read; the constructor checks the rules between values (order of the working hours, a day
both closed and extra, an unknown time zone), so a spec built in Python is checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from liucheng.calendar.errors import CalendarSpecError

__all__ = ["BASES", "DEFAULT_WORKING_HOURS", "UNKNOWN_YEARS", "CalendarSpec"]

Base = Literal["cn", "weekdays"]
UnknownYears = Literal["error", "weekdays"]

#: What a calendar's working days start from.
BASES: tuple[Base, ...] = ("cn", "weekdays")
#: What a ``"cn"`` calendar does in a year its holiday data does not cover.
UNKNOWN_YEARS: tuple[UnknownYears, ...] = ("error", "weekdays")
#: 09:00–12:00 and 13:30–17:30, as minutes after midnight: a common Chinese office day.
DEFAULT_WORKING_HOURS: tuple[tuple[int, int], ...] = (
    (9 * 60, 12 * 60),
    (13 * 60 + 30, 17 * 60 + 30),
)

_DAY = 24 * 60
_FIELDS = (
    "name",
    "timezone",
    "base",
    "working_hours",
    "closed_days",
    "extra_working_days",
    "unknown_years",
)
_TIME = re.compile(r"([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class CalendarSpec:
    """A checked calendar spec.

    ``working_hours`` are ``(start, end)`` pairs in minutes after local midnight, in order and not
    overlapping; ``end`` may be ``1440`` (24:00).  Every working day has the same hours.
    """

    name: str
    timezone: str = "Asia/Shanghai"
    base: Base = "cn"
    working_hours: tuple[tuple[int, int], ...] = DEFAULT_WORKING_HOURS
    closed_days: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    unknown_years: UnknownYears = "error"

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise CalendarSpecError(
                "the name must be non-empty text without spaces around it", field="name"
            )
        calendar = name
        _check_zone(self.timezone, calendar)
        if self.base not in BASES:
            raise CalendarSpecError(
                f"{self.base!r} is not a base; use one of {list(BASES)}",
                field="base",
                calendar=calendar,
            )
        if self.unknown_years not in UNKNOWN_YEARS:
            raise CalendarSpecError(
                f"{self.unknown_years!r} is not allowed; use one of {list(UNKNOWN_YEARS)}",
                field="unknown_years",
                calendar=calendar,
            )
        if self.base != "cn" and self.unknown_years != "error":
            raise CalendarSpecError(
                "only a 'cn' calendar has years without data; leave this field out",
                field="unknown_years",
                calendar=calendar,
            )
        hours: object = self.working_hours
        if isinstance(hours, list | tuple):
            hours = tuple(tuple(p) if isinstance(p, list | tuple) else p for p in hours)
            object.__setattr__(self, "working_hours", hours)
        _check_hours(hours, calendar)
        object.__setattr__(self, "closed_days", frozenset(self.closed_days))
        object.__setattr__(self, "extra_working_days", frozenset(self.extra_working_days))
        for which in ("closed_days", "extra_working_days"):
            for day in getattr(self, which):
                if type(day) is not date:
                    raise CalendarSpecError(
                        f"{day!r} is not a date", field=which, calendar=calendar
                    )
        both = self.closed_days & self.extra_working_days
        if both:
            first = min(both).isoformat()
            raise CalendarSpecError(
                f"{first} is also in closed_days; a day is either closed or an extra working day",
                field="extra_working_days",
                calendar=calendar,
            )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone, in which it decides which day an instant falls on."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalendarSpec:
        """Read a spec from plain data (as parsed from JSON); errors name the field."""
        if not isinstance(data, Mapping):
            raise CalendarSpecError(
                f"a calendar spec must be an object, not a value of type {type(data).__name__!r}"
            )
        name = data.get("name")
        calendar = name if isinstance(name, str) else None
        for key in data:
            if key not in _FIELDS:
                raise CalendarSpecError(
                    f"unknown field; the fields are {', '.join(_FIELDS)}",
                    field=str(key),
                    calendar=calendar,
                )
        if "name" not in data:
            raise CalendarSpecError("a calendar needs a name", field="name")
        values: dict[str, Any] = {"name": name}
        for key in ("timezone", "base", "unknown_years"):
            if key in data:
                if not isinstance(data[key], str):
                    raise CalendarSpecError(
                        f"must be text, not {data[key]!r}", field=key, calendar=calendar
                    )
                values[key] = data[key]
        if "working_hours" in data:
            values["working_hours"] = _read_hours(data["working_hours"], calendar)
        for key in ("closed_days", "extra_working_days"):
            if key in data:
                values[key] = _read_days(data[key], key, calendar)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-able data; :meth:`from_dict` reads it back to an equal spec.

        Every field is written, so a stored calendar does not change meaning if a default does.
        """
        data: dict[str, Any] = {
            "name": self.name,
            "timezone": self.timezone,
            "base": self.base,
            "working_hours": [[_format_time(a), _format_time(b)] for a, b in self.working_hours],
            "closed_days": sorted(day.isoformat() for day in self.closed_days),
            "extra_working_days": sorted(day.isoformat() for day in self.extra_working_days),
        }
        if self.base == "cn":
            data["unknown_years"] = self.unknown_years
        return data


def _check_zone(timezone: object, calendar: str) -> None:
    if not isinstance(timezone, str) or not timezone:
        raise CalendarSpecError(
            "must be a time zone name such as 'Asia/Shanghai'", field="timezone", calendar=calendar
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarSpecError(
            f"{timezone!r} is not a known time zone; use an IANA name such as 'Asia/Shanghai'",
            field="timezone",
            calendar=calendar,
        ) from None


def _check_hours(hours: object, calendar: str) -> None:
    if not isinstance(hours, tuple) or not hours:
        raise CalendarSpecError(
            "a calendar needs at least one period of working hours, e.g. [['09:00', '17:00']]",
            field="working_hours",
            calendar=calendar,
        )
    previous_end = 0
    for i, period in enumerate(hours):
        where = f"working_hours[{i}]"
        if (
            not isinstance(period, tuple)
            or len(period) != 2
            or not all(type(m) is int for m in period)
        ):
            raise CalendarSpecError(
                "must be a (start, end) pair of minutes after midnight",
                field=where,
                calendar=calendar,
            )
        start, end = cast(tuple[int, int], period)
        if not 0 <= start < _DAY or not 0 < end <= _DAY:
            raise CalendarSpecError(
                "must lie within one day, from 00:00 to 24:00", field=where, calendar=calendar
            )
        if start >= end:
            raise CalendarSpecError(
                f"starts at {_format_time(start)}, not before its end {_format_time(end)}",
                field=where,
                calendar=calendar,
            )
        if start < previous_end:
            raise CalendarSpecError(
                f"starts at {_format_time(start)}, before the previous period ends at "
                f"{_format_time(previous_end)}; list the periods in order, without overlap",
                field=where,
                calendar=calendar,
            )
        previous_end = end


def _read_hours(value: object, calendar: str | None) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list | tuple):
        raise CalendarSpecError(
            "must be a list of [start, end] pairs such as [['09:00', '12:00']]",
            field="working_hours",
            calendar=calendar,
        )
    periods = []
    for i, pair in enumerate(value):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise CalendarSpecError(
                f"must be a [start, end] pair such as ['09:00', '12:00'], not {pair!r}",
                field=f"working_hours[{i}]",
                calendar=calendar,
            )
        start = _read_time(pair[0], f"working_hours[{i}][0]", calendar, end=False)
        end = _read_time(pair[1], f"working_hours[{i}][1]", calendar, end=True)
        periods.append((start, end))
    return tuple(periods)


def _read_time(value: object, where: str, calendar: str | None, *, end: bool) -> int:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (end and hours == 24 and minutes == 0):
            return hours * 60 + minutes
    allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
    raise CalendarSpecError(
        f"{value!r} is not a time of day; write HH:MM, from {allowed}",
        field=where,
        calendar=calendar,
    )


def _read_days(value: object, key: str, calendar: str | None) -> frozenset[date]:
    if not isinstance(value, list | tuple):
        raise CalendarSpecError(
            "must be a list of dates such as ['2026-05-06']", field=key, calendar=calendar
        )
    seen: dict[date, int] = {}
    for i, item in enumerate(value):
        day = _read_date(item, f"{key}[{i}]", calendar)
        if day in seen:
            raise CalendarSpecError(
                f"{day.isoformat()} is listed twice (also at {key}[{seen[day]}])",
                field=f"{key}[{i}]",
                calendar=calendar,
            )
        seen[day] = i
    return frozenset(seen)


def _read_date(value: object, where: str, calendar: str | None) -> date:
    # A ``datetime`` is a ``date`` too, but a time of day here would be silently dropped.
    if type(value) is date:
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarSpecError(
        f"{value!r} is not a date; write YYYY-MM-DD", field=where, calendar=calendar
    )


def _format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
