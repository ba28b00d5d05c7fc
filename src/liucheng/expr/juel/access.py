"""What ``a.b``, ``a[b]`` and ``a.m(args)`` may reach: data, never Python objects.

A Java EL resolver chain reads bean properties and calls any public method by reflection, which
is how ``${''.getClass().forName('java.lang.Runtime')}`` becomes remote code execution.  Here
nothing is looked up by name on an object: a property is a key of a map, an index of a list, or
an entry in the explicit tables below (``date.year``); a method is an entry in the per-type
tables below, implemented by our own small functions.  ``getattr`` is never called with a name
from the text, names starting with ``_`` are refused when compiling, and a value of any other
type (a host object that slipped into the variables) has no properties and no methods at all.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from liucheng.expr.feel.values import YearsMonthsDuration
from liucheng.fileref import FIELDS as FILE_FIELDS
from liucheng.fileref import FileRef

from .coerce import describe, fail, to_int, to_str
from .ops import java_equals

Getter = Callable[[Any], Any]

_DATE_PROPERTIES: dict[str, Getter] = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "dayOfWeek": lambda d: d.isoweekday(),
    "dayOfYear": lambda d: d.timetuple().tm_yday,
}
_TIME_PROPERTIES: dict[str, Getter] = {
    "hour": lambda t: t.hour,
    "minute": lambda t: t.minute,
    "second": lambda t: t.second,
}
PROPERTIES: dict[type, dict[str, Getter]] = {
    dt.date: _DATE_PROPERTIES,
    dt.datetime: {**_DATE_PROPERTIES, **_TIME_PROPERTIES},
    dt.time: _TIME_PROPERTIES,
    dt.timedelta: {"days": lambda d: d.days, "seconds": lambda d: d.seconds},
    YearsMonthsDuration: {"years": lambda d: d.years, "months": lambda d: d.months_part},
    FileRef: {name: operator.attrgetter(name) for name in FILE_FIELDS},  # ``${doc.size}``
}
"""Read-only properties of value types, beside the keys of maps."""


def get_property(base: Any, name: str) -> Any:
    """``base.name``: a map's entry (null when absent, as EL's map resolver gives), a value
    type's property from :data:`PROPERTIES`, null when ``base`` is null; an error otherwise."""
    cls = base.__class__
    if cls is dict:
        return base.get(name)
    if base is None:
        return None
    if isinstance(base, Mapping):
        return base.get(name)
    props = PROPERTIES.get(cls)
    if props is not None:
        getter = props.get(name)
        if getter is None:
            known = ", ".join(sorted(props))
            raise fail(f"{describe(base)} has no property {name!r} (it has {known})")
        return getter(base)
    if cls is list or cls is tuple:
        raise fail(f"a list has no property {name!r}; use list.size() or list[0]")
    raise fail(f"cannot read property {name!r} of {describe(base)}")


def get_index(base: Any, key: Any) -> Any:
    """``base[key]``: a list item (null when out of range, never counted from the end), a map
    entry, or a property named by a string."""
    if base is None or key is None:
        return None
    cls = base.__class__
    if cls is list or cls is tuple:
        if key.__class__ is bool:
            raise fail("a list index must be a number, not a boolean")
        i = to_int(key)
        return base[i] if 0 <= i < len(base) else None
    if cls is dict or isinstance(base, Mapping):
        try:
            return base.get(key)
        except TypeError:
            raise fail(f"{describe(key)} cannot be a map key") from None
    if cls in PROPERTIES and key.__class__ is str:
        return get_property(base, key)
    raise fail(f"cannot index {describe(base)}")


# -- methods ------------------------------------------------------------------------------------
Method = tuple[int, int, Callable[..., Any]]
"""(fewest arguments, most arguments, implementation taking the receiver first)."""

_JAVA_SPACE = "".join(map(chr, range(33)))  # String.trim() removes code points up to U+0020


def _text(value: Any) -> str:
    if value is None:
        raise fail("expected text but found null")
    return to_str(value)


def _substring(s: str, begin: Any, end: Any = None) -> str:
    b = to_int(begin)
    e = len(s) if end is None else to_int(end)
    if not 0 <= b <= e <= len(s):
        raise fail(f"substring({b}, {e}) is outside a text of length {len(s)}")
    return s[b:e]


def _list_get(items: list[Any] | tuple[Any, ...], index: Any) -> Any:
    i = to_int(index)
    if not 0 <= i < len(items):
        raise fail(f"get({i}) is outside a list of size {len(items)}")
    return items[i]


def _index_of(items: list[Any] | tuple[Any, ...], value: Any) -> int:
    return next((i for i, x in enumerate(items) if java_equals(x, value)), -1)


def _map_get(m: Mapping[Any, Any], key: Any) -> Any:
    try:
        return m.get(key)
    except TypeError:
        raise fail(f"{describe(key)} cannot be a map key") from None


def _shift_months(d: dt.date, months: int) -> dt.date:
    """Add calendar months, keeping the day unless the month is shorter (Jan 31 + 1 = Feb 28)."""
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise fail("date is out of range")
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return d.replace(year=year, month=month + 1, day=day)


def _shift(unit: str, sign: int) -> Callable[[dt.date, Any], dt.date]:
    def shift(d: dt.date, amount: Any) -> dt.date:
        n = to_int(amount) * sign
        try:
            if unit == "months":
                return _shift_months(d, n)
            if unit == "years":
                return _shift_months(d, n * 12)
            return d + dt.timedelta(**{unit: n})
        except (OverflowError, ValueError):
            raise fail("date is out of range") from None

    return shift


def _before(d: Any, other: Any) -> bool:
    try:
        return bool(d < other)
    except TypeError:
        raise fail(f"cannot compare {describe(d)} with {describe(other)}") from None


_STR: dict[str, Method] = {
    "length": (0, 0, len),
    "isEmpty": (0, 0, lambda s: not s),
    "trim": (0, 0, lambda s: s.strip(_JAVA_SPACE)),
    "toUpperCase": (0, 0, str.upper),
    "toLowerCase": (0, 0, str.lower),
    "contains": (1, 1, lambda s, x: _text(x) in s),
    "startsWith": (1, 1, lambda s, x: s.startswith(_text(x))),
    "endsWith": (1, 1, lambda s, x: s.endswith(_text(x))),
    "indexOf": (1, 1, lambda s, x: s.find(_text(x))),
    "equalsIgnoreCase": (1, 1, lambda s, x: x.__class__ is str and s.lower() == x.lower()),
    "substring": (1, 2, _substring),
}
_LIST: dict[str, Method] = {
    "size": (0, 0, len),
    "isEmpty": (0, 0, lambda items: not items),
    "contains": (1, 1, lambda items, x: _index_of(items, x) >= 0),
    "indexOf": (1, 1, _index_of),
    "get": (1, 1, _list_get),
}
_MAP: dict[str, Method] = {
    "size": (0, 0, len),
    "isEmpty": (0, 0, lambda m: not m),
    "containsKey": (1, 1, lambda m, k: _has_key(m, k)),
    "containsValue": (1, 1, lambda m, v: any(java_equals(x, v) for x in m.values())),
    "get": (1, 1, _map_get),
}
_DATE: dict[str, Method] = {
    **{
        f"{verb}{unit.capitalize()}": (1, 1, _shift(unit, sign))
        for verb, sign in (("plus", 1), ("minus", -1))
        for unit in ("years", "months", "weeks", "days")
    },
    "toDate": (0, 0, lambda d: d),
    "isBefore": (1, 1, _before),
    "isAfter": (1, 1, lambda d, other: _before(other, d)),
}
_DATETIME: dict[str, Method] = {
    **_DATE,
    **{
        f"{verb}{unit.capitalize()}": (1, 1, _shift(unit, sign))
        for verb, sign in (("plus", 1), ("minus", -1))
        for unit in ("hours", "minutes", "seconds")
    },
}
_ANY: dict[str, Method] = {
    "equals": (1, 1, java_equals),
    "toString": (0, 0, to_str),
}
_BY_TYPE: dict[type, dict[str, Method]] = {
    str: _STR,
    list: _LIST,
    tuple: _LIST,
    dict: _MAP,
    dt.date: _DATE,
    dt.datetime: _DATETIME,
}
_VALUE_TYPES = frozenset(
    {bool, int, float, Decimal, dt.time, dt.timedelta, YearsMonthsDuration, *_BY_TYPE}
)

METHOD_NAMES = frozenset({*_STR, *_LIST, *_MAP, *_DATETIME, *_ANY})
"""Every method name any value has; a call to another name is refused when compiling."""


def _has_key(m: Mapping[Any, Any], key: Any) -> bool:
    try:
        return key in m
    except TypeError:
        return False


def call_method(receiver: Any, name: str, args: list[Any]) -> Any:
    """Call the whitelisted method ``name`` of ``receiver``'s type; refuse anything else."""
    if receiver is None:
        raise fail(f"cannot call {name}() on null")
    cls = receiver.__class__
    table = _BY_TYPE.get(cls)
    if table is None and isinstance(receiver, Mapping):
        table = _MAP
    if table is None and cls not in _VALUE_TYPES:
        raise fail(f"cannot call {name}() on {describe(receiver)}")
    entry = (table or {}).get(name) or _ANY.get(name)
    if entry is None:
        raise fail(f"{describe(receiver)} has no method {name}()")
    low, high, impl = entry
    if not low <= len(args) <= high:
        count = str(low) if low == high else f"{low} or {high}"
        raise fail(f"{name}() takes {count} argument{'s' if high != 1 else ''}, not {len(args)}")
    return impl(receiver, *args)
