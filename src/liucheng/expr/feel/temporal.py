"""FEEL dates, times and durations on top of Python's ``datetime``.

Mapping: ``date`` → ``datetime.date``; ``time`` → ``datetime.time`` (with ``tzinfo`` when an
offset or zone is given); ``date and time`` → ``datetime.datetime`` (aware with an offset or
``@Zone/Id``, naive otherwise); days-and-time duration → ``timedelta``; years-and-months duration
→ :class:`YearsMonthsDuration`.  Python's range (years 1–9999, microsecond precision) is narrower
than FEEL's; values outside it are null.  Parsers return ``None`` for malformed text, because FEEL
defines ``date("nonsense")`` as null.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .values import YearsMonthsDuration

_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")
_TIME = re.compile(
    r"(\d\d):(\d\d)(?::(\d\d)(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d|@[A-Za-z][A-Za-z0-9_+\-/]{0,63})?"
)
_DURATION = re.compile(
    r"(-)?P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})W)?(?:(\d{1,9})D)?"
    r"(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,12}(?:\.\d{1,9})?)S)?)?"
)
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_ZERO = dt.timedelta(0)
_US = Decimal(1_000_000)


def zone(name: str) -> dt.tzinfo | None:
    """An IANA zone by name, or None; the name is checked first so no path can be formed."""
    if not _ZONE.fullmatch(name) or ".." in name:
        return None
    if name in ("Z", "UTC"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def _tz(text: str | None) -> dt.tzinfo | bool | None:
    """Timezone of a suffix; ``False`` when the suffix is invalid (``None`` means local/naive)."""
    if not text:
        return None
    if text == "Z":
        return dt.UTC
    if text[0] == "@":
        return zone(text[1:]) or False
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 18 or minutes > 59:
        return False
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_date(text: str) -> dt.date | None:
    m = _DATE.fullmatch(text)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_time(text: str) -> dt.time | None:
    m = _TIME.fullmatch(text)
    if not m:
        return None
    tz = _tz(m[5])
    if tz is False or tz is True:
        return None
    frac = int((m[4] or ".0")[1:7].ljust(6, "0"))
    try:
        return dt.time(int(m[1]), int(m[2]), int(m[3] or 0), frac, tzinfo=tz or None)
    except ValueError:
        return None


def parse_date_time(text: str) -> dt.datetime | None:
    date_part, sep, time_part = text.partition("T")
    d = parse_date(date_part)
    if d is None:
        return None
    if not sep:
        return dt.datetime(d.year, d.month, d.day)
    t = parse_time(time_part)
    return None if t is None else dt.datetime.combine(d, t)


def parse_duration(text: str) -> dt.timedelta | YearsMonthsDuration | None:
    m = _DURATION.fullmatch(text)
    if not m or text.endswith(("P", "T")):
        return None
    neg, y, mo, w, d, h, mi, s = m.groups()
    if y or mo:
        if w or d or h or mi or s:
            return None  # FEEL has no duration that mixes months with days
        months = int(y or 0) * 12 + int(mo or 0)
        return YearsMonthsDuration(-months if neg else months)
    try:
        us = int(Decimal(s or 0) * _US)
        td = dt.timedelta(
            weeks=int(w or 0), days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0)
        ) + dt.timedelta(microseconds=us)
    except OverflowError:
        return None
    return -td if neg else td


def parse_temporal(text: str) -> Any:
    """The value of an ``@"..."`` literal: whichever temporal type the text spells."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if "T" in text:
        return parse_date_time(text)
    if _DATE.fullmatch(text):
        return parse_date(text)
    return parse_time(text)


def add_months(value: Any, months: int) -> Any:
    """Calendar month arithmetic; the day is clamped to the target month's length (Jan 31 + 1M)."""
    y, m = divmod(value.month - 1 + months, 12)
    y += value.year
    if not 1 <= y <= 9999:
        return None
    day = min(value.day, calendar.monthrange(y, m + 1)[1])
    return value.replace(year=y, month=m + 1, day=day)


def time_plus(t: dt.time, delta: dt.timedelta) -> dt.time:
    """FEEL time + duration wraps around midnight."""
    moved = dt.datetime.combine(dt.date(2000, 1, 1), t) + delta
    return moved.timetz()


def format_offset(off: dt.timedelta) -> str:
    if off == _ZERO:
        return "Z"
    sign = "-" if off < _ZERO else "+"
    total = abs(int(off.total_seconds())) // 60
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


def _format_tz(value: dt.time | dt.datetime) -> str:
    tz = value.tzinfo
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    off = value.utcoffset()
    return "" if off is None else format_offset(off)


def format_time(t: dt.time) -> str:
    base = t.replace(tzinfo=None).isoformat()
    return base + _format_tz(t)


def format_date_time(v: dt.datetime) -> str:
    return v.date().isoformat() + "T" + format_time(v.timetz())


def format_duration(td: dt.timedelta) -> str:
    """ISO 8601 text of a days-time duration, e.g. ``P1DT2H``, ``-PT0.5S``."""
    us = td // dt.timedelta(microseconds=1)
    sign = "-" if us < 0 else ""
    us = abs(us)
    days, us = divmod(us, 86_400_000_000)
    hours, us = divmod(us, 3_600_000_000)
    minutes, us = divmod(us, 60_000_000)
    secs = Decimal(us) / _US
    out = sign + "P" + (f"{days}D" if days else "")
    t = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs:
        t += format(secs.normalize(), "f") + "S"
    if t:
        out += "T" + t
    return out if out not in ("P", "-P") else "PT0S"


def property_of(value: Any, name: str) -> Any:
    """The documented FEEL properties of temporal values (``.year``, ``.days``...), else MISSING.

    This is the only attribute access the language performs on Python objects, and it goes
    through this fixed table rather than ``getattr``.
    """
    from .values import MISSING

    t = type(value)
    if t is dt.timedelta:
        us = abs(value) // dt.timedelta(microseconds=1)
        sign = -1 if value < _ZERO else 1
        parts = {
            "days": us // 86_400_000_000,
            "hours": us // 3_600_000_000 % 24,
            "minutes": us // 60_000_000 % 60,
            "seconds": us // 1_000_000 % 60,
        }
        return Decimal(sign * parts[name]) if name in parts else MISSING
    if t is YearsMonthsDuration:
        if name == "years":
            return Decimal(value.years)
        if name == "months":
            return Decimal(value.months_part)
        return MISSING
    if t is dt.date or t is dt.datetime:
        if name == "year":
            return Decimal(value.year)
        if name == "month":
            return Decimal(value.month)
        if name == "day":
            return Decimal(value.day)
        if name == "weekday":
            return Decimal(value.isoweekday())
    if t is dt.time or t is dt.datetime:
        if name == "hour":
            return Decimal(value.hour)
        if name == "minute":
            return Decimal(value.minute)
        if name == "second":
            return Decimal(value.second) + Decimal(value.microsecond) / _US
        if name == "time offset":
            return value.utcoffset()
        if name == "timezone":
            tz = value.tzinfo
            return tz.key if isinstance(tz, ZoneInfo) else None
    return MISSING
