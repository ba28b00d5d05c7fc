"""BPMN timer definitions: ISO 8601 date-times, durations and repeating cycles.

A BPMN timer event says *when* it fires in one of three ways, each an ISO 8601 text (or whatever an
expression evaluated to):

``timeDate``
    a date-time, e.g. ``2026-12-01T09:00:00+08:00``.  Without an offset the wall-clock time is
    read in the organisation's zone (``tz``); a date alone means midnight there.  A zone name in
    brackets, ``2026-12-01T09:00:00[Asia/Shanghai]``, is also accepted (Camunda 8 writes it).
``timeDuration``
    how long after the timer is armed, e.g. ``PT5M``, ``P3D``, ``P1Y2M10DT2H30M``, ``P2W``.
``timeCycle``
    a repeating interval, e.g. ``R5/PT10M`` or ``R/2026-01-01T09:00:00/P1D``.

The engine calls :func:`timer_due` when it arms a timer and, for a cycle, :meth:`Cycle.next_due`
after each firing.  Everything here is pure: no clock is read, the caller passes "now".

Calendar rules (the same as ``java.time``, which Camunda and Flowable use):

* Years and months move the calendar date and clamp the day to the end of the month:
  31 January + ``P1M`` is 28 February (29 in a leap year).
* Days move the wall-clock date and keep the wall-clock time, so ``P1D`` from 09:00 is 09:00 the
  next day even across a daylight-saving change; a wall-clock time that does not exist (in the
  spring gap) moves forward by the length of the gap.
* Hours, minutes and seconds are elapsed time: ``PT24H`` across a daylight-saving change is not the
  same as ``P1D``.  Durations are applied in the organisation's zone.
* Only seconds may have a fraction (``PT0.5S``); it is rounded to the microsecond when applied.

Cycle rules (decisions, where the standard leaves room):

* ``R5/PT10M`` fires five times in all: 10, 20, ... 50 minutes after it is armed.  ``R/PT1H`` has
  no limit.
* ``R3/<start>/P1D`` fires at the start, then a day later, then two days later.  If the timer is
  armed after the start, occurrences already past are skipped but still count towards ``R3``
  (so the cycle ends on the same date whenever it was armed).
* ``R5/<start>/<end>`` repeats the interval between the two date-times (as elapsed time).
* ``R/P1D/<end>`` fires daily from when it is armed until ``end`` (inclusive): the end bounds the
  whole cycle, as Camunda 7's cycle end date does.  ``R/<start>/P1D/<end>`` (start *and* end) is a
  Liucheng extension so that every :class:`Cycle` can be written back as text.
* Occurrence *n* is computed from the anchor (start, or the moment the timer was armed) as
  ``anchor + n * interval``, not by adding the interval to the previous occurrence, so a monthly
  cycle anchored on the 31st fires on the last day of short months and on the 31st again after.
  Without an anchor (:meth:`Cycle.next_due` called without ``armed_at`` on a cycle with no start)
  the interval is added to the previous due time.
* Cron expressions (Camunda 7 and Zeebe accept them in ``timeCycle``) are not supported yet; they
  are refused with a message saying so.

Every bad text raises :class:`~liucheng.errors.ExpressionError` naming the text and the 0-based
position where reading stopped.  ``str()`` of a :class:`Duration` or :class:`Cycle` gives canonical
ISO text that parses back to an equal value, so both can be stored as text.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from liucheng.calendar import BusinessCalendar, WorkingDuration, parse_working_duration
from liucheng.errors import ExpressionError
from liucheng.expr.feel.values import YearsMonthsDuration

__all__ = [
    "TIMER_TYPES",
    "Cycle",
    "Duration",
    "format_datetime",
    "parse_cycle",
    "parse_duration",
    "parse_time_date",
    "parse_timer",
    "timer_due",
]

#: The three ways a BPMN timer event definition says when it fires.
TIMER_TYPES = ("timeDate", "timeDuration", "timeCycle")

_UTC = UTC
_DIGITS = "0123456789"
_MAX_NUMBER_DIGITS = 12  # a larger number of years or seconds is a typing mistake, not a timer
_MICRO = Decimal(1_000_000)


def _fail(text: str, position: int, message: str) -> NoReturn:
    raise ExpressionError(message, text=text, position=position)


def _bounds(text: object, what: str) -> tuple[str, int, int]:
    """Return ``text`` and the bounds of its content without surrounding whitespace."""
    if not isinstance(text, str):
        raise ExpressionError(f"a {what} must be text, not a value of type {type(text).__name__!r}")
    stripped = text.strip()
    if not stripped:
        _fail(text, 0, f"the {what} is empty")
    start = len(text) - len(text.lstrip())
    return text, start, start + len(stripped)


def _normalise(dt: datetime) -> datetime:
    """Move a wall-clock time that does not exist in its zone (spring-forward gap) past the gap."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt
    return dt.astimezone(_UTC).astimezone(dt.tzinfo)


# --------------------------------------------------------------------------------------------------
# Durations


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration such as ``P1Y2M10DT2H30M``; never negative.

    Weeks are kept as days (``P2W`` is ``P14D``).  Fields are plain counts, so ``P1D`` and
    ``PT24H`` are different values: the first keeps the wall-clock time, the second is elapsed time.
    """

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("years", "months", "days", "hours", "minutes"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"Duration.{name} must be an int, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"Duration.{name} must not be negative")
        seconds: object = self.seconds
        if type(seconds) is int:
            seconds = Decimal(seconds)
            object.__setattr__(self, "seconds", seconds)
        if not isinstance(seconds, Decimal):
            raise TypeError(f"Duration.seconds must be a Decimal, not {type(seconds).__name__}")
        if not seconds.is_finite() or seconds < 0:
            raise ValueError("Duration.seconds must be a finite number, not negative")

    @property
    def is_zero(self) -> bool:
        """True for ``PT0S``."""
        return not (
            self.years or self.months or self.days or self.hours or self.minutes or self.seconds
        )

    def __str__(self) -> str:
        date_part = "".join(
            f"{n}{unit}"
            for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D"))
            if n
        )
        time_part = "".join(
            f"{n}{unit}" for n, unit in ((self.hours, "H"), (self.minutes, "M")) if n
        )
        if self.seconds:
            time_part += _format_seconds(self.seconds) + "S"
        if not date_part and not time_part:
            return "PT0S"
        return "P" + date_part + ("T" + time_part if time_part else "")

    def _elapsed(self) -> timedelta:
        """The hours, minutes and seconds as elapsed time, rounded to the microsecond."""
        micros = int((self.seconds * _MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))
        return timedelta(hours=self.hours, minutes=self.minutes, microseconds=micros)

    def as_timedelta(self) -> timedelta:
        """The duration as a fixed length of time, counting a day as 24 hours.

        Refused when the duration has years or months, which have no fixed length.
        """
        if self.years or self.months:
            raise ExpressionError(
                "a duration with years or months has no fixed length; add it to a date instead",
                text=str(self),
            )
        return timedelta(days=self.days) + self._elapsed()

    def add_to(self, dt: datetime) -> datetime:
        """Return ``dt`` moved forward by this duration, following the calendar rules of the module.

        ``dt`` may be naive (plain calendar arithmetic) or aware (the result is in the same zone).
        """
        try:
            result = dt
            months = self.years * 12 + self.months
            if months:
                carry, month0 = divmod(dt.month - 1 + months, 12)
                year = dt.year + carry
                month = month0 + 1
                if not 1 <= year <= 9999:
                    raise OverflowError
                day = min(dt.day, calendar.monthrange(year, month)[1])
                result = result.replace(year=year, month=month, day=day)
            if self.days:
                # Aware arithmetic in Python is wall-clock arithmetic: the time of day is kept.
                result = result + timedelta(days=self.days)
            if months or self.days:
                result = _normalise(result)
            elapsed = self._elapsed()
            if elapsed:
                if result.tzinfo is None or result.utcoffset() is None:
                    result = result + elapsed
                else:
                    result = (result.astimezone(_UTC) + elapsed).astimezone(result.tzinfo)
        except (OverflowError, ValueError):
            raise ExpressionError(
                f"adding this duration to {dt.isoformat()} goes past the year 9999", text=str(self)
            ) from None
        return result

    def _times(self, n: int) -> Duration:
        return Duration(
            self.years * n,
            self.months * n,
            self.days * n,
            self.hours * n,
            self.minutes * n,
            self.seconds * n,
        )

    def _approx_seconds(self) -> float:
        days = self.years * 365.2425 + self.months * 30.436875 + self.days
        return days * 86400 + self.hours * 3600 + self.minutes * 60 + float(self.seconds)


def _format_seconds(seconds: Decimal) -> str:
    return format(seconds.normalize(), "f")


def _exact_duration(delta: timedelta) -> Duration:
    """A positive elapsed time as hours, minutes and seconds (``PT24H``, not ``P1D``)."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    return Duration(hours=hours, minutes=minutes, seconds=Decimal(rest).scaleb(-6).normalize())


@functools.lru_cache(maxsize=1024)
def parse_duration(text: str) -> Duration:
    """Read an ISO 8601 duration: ``P3D``, ``PT5M``, ``P1Y2M10DT2H30M``, ``P2W``, ``PT0.5S``."""
    text, start, end = _bounds(text, "timer duration")
    return _parse_duration(text, start, end)


# Order of the designators; "m" stands for minutes, "M" for months.
_RANK = {"Y": 0, "M": 1, "W": 2, "D": 3, "H": 4, "m": 5, "S": 6}


def _parse_duration(text: str, i: int, end: int) -> Duration:
    if i >= end:
        _fail(text, i, "expected a duration such as PT5M")
    if text[i] == "-":
        _fail(text, i, "timer duration must not be negative")
    if text[i] == "+":
        i += 1
    if i >= end or text[i] not in "Pp":
        _fail(text, i, "a duration must start with 'P' (for example P3D or PT5M)")
    i += 1
    if i >= end:
        _fail(text, i, "expected a number after 'P'")
    values: dict[str, int] = {}
    seconds = Decimal(0)
    in_time = False
    last_rank = -1
    previous = "P"
    while i < end:
        char = text[i]
        if char in "Tt":
            if in_time:
                _fail(text, i, "'T' appears twice")
            in_time = True
            last_rank = max(last_rank, _RANK["D"])
            previous = "T"
            i += 1
            if i >= end:
                _fail(text, i, "expected a number after 'T'")
            continue
        if char == "-":
            _fail(text, i, "timer duration must not be negative")
        number_start = i
        while i < end and text[i] in _DIGITS:
            i += 1
        whole = text[number_start:i]
        fraction: str | None = None
        if i < end and text[i] in ".," and whole:
            i += 1
            fraction_start = i
            while i < end and text[i] in _DIGITS:
                i += 1
            fraction = text[fraction_start:i]
            if not fraction:
                _fail(text, i, "expected a digit after the decimal point")
        if not whole:
            if previous in "PT":
                _fail(text, i, f"expected a number after '{previous}'")
            _fail(text, i, f"unexpected '{char}' after '{previous}'")
        if len(whole) > _MAX_NUMBER_DIGITS:
            _fail(text, number_start, "this number is too large for a timer")
        if i >= end:
            units = "H, M or S" if in_time else "Y, M, W or D"
            _fail(text, i, f"expected a unit ({units}) after '{text[number_start:i]}'")
        unit = text[i].upper()
        if in_time:
            if unit in "YWD":
                _fail(text, i, f"'{unit}' must come before 'T' (for example P1DT2H)")
            key = {"H": "H", "M": "m", "S": "S"}.get(unit)
        else:
            if unit in "HS":
                _fail(text, i, f"'{unit}' must come after 'T' (for example PT5{unit})")
            key = unit if unit in "YMWD" else None
        if key is None:
            _fail(
                text,
                i,
                f"'{text[i]}' is not a duration unit; use Y, M, W or D, and H, M or S after 'T'",
            )
        if key in values:
            _fail(text, i, f"'{unit}' appears twice")
        if _RANK[key] < last_rank:
            _fail(text, i, f"'{unit}' is out of order; write years, months, weeks, days, then time")
        if fraction is not None and key != "S":
            _fail(
                text,
                number_start,
                "only seconds may have a fraction (for example PT1.5S); write PT90M, not PT1.5H",
            )
        if key == "S":
            seconds = Decimal(f"{whole}.{fraction}" if fraction else whole)
            values["S"] = 0
        else:
            values[key] = int(whole)
        last_rank = _RANK[key]
        previous = unit
        i += 1
    return Duration(
        years=values.get("Y", 0),
        months=values.get("M", 0),
        days=values.get("D", 0) + 7 * values.get("W", 0),
        hours=values.get("H", 0),
        minutes=values.get("m", 0),
        seconds=seconds,
    )


# --------------------------------------------------------------------------------------------------
# Date-times


@functools.lru_cache(maxsize=1024)
def parse_time_date(text: str, tz: tzinfo) -> datetime:
    """Read an ISO 8601 date-time; without an offset it is a wall-clock time in ``tz``.

    Accepts the extended (``2026-12-01T09:30:00.5+08:00``) and basic (``20261201T093000Z``) forms,
    reduced precision (``2026-12-01T09``, ``2026-12-01`` = midnight) and a zone name in brackets.
    The result is always timezone-aware.
    """
    text, start, end = _bounds(text, "timer date")
    return _parse_datetime(text, start, end, tz)


def _digits(text: str, i: int, end: int, count: int, what: str) -> tuple[int, int]:
    chunk = text[i : i + count]
    if i + count > end or len(chunk) != count or any(c not in _DIGITS for c in chunk):
        _fail(text, i, f"expected {what}")
    return int(chunk), i + count


def _parse_datetime(text: str, i: int, end: int, tz: tzinfo) -> datetime:
    year_at = i
    year, i = _digits(text, i, end, 4, "a 4-digit year")
    extended = i < end and text[i] == "-"
    if extended:
        i += 1
    month_at = i
    month, i = _digits(text, i, end, 2, "a 2-digit month")
    if extended:
        if i >= end or text[i] != "-":
            _fail(text, i, "expected '-' between the month and the day")
        i += 1
    day_at = i
    day, i = _digits(text, i, end, 2, "a 2-digit day")
    if year < 1:
        _fail(text, year_at, "the year must be between 0001 and 9999")
    if not 1 <= month <= 12:
        _fail(text, month_at, f"there is no month {month:02d}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        _fail(text, day_at, f"there is no day {day:02d} in {calendar.month_name[month]} {year}")

    hour = minute = second = micro = 0
    offset: timedelta | None = None
    offset_at = -1
    if i < end and text[i] in "Tt ":
        i += 1
        hour_at = i
        hour, i = _digits(text, i, end, 2, "a 2-digit hour after 'T'")
        have_seconds = False
        if i < end and text[i] == ":":
            minute, i = _digits(text, i + 1, end, 2, "2-digit minutes after ':'")
            if i < end and text[i] == ":":
                second, i = _digits(text, i + 1, end, 2, "2-digit seconds after ':'")
                have_seconds = True
        elif i < end and text[i] in _DIGITS:
            minute, i = _digits(text, i, end, 2, "2-digit minutes")
            if i < end and text[i] in _DIGITS:
                second, i = _digits(text, i, end, 2, "2-digit seconds")
                have_seconds = True
        if have_seconds and i < end and text[i] in ".,":
            i += 1
            fraction_start = i
            while i < end and text[i] in _DIGITS:
                i += 1
            if i == fraction_start:
                _fail(text, i, "expected a digit after the decimal point")
            micro = int(text[fraction_start:i][:6].ljust(6, "0"))  # finer than 1 µs: cut off
        if hour > 24 or (hour == 24 and (minute or second or micro)):
            _fail(text, hour_at, "the hour must be between 00 and 23 (or 24:00:00 for midnight)")
        if minute > 59:
            _fail(text, hour_at, "the minutes must be between 00 and 59")
        if second == 60:
            _fail(text, hour_at, "leap seconds are not supported")
        if second > 59:
            _fail(text, hour_at, "the seconds must be between 00 and 59")
        if i < end and text[i] in "Zz":
            offset, offset_at = timedelta(0), i
            i += 1
        elif i < end and text[i] in "+-":
            offset_at = i
            offset, i = _parse_offset(text, i, end)
    elif i < end and text[i] != "[":
        _fail(text, i, "expected 'T' between the date and the time")

    zone: ZoneInfo | None = None
    if i < end and text[i] == "[":
        close = text.find("]", i, end)
        if close < 0:
            _fail(text, i, "expected ']' after the time zone name")
        name = text[i + 1 : close]
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            _fail(text, i + 1, f"unknown time zone {name!r}")
        i = close + 1
    if i < end:
        _fail(text, i, f"unexpected '{text[i]}' after the date-time")

    try:
        naive = datetime(year, month, day, 0 if hour == 24 else hour, minute, second, micro)
        if hour == 24:
            naive += timedelta(days=1)
    except OverflowError:
        _fail(text, year_at, "the date is past the year 9999")
    if zone is not None:
        local = naive.replace(tzinfo=zone)
        if offset is None:
            return _normalise(local)
        for candidate in (local, local.replace(fold=1)):
            if candidate.utcoffset() == offset:
                return candidate
        _fail(
            text, offset_at, f"this offset does not match the time zone {zone.key!r} on that date"
        )
    if offset is not None:
        return naive.replace(tzinfo=_UTC if not offset else timezone(offset))
    return _normalise(naive.replace(tzinfo=tz))


def _parse_offset(text: str, i: int, end: int) -> tuple[timedelta, int]:
    sign = -1 if text[i] == "-" else 1
    hours, i = _digits(text, i + 1, end, 2, "a 2-digit hour offset after the sign")
    minutes = seconds = 0
    if i < end and text[i] == ":":
        minutes, i = _digits(text, i + 1, end, 2, "2-digit offset minutes after ':'")
        if i < end and text[i] == ":":
            seconds, i = _digits(text, i + 1, end, 2, "2-digit offset seconds after ':'")
    elif i < end and text[i] in _DIGITS:
        minutes, i = _digits(text, i, end, 2, "2-digit offset minutes")
    if hours > 23 or minutes > 59 or seconds > 59:
        _fail(text, i - 2, "the offset must be less than 24 hours")
    return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds), i


def format_datetime(dt: datetime) -> str:
    """ISO text for an aware date-time that :func:`parse_time_date` reads back to the same zone.

    UTC is written ``Z``; a ``ZoneInfo`` zone is kept by name: ``2026-01-01T10:00:00+08:00[Asia/
    Shanghai]``.
    """
    text = dt.isoformat()
    if dt.tzinfo is _UTC:
        return text[:-6] + "Z"
    if isinstance(dt.tzinfo, ZoneInfo) and dt.tzinfo.key:
        return f"{text}[{dt.tzinfo.key}]"
    return text


# --------------------------------------------------------------------------------------------------
# Cycles


@dataclass(frozen=True)
class Cycle:
    """A repeating timer: ``interval`` after ``start`` (or after arming), ``repetitions`` times.

    ``repetitions`` is None for no limit; ``end`` (inclusive) bounds the whole cycle.
    """

    interval: Duration
    repetitions: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.interval, Duration):
            raise TypeError("Cycle.interval must be a Duration")
        if _too_short(self.interval):
            raise ValueError("the interval of a timer cycle must be at least a microsecond")
        if self.repetitions is not None and self.repetitions < 1:
            raise ValueError("a timer cycle must repeat at least once")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"Cycle.{name} must be timezone-aware")
        if (
            self.start is not None
            and self.end is not None
            and _instant(self.end) < _instant(self.start)
        ):
            raise ValueError("the end of a timer cycle must not be before its start")

    def __str__(self) -> str:
        parts = [f"R{self.repetitions}" if self.repetitions is not None else "R"]
        if self.start is not None:
            parts.append(format_datetime(self.start))
        parts.append(str(self.interval))
        if self.end is not None:
            parts.append(format_datetime(self.end))
        return "/".join(parts)

    def first_due(self, armed_at: datetime) -> datetime | None:
        """When the cycle first fires if armed at ``armed_at``; None if it has nothing left."""
        _require_aware(armed_at, "armed_at")
        if self.start is None:
            return self._bounded(self.interval.add_to(armed_at), 0)
        index = self._first_index(self.start, 0, armed_at, strict=False)
        return self._bounded(self._occurrence(self.start, index), index)

    def next_due(
        self, previous_due: datetime, fired_count: int, *, armed_at: datetime | None = None
    ) -> datetime | None:
        """When the cycle fires after ``previous_due``; None when it is used up or past its end.

        ``fired_count`` is how many times it has fired, the previous one included.  Pass
        ``armed_at`` for a cycle without a start to count occurrences from the moment it was armed
        (otherwise the interval is added to ``previous_due``, and a monthly cycle anchored on the
        31st drifts to the 28th after February).
        """
        _require_aware(previous_due, "previous_due")
        if self.repetitions is not None and fired_count >= self.repetitions:
            return None
        if self.start is not None:
            anchor, shift = self.start, 0
        elif armed_at is not None:
            _require_aware(armed_at, "armed_at")
            anchor, shift = armed_at, 1
        else:
            return self._bounded(self.interval.add_to(previous_due), fired_count)
        index = self._first_index(anchor, shift, previous_due, strict=True)
        if shift and index < fired_count:
            index = fired_count
        return self._bounded(self._occurrence(anchor, index + shift), index)

    def _bounded(self, due: datetime, index: int) -> datetime | None:
        if self.repetitions is not None and index >= self.repetitions:
            return None
        if self.end is not None and _instant(due) > _instant(self.end):
            return None
        return due

    def _occurrence(self, anchor: datetime, n: int) -> datetime:
        return self.interval._times(n).add_to(anchor)

    def _first_index(self, anchor: datetime, shift: int, bound: datetime, *, strict: bool) -> int:
        """The smallest n >= 0 whose occurrence ``anchor + (n + shift) * interval`` passes bound."""

        limit = _instant(bound)

        def past(n: int) -> bool:
            due = _instant(self._occurrence(anchor, n + shift))
            return due > limit if strict else due >= limit

        # Estimate from the average length of the interval, then step to the exact answer.
        elapsed = (limit - _instant(anchor)).total_seconds()
        estimate = elapsed / self.interval._approx_seconds()
        n = max(0, int(estimate) - shift - 1)
        while n > 0 and past(n - 1):
            n -= 1
        while not past(n):
            n += 1
        return n


def _instant(dt: datetime) -> datetime:
    """``dt`` in UTC: Python compares two times of the same zone by wall clock, ignoring fold."""
    return dt.astimezone(_UTC)


def _require_aware(dt: datetime, name: str) -> None:
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@functools.lru_cache(maxsize=1024)
def parse_cycle(text: str, tz: tzinfo) -> Cycle:
    """Read an ISO 8601 repeating interval: ``R5/PT10M``, ``R/<start>/P1D``, ``R/P1D/<end>``, ...

    Date-times without an offset are wall-clock times in ``tz``.
    """
    text, i, end = _bounds(text, "timer cycle")
    if text[i] not in "Rr":
        if " " in text[i:end]:
            _fail(
                text,
                i,
                "cron expressions are not supported; write an ISO 8601 cycle such as R/PT1H",
            )
        _fail(text, i, "a timer cycle must start with 'R' (for example R/PT1H or R3/PT10M)")
    i += 1
    count_start = i
    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end or text[i] != "/":
        what = "a number or '/'" if i == count_start else "'/'"
        _fail(text, i, f"expected {what} after '{text[count_start - 1 : i]}'")
    repetitions: int | None = None
    if i > count_start:
        if i - count_start > _MAX_NUMBER_DIGITS:
            _fail(text, count_start, "this number of repetitions is too large")
        repetitions = int(text[count_start:i])
        if repetitions == 0:
            _fail(text, count_start, "a timer cycle must repeat at least once (R1 or more, or R/)")

    # Split the rest at '/' (not inside a [zone/name]) and read each part.
    spans: list[tuple[int, int]] = []
    part_start = i + 1
    in_zone = False
    for j in range(part_start, end):
        if text[j] == "[":
            in_zone = True
        elif text[j] == "]":
            in_zone = False
        elif text[j] == "/" and not in_zone:
            spans.append((part_start, j))
            part_start = j + 1
    spans.append((part_start, end))
    if len(spans) > 3:
        _fail(text, spans[3][0] - 1, "too many '/' in the timer cycle")
    parts: list[Duration | datetime] = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a >= b:
            _fail(text, a, "expected a duration or a date-time after '/'")
        if text[a] in "Pp+-":
            parts.append(_parse_duration(text, a, b))
        else:
            parts.append(_parse_datetime(text, a, b, tz))
    kinds = "".join("d" if isinstance(p, Duration) else "t" for p in parts)
    at = [a for a, _ in spans]

    interval: Duration
    start: datetime | None = None
    finish: datetime | None = None
    if kinds == "d":
        interval = _as_duration(parts[0])
    elif kinds == "td":
        start, interval = _as_datetime(parts[0]), _as_duration(parts[1])
    elif kinds == "dt":
        interval, finish = _as_duration(parts[0]), _as_datetime(parts[1])
    elif kinds == "tt":
        start, second = _as_datetime(parts[0]), _as_datetime(parts[1])
        if second <= start:
            _fail(text, at[1], "the end of the interval must be after its start")
        interval = _exact_duration(second - start)
    elif kinds == "tdt":
        start, interval, finish = (
            _as_datetime(parts[0]),
            _as_duration(parts[1]),
            _as_datetime(parts[2]),
        )
        if finish < start:
            _fail(text, at[2], "the end of the cycle must not be before its start")
    elif kinds == "t":
        _fail(text, end, "expected '/' and an interval after the start, for example R/<start>/P1D")
    else:  # "dd" or a three-part form other than start/duration/end
        shape = "dt" if kinds == "dd" else "tdt"
        bad = next(j for j, kind in enumerate(kinds) if kind != shape[j])
        expected = "a date-time" if shape[bad] == "t" else "a duration"
        _fail(text, at[bad], f"expected {expected} here")
    if _too_short(interval):
        _fail(
            text,
            at[kinds.index("d")],
            "the interval of a timer cycle must be at least a microsecond",
        )
    return Cycle(interval, repetitions, start, finish)


def _too_short(interval: Duration) -> bool:
    """True if the interval is zero or rounds to nothing (then due times would not increase)."""
    if interval.years or interval.months or interval.days or interval.hours or interval.minutes:
        return False
    return interval.seconds * _MICRO < 1


def _as_duration(value: Duration | datetime) -> Duration:
    assert isinstance(value, Duration)
    return value


def _as_datetime(value: Duration | datetime) -> datetime:
    assert isinstance(value, datetime)
    return value


# --------------------------------------------------------------------------------------------------
# The engine's entry point


def parse_timer(timer_type: str, text: str, tz: tzinfo) -> datetime | Duration | Cycle:
    """Read the literal text of a timer definition; used to check a model when it is deployed."""
    if timer_type == "timeDate":
        return parse_time_date(text, tz)
    if timer_type == "timeDuration":
        return parse_duration(text)
    if timer_type == "timeCycle":
        return parse_cycle(text, tz)
    raise ValueError(f"unknown timer type {timer_type!r}; expected one of {TIMER_TYPES}")


def timer_due(
    timer_type: str,
    value: object,
    armed_at: datetime,
    tz: tzinfo,
    calendar: BusinessCalendar | None = None,
) -> datetime:
    """When a timer armed at ``armed_at`` first fires; the engine's single entry point.

    ``value`` is what the timer's expression evaluated to: ISO text; a ``datetime`` or ``date``
    (timeDate; naive means wall-clock time in ``tz``); a :class:`Duration`, a ``timedelta``
    (elapsed time) or a FEEL years-and-months duration (timeDuration); a :class:`Cycle`
    (timeCycle; a duration there means ``R/<duration>``).  Durations are applied in the
    organisation's zone ``tz``.  A date-time in the past is returned as it is (due at once).

    A cycle with nothing left to fire when it is armed (its repetitions or its end date are
    already past) raises :class:`ExpressionError`; call :meth:`Cycle.first_due` to get None instead.

    A duration in working time (``P3WD``, ``PT1WH``, a :class:`WorkingDuration`) counts on
    ``calendar``, the business calendar the timer names (or the organisation's default).
    """
    _require_aware(armed_at, "armed_at")
    local = armed_at.astimezone(tz)
    if timer_type == "timeDate":
        if isinstance(value, str):
            return parse_time_date(value, tz)
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                return _normalise(value.replace(tzinfo=tz))
            return value
        if isinstance(value, date):
            return _normalise(datetime(value.year, value.month, value.day, tzinfo=tz))
        raise ExpressionError(
            f"a timeDate must be a date-time, not a value of type {type(value).__name__!r}"
        )
    if timer_type == "timeDuration":
        working = parse_working_duration(value) if isinstance(value, str) else value
        if isinstance(working, WorkingDuration):
            if calendar is None:
                raise ExpressionError(
                    "a duration in working time needs a business calendar", text=str(value)
                )
            return calendar.add(local, working).astimezone(tz)
        if isinstance(value, str):
            return parse_duration(value).add_to(local)
        if isinstance(value, Duration):
            return value.add_to(local)
        if isinstance(value, YearsMonthsDuration):
            return _months_duration(value).add_to(local)
        if isinstance(value, timedelta):
            if value < timedelta(0):
                raise ExpressionError("timer duration must not be negative")
            return (local.astimezone(_UTC) + value).astimezone(tz)
        raise ExpressionError(
            f"a timeDuration must be a duration, not a value of type {type(value).__name__!r}"
        )
    if timer_type == "timeCycle":
        cycle: Cycle
        if isinstance(value, str):
            cycle = parse_cycle(value, tz)
        elif isinstance(value, Cycle):
            cycle = value
        elif isinstance(value, Duration | timedelta | YearsMonthsDuration):
            if isinstance(value, Duration):
                duration = value
            elif isinstance(value, timedelta):
                duration = _timedelta_duration(value)
            else:
                duration = _months_duration(value)
            if _too_short(duration):
                raise ExpressionError(
                    "the interval of a timer cycle must be at least a microsecond"
                )
            cycle = Cycle(duration)
        else:
            raise ExpressionError(
                f"a timeCycle must be a cycle such as 'R/PT1H', not a value of type "
                f"{type(value).__name__!r}"
            )
        due = cycle.first_due(local)
        if due is None:
            raise ExpressionError(
                "the timer cycle has no occurrence left: its repetitions or its end are already "
                "past",
                text=str(cycle),
            )
        return due
    raise ValueError(f"unknown timer type {timer_type!r}; expected one of {TIMER_TYPES}")


def _timedelta_duration(delta: timedelta) -> Duration:
    if delta < timedelta(0):
        raise ExpressionError("timer duration must not be negative")
    return _exact_duration(delta)


def _months_duration(value: YearsMonthsDuration) -> Duration:
    if value.months < 0:
        raise ExpressionError("timer duration must not be negative")
    years, months = divmod(value.months, 12)
    return Duration(years=years, months=months)
