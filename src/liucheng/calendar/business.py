"""Working-time arithmetic on one organisation's calendar.

Conventions (decisions, documented in ``docs/calendar.md`` too):

* Every datetime given must be timezone-aware; a naive one raises :class:`NaiveDatetimeError`
  because the calendar cannot know which day it is.  Results are in the calendar's zone.  Which
  day an instant falls on is decided in the calendar's zone: 23:00 UTC on a Sunday is 07:00 on
  Monday in Shanghai, a working day.
* A working period is half-open, ``[start, end)``: 17:30 itself is after work.  A deadline,
  though, may fall *on* the end of a period: 1 working hour from 16:30 is 17:30 the same day,
  not 09:00 the next.
* ``add_working_days(t, n)`` follows the rule of Chinese administrative deadlines (行政许可法: a
  term counted in days starts the day after the event): the day of ``t`` never counts, whatever
  the time; the first working day *after* it is day 1, and the result is the end of the working
  hours of day ``n``.  Five working days from a Friday-afternoon application end at 17:30 on the
  fifth working day after it.  ``n = 0`` returns ``t``.
* ``add_working_hours(t, d)`` counts only time inside working periods, skipping lunch breaks,
  nights, weekends, holidays and closed days, and returns the earliest instant by which ``d`` of
  working time has passed.

Speed: the engine computes a due date on every timer and every task with a deadline, so nothing
here loops per minute or per day.  For each year the calendar builds once (lazily) the sorted
working days and, for each, the working time of the year before it; a position in working time
is then one binary search, and adding ten working days or a hundred working hours is a few
lookups.  The per-year tables are a dictionary that two threads may fill at once: building a year
is pure, so the worst case is building it twice.
"""

from __future__ import annotations

import functools
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from liucheng.calendar import china
from liucheng.calendar.duration import WorkingDuration
from liucheng.calendar.errors import CalendarError, CalendarRangeError, NaiveDatetimeError
from liucheng.calendar.spec import CalendarSpec
from liucheng.i18n import _

__all__ = ["BusinessCalendar"]

_LOG = logging.getLogger("liucheng.calendar")
_MICROSECOND = timedelta(microseconds=1)
_DAY_MINUTES = 24 * 60


Periods = tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True, slots=True)
class _Year:
    """One year of a calendar, precomputed.

    ``working`` holds the working days by the calendar's rules (as ``date.toordinal()``);
    ``days`` the same days in order, less any whose working hours vanish in a daylight-saving
    gap; ``offsets[i]`` is the working time of the year before ``days[i]``, in microseconds, and
    ``offsets[-1]`` the year's total; ``periods`` the working periods of each of ``days``.
    """

    working: frozenset[int]
    days: tuple[int, ...]
    offsets: tuple[int, ...]
    periods: dict[int, Periods]

    @property
    def total(self) -> int:
        return self.offsets[-1]


class BusinessCalendar:
    """Working days and working hours of one organisation, and arithmetic on them.

    Build it from a spec (:meth:`from_dict`, or a :class:`CalendarSpec`); it is immutable, and
    two calendars are equal when their specs are.
    """

    __slots__ = ("_years", "spec", "zone")

    def __init__(self, spec: CalendarSpec) -> None:
        if not isinstance(spec, CalendarSpec):
            raise TypeError("BusinessCalendar needs a CalendarSpec; use from_dict for plain data")
        self.spec = spec
        self.zone = spec.zone
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from plain data; see :mod:`liucheng.calendar.spec` for the fields."""
        return cls(CalendarSpec.from_dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The calendar's spec as plain JSON-able data; ``from_dict`` reads it back."""
        return self.spec.to_dict()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def known_years(self) -> range | None:
        """The years whose holidays the calendar knows; None when every year is known."""
        if self.spec.base == "cn":
            return china.KNOWN_YEARS
        return None

    @property
    def description(self) -> str:
        """One paragraph for people: what the calendar counts, and a warning if it may guess."""
        spec = self.spec
        hours = ", ".join(f"{a}–{b}" for a, b in spec.to_dict()["working_hours"])
        known = china.KNOWN_YEARS
        first, last = known.start, known.stop - 1
        if spec.base == "cn":
            days = _(
                "Chinese working days (public holidays and adjusted working weekends, "
                "data for {first}–{last})",
                first=first,
                last=last,
            )
        else:
            days = _("Monday to Friday")
        parts = [f"{spec.name}: {days}; {hours} ({spec.timezone})"]
        if spec.closed_days:
            parts.append(_("Closed days: {count}", count=len(spec.closed_days)))
        if spec.extra_working_days:
            parts.append(_("Extra working days: {count}", count=len(spec.extra_working_days)))
        if spec.base == "cn" and spec.unknown_years == "weekdays":
            parts.append(
                _(
                    "Warning: years outside {first}–{last} have no holiday data and are "
                    "counted Monday to Friday",
                    first=first,
                    last=last,
                )
            )
        elif spec.base == "cn":
            parts.append(
                _(
                    "Dates outside {first}–{last} are refused (no holiday data)",
                    first=first,
                    last=last,
                )
            )
        return ". ".join(parts) + "."

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self.spec == other.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec.name!r}, base={self.spec.base!r})"

    # -- days and periods -------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day; an aware datetime counts in the calendar's zone."""
        if isinstance(day, datetime):
            day = self._local(day, "day").date()
        elif not isinstance(day, date):
            raise TypeError(f"day must be a date, not a value of type {type(day).__name__!r}")
        return day.toordinal() in self._year(day.year).working

    def working_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as (start, end) in the calendar's zone; [] if off."""
        if isinstance(day, datetime):
            day = self._local(day, "day").date()
        if not self.is_working_day(day):
            return []
        return [(a.astimezone(self.zone), b.astimezone(self.zone)) for a, b in self._periods(day)]

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside a working period (its start included, its end not)."""
        instant = self._utc(moment, "moment")
        day = instant.astimezone(self.zone).date()
        return any(start <= instant < end for start, end in self._periods(day))

    def next_working_time(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else the start of the next working period."""
        instant = self._utc(moment, "moment")
        day = instant.astimezone(self.zone).date()
        ordinal = day.toordinal()
        year = day.year
        info = self._year(year)
        for start, end in self._periods(day):
            if instant < end:
                return max(instant, start).astimezone(self.zone)
        i = bisect_right(info.days, ordinal)
        while i >= len(info.days):
            year += 1
            info = self._year(year)
            i = 0
        return self._periods(date.fromordinal(info.days[i]))[0][0].astimezone(self.zone)

    # -- arithmetic -------------------------------------------------------------------------------

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the working hours of the ``days``-th working day after the day of ``start``.

        The day of ``start`` never counts, even before opening time (see the module's
        conventions); ``days = 0`` returns ``start`` in the calendar's zone.
        """
        if type(days) is not int:
            raise TypeError(f"days must be an int, not a value of type {type(days).__name__!r}")
        if days < 0:
            raise CalendarError(f"cannot add a negative number of working days ({days})")
        local = self._local(start, "start")
        if days == 0:
            return local
        day = self._counting_day(local)
        year = day.year
        info = self._year(year)
        i = bisect_right(info.days, day.toordinal())
        left = days
        while left > len(info.days) - i:
            left -= len(info.days) - i
            year += 1
            info = self._year(year)
            i = 0
        last_day = date.fromordinal(info.days[i + left - 1])
        return self._periods(last_day)[-1][1].astimezone(self.zone)

    def add_working_hours(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant by which ``amount`` of working time has passed since ``start``.

        ``amount`` is a ``timedelta`` (``timedelta(hours=1)``, ``timedelta(minutes=30)``); zero
        returns ``start`` in the calendar's zone, unmoved even outside working time.
        """
        if not isinstance(amount, timedelta):
            raise TypeError(
                f"amount must be a timedelta, not a value of type {type(amount).__name__!r}"
            )
        if amount < timedelta(0):
            raise CalendarError(f"cannot add a negative working time ({amount})")
        instant = self._utc(start, "start")
        if not amount:
            return instant.astimezone(self.zone)
        year, worked = self._position(instant)
        target = worked + amount // _MICROSECOND
        info = self._year(year)
        while target > info.total:
            target -= info.total
            year += 1
            info = self._year(year)
        return self._instant_at(info, target)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from ``start`` to ``end``; negative when ``end`` is before ``start``.

        For SLA reports: how much of the office's time a case took, not how long it waited.
        """
        a = self._utc(start, "start")
        b = self._utc(end, "end")
        if b < a:
            return -self.working_time_between(end, start)
        year_a, worked_a = self._position(a)
        year_b, worked_b = self._position(b)
        total = worked_b - worked_a
        for year in range(year_a, year_b):
            total += self._year(year).total
        return timedelta(microseconds=total)

    def add(self, start: datetime, duration: WorkingDuration) -> datetime:
        """``start`` plus a working-time duration: first its working days, then its working time.

        ``P1WDT4WH`` from Monday 10:00 is the end of Tuesday plus 4 working hours: Wednesday
        14:30 with a 12:00–13:30 lunch break.
        """
        if not isinstance(duration, WorkingDuration):
            raise TypeError(
                f"duration must be a WorkingDuration, not a value of type "
                f"{type(duration).__name__!r}; read text with parse_working_duration"
            )
        result = self._local(start, "start")
        if duration.days:
            result = self.add_working_days(result, duration.days)
        if duration.hours or duration.minutes:
            result = self.add_working_hours(result, duration.working_time)
        return result

    # -- internals --------------------------------------------------------------------------------

    def _local(self, moment: datetime, what: str) -> datetime:
        return self._utc(moment, what).astimezone(self.zone)

    def _utc(self, moment: datetime, what: str) -> datetime:
        # Instants are compared and subtracted in UTC: Python compares two datetimes of the same
        # zone by their wall clock, which is wrong across a daylight-saving change.
        if not isinstance(moment, datetime):
            raise TypeError(
                f"{what} must be a datetime, not a value of type {type(moment).__name__!r}"
            )
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(
                f"{what} {moment.isoformat()} has no time zone, so the calendar "
                f"{self.spec.name!r} cannot tell which day it is; give an aware datetime, e.g. "
                f"with tzinfo=ZoneInfo({self.spec.timezone!r})"
            )
        return moment.astimezone(UTC)

    def _periods(self, day: date) -> Periods:
        """The working periods of ``day`` as UTC instants, in order; none on a day off."""
        return self._year(day.year).periods.get(day.toordinal(), ())

    def _place_periods(self, day: date) -> Periods:
        """Place the working hours on ``day`` as UTC instants, in order.

        Wall-clock hours are placed in the zone of that day, so on a daylight-saving day a period
        is an hour shorter or longer.  A wall-clock time that does not exist (in the spring gap)
        moves forward by the length of the gap, as timer times do; a period that shrinks to
        nothing is dropped.
        """
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        periods: list[tuple[datetime, datetime]] = []
        for start, end in self.spec.working_hours:
            a = (midnight + timedelta(minutes=start)).astimezone(UTC)
            b = (midnight + timedelta(minutes=end)).astimezone(UTC)
            if periods and a < periods[-1][1]:
                a = periods[-1][1]
            if a < b:
                periods.append((a, b))
        return tuple(periods)

    def _year(self, year: int) -> _Year:
        info = self._years.get(year)
        if info is None:
            info = self._years[year] = self._build_year(year)
        return info

    def _build_year(self, year: int) -> _Year:
        # Year 1 and year 9999 are refused: a period ending at 24:00 on 31 December 9999, or a
        # zone offset around 1 January 1, would fall outside what datetime can hold.
        if not 1 < year < 9999:
            raise CalendarError(f"calendar {self.spec.name!r}: the year {year} is out of range")
        working = set(self._base_days(year))
        working.difference_update(d.toordinal() for d in self.spec.closed_days if d.year == year)
        working.update(d.toordinal() for d in self.spec.extra_working_days if d.year == year)
        days: list[int] = []
        offsets = [0]
        by_day: dict[int, Periods] = {}
        for ordinal in sorted(working):
            periods = self._place_periods(date.fromordinal(ordinal))
            if periods:
                days.append(ordinal)
                offsets.append(offsets[-1] + sum((b - a) // _MICROSECOND for a, b in periods))
                by_day[ordinal] = periods
        return _Year(frozenset(working), tuple(days), tuple(offsets), by_day)

    def _base_days(self, year: int) -> frozenset[int]:
        if self.spec.base == "weekdays":
            return _weekdays(year)
        if year in china.KNOWN_YEARS:
            return china.working_days(year)
        known = china.KNOWN_YEARS
        span = f"{known.start}–{known.stop - 1}"
        if self.spec.unknown_years == "weekdays":
            _LOG.warning(
                "calendar %r: no Chinese holiday data for %s (known: %s); counting Monday to "
                "Friday, public holidays and make-up working days are not known",
                self.spec.name,
                year,
                span,
            )
            return _weekdays(year)
        raise CalendarRangeError(
            f"calendar {self.spec.name!r}: no Chinese holiday data for {year}; the installed "
            f"chinesecalendar package knows {span}. Upgrade it, or set "
            f'"unknown_years": "weekdays" in the calendar and list that year\'s holidays in '
            f'"closed_days" and its make-up working days in "extra_working_days"',
            year=year,
            known=known,
        )

    def _position(self, instant: datetime) -> tuple[int, int]:
        """The year ``instant`` (UTC) falls in, and that year's working time before it, in µs."""
        day = instant.astimezone(self.zone).date()
        ordinal = day.toordinal()
        info = self._year(day.year)
        i = bisect_left(info.days, ordinal)
        worked = info.offsets[i]
        if i < len(info.days) and info.days[i] == ordinal:
            for start, end in self._periods(day):
                if instant <= start:
                    break
                worked += (min(instant, end) - start) // _MICROSECOND
        return day.year, worked

    def _instant_at(self, info: _Year, target: int) -> datetime:
        """The earliest instant at which ``target`` µs (> 0) of the year's working time passed."""
        i = bisect_left(info.offsets, target) - 1
        rest = target - info.offsets[i]
        for start, end in self._periods(date.fromordinal(info.days[i])):
            length = (end - start) // _MICROSECOND
            if rest <= length:
                return (start + rest * _MICROSECOND).astimezone(self.zone)
            rest -= length
        raise AssertionError("the offsets of a year disagree with its periods")

    def _counting_day(self, local: datetime) -> date:
        """The day of ``local`` for counting working days.

        An instant that is exactly the end of a working day belongs to that day, so that adding
        working days to a deadline counts on from the deadline's day.  This matters only when the
        working hours end at 24:00, whose end is the next day's midnight.
        """
        day = local.date()
        if local.time() == time(0) and self.spec.working_hours[-1][1] == _DAY_MINUTES:
            previous = day - timedelta(days=1)
            periods = self._periods(previous)
            if periods and periods[-1][1] == local.astimezone(UTC):
                return previous
        return day


@functools.cache
def _weekdays(year: int) -> frozenset[int]:
    """The ordinals of Monday to Friday in ``year``."""
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    return frozenset(n for n in range(first, last + 1) if date.fromordinal(n).weekday() < 5)
