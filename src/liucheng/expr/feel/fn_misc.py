"""Date/time, context and boolean built-ins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from . import clock, ops, temporal
from .registry import builtin
from .values import MAX_ITEMS, YearsMonthsDuration

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
_MONTHS += ("August", "September", "October", "November", "December")


def _int(n: Any) -> int | None:
    if type(n) is not Decimal or n != n.to_integral_value():
        return None
    return int(n)


@builtin("date(from: any, month?: number, day?: number)")
def date(value: Any, month: Decimal | None = None, day: Decimal | None = None) -> Any:
    if month is not None or day is not None:
        y, m, d = _int(value), _int(month), _int(day)
        if y is None or m is None or d is None:
            return None
        return dt.date(y, m, d)
    if type(value) is str:
        return temporal.parse_date(value)
    if type(value) is dt.datetime:
        return value.date()
    if type(value) is dt.date:
        return value
    return None


@builtin("time(from: any, minute?: number, second?: number, offset?: any)")
def time(value: Any, minute: Any = None, second: Any = None, offset: Any = None) -> Any:
    if minute is not None or second is not None:
        h, m = _int(value), _int(minute)
        if h is None or m is None or type(second) is not Decimal:
            return None
        s = int(second)
        us = int((second - s) * 1_000_000)
        tz = None
        if type(offset) is dt.timedelta:
            tz = dt.timezone(offset)
        elif offset is not None:
            return None
        return dt.time(h, m, s, us, tzinfo=tz)
    if type(value) is str:
        return temporal.parse_time(value)
    if type(value) is dt.datetime:
        return value.timetz()
    if type(value) is dt.date:
        return dt.time(0, 0)
    if type(value) is dt.time:
        return value
    return None


@builtin("date and time(from: any, time?: time)")
def date_and_time(value: Any, t: dt.time | None = None) -> Any:
    if t is not None:
        if type(value) is dt.date or type(value) is dt.datetime:
            return dt.datetime.combine(value, t)
        return None
    if type(value) is str:
        return temporal.parse_date_time(value)
    if type(value) is dt.datetime:
        return value
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return None


@builtin("duration(from: string)")
def duration(text: str) -> Any:
    return temporal.parse_duration(text)


@builtin("years and months duration(from: date, to: date)")
def years_and_months_duration(start: dt.date, end: dt.date) -> YearsMonthsDuration:
    months = (end.year - start.year) * 12 + end.month - start.month
    day_start = (start.day, start.timetz() if isinstance(start, dt.datetime) else dt.time())
    day_end = (end.day, end.timetz() if isinstance(end, dt.datetime) else dt.time())
    if months > 0 and day_end < day_start:
        months -= 1
    elif months < 0 and day_end > day_start:
        months += 1
    return YearsMonthsDuration(months)


@builtin("now()")
def now() -> dt.datetime:
    return clock.now()


@builtin("today()")
def today() -> dt.date:
    return clock.now().date()


@builtin("day of week(date: date)")
def day_of_week(d: dt.date) -> str:
    return _DAYS[d.weekday()]


@builtin("day of year(date: date)")
def day_of_year(d: dt.date) -> Decimal:
    return Decimal(d.timetuple().tm_yday)


@builtin("week of year(date: date)")
def week_of_year(d: dt.date) -> Decimal:
    return Decimal(d.isocalendar()[1])


@builtin("month of year(date: date)")
def month_of_year(d: dt.date) -> str:
    return _MONTHS[d.month - 1]


@builtin("last day of month(date: date)")
def last_day_of_month(d: dt.date) -> Decimal:
    nxt = temporal.add_months(dt.date(d.year, d.month, 1), 1)
    if nxt is None:
        return Decimal(31)
    return Decimal((nxt - dt.timedelta(days=1)).day)


# -- context ------------------------------------------------------------------------------------


@builtin("get value(m: context, key: any)")
def get_value(m: dict[str, Any], key: Any) -> Any:
    if type(key) is str:
        return m.get(key)
    if type(key) is list and all(type(k) is str for k in key):
        cur: Any = m
        for k in key:
            if type(cur) is not dict:
                return None
            cur = cur.get(k)
        return cur
    return None


@builtin("get entries(m: context)")
def get_entries(m: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in m.items()]


@builtin("context put(context: context, key: any, value: any)")
def context_put(m: dict[str, Any], key: Any, value: Any) -> dict[str, Any] | None:
    keys = [key] if type(key) is str else key
    if type(keys) is not list or not keys or any(type(k) is not str for k in keys):
        return None
    out = dict(m)
    if len(keys) == 1:
        out[keys[0]] = value
        return out
    inner = out.get(keys[0])
    if type(inner) is not dict:
        return None
    nested = context_put(inner, keys[1:], value)
    if nested is None:
        return None
    out[keys[0]] = nested
    return out


@builtin("context merge(contexts: list)")
def context_merge(contexts: list[Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for c in contexts:
        if type(c) is not dict:
            return None
        out.update(c)
    return out


@builtin("context(entries: list)")
def context(entries: list[Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for e in entries:
        if type(e) is not dict or type(e.get("key")) is not str or "value" not in e:
            return None
        out[e["key"]] = e["value"]
    return out if len(out) <= MAX_ITEMS else None


# -- boolean ------------------------------------------------------------------------------------


@builtin("not(negand: any)")
def not_(value: Any) -> bool | None:
    return (not value) if type(value) is bool else None


@builtin("is defined(value: any)")
def is_defined(value: Any) -> bool:
    """Only reached for non-name arguments; the compiler answers ``is defined(x.y)`` itself."""
    return True


@builtin("get or else(value: any, default: any)")
def get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value


@builtin("is(value1: any, value2: any)")
def is_(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (dt.time, dt.datetime)) and a.tzinfo != b.tzinfo:
        return False
    return ops.eq(a, b) is True
