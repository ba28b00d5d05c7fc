"""The attribute whitelist: which attributes a script may read on which type.

Lookup is by the value's type (walking its MRO to the first whitelisted base), and the attribute is
always taken from that *base* type, never from the object: ``str.upper(value)`` rather than
``value.upper()``.  A subclass from the host cannot widen what a script reaches, and there is no
path from a value to ``__class__``, ``__globals__`` or a frame.  Methods whose result can be far
larger than their inputs (``join``, ``replace``, ``zfill``, ``extend``...) get a guard that checks
the result size first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from liucheng.fileref import FIELDS as FILE_FIELDS
from liucheng.fileref import FileRef

from .callables import SafeFunction, SafeMethod, SafeType, unwrap_key
from .limits import LimitError, check_len

# An entry is (is_property, implementation): a property is read with impl(obj); a method is
# called as impl(obj, *args, **kwargs).
Entry = tuple[bool, Callable[..., Any]]

_STRFTIME_SAFE = re.compile(r"(?:[^%]|%[A-Za-z%])*\Z")
"""strftime formats without field widths: glibc accepts ``%1000000000Y`` and would pad that far."""


def check_strftime(fmt: Any) -> None:
    """Refuse strftime formats with widths or flags, and long ones."""
    if not isinstance(fmt, str) or len(fmt) > 200 or not _STRFTIME_SAFE.match(fmt):
        raise LimitError("strftime format may only use plain %-directives such as %Y-%m-%d")


# --- guarded methods -------------------------------------------------------------------------


def _str_join(sep: str, items: Iterable[Any]) -> str:
    parts = list(items)
    check_len(len(parts), "join input")
    total = 0
    for p in parts:
        if not isinstance(p, str):
            raise TypeError(f"sequence item: expected str instance, {type(p).__name__} found")
        total += len(p)
    check_len(total + len(sep) * max(len(parts) - 1, 0), "joined string")
    return str.join(sep, parts)


def _str_replace(s: str, old: str, new: str, count: int = -1) -> str:
    if not isinstance(old, str) or not isinstance(new, str):
        raise TypeError("replace() arguments must be str")
    n = str.count(s, old)
    if count >= 0:
        n = min(n, count)
    check_len(len(s) + n * (len(new) - len(old)), "replaced string")
    return str.replace(s, old, new, count)


def _padder(name: str) -> Callable[..., str]:
    method = getattr(str, name)

    def pad(s: str, width: int, *args: Any) -> str:
        if isinstance(width, int):
            check_len(width, f"{name}() result")
        result: str = method(s, width, *args)
        return result

    return pad


def _list_append(lst: list[Any], item: Any) -> None:
    check_len(len(lst) + 1, "list")
    lst.append(item)


def _list_insert(lst: list[Any], index: int, item: Any) -> None:
    check_len(len(lst) + 1, "list")
    lst.insert(index, item)


def _list_extend(lst: list[Any], items: Iterable[Any]) -> None:
    more = list(items)
    check_len(len(lst) + len(more), "list")
    lst.extend(more)


def _list_sort(lst: list[Any], *, key: Any = None, reverse: bool = False) -> None:
    lst.sort(key=unwrap_key(key), reverse=reverse)


def _strftime(value: date | time, fmt: str) -> str:
    check_strftime(fmt)
    return value.strftime(fmt)


def _methods(base: type, names: str) -> dict[str, Entry]:
    return {n: (False, getattr(base, n)) for n in names.split()}


def _props(base: type, names: str) -> dict[str, Entry]:
    getters: dict[str, Entry] = {}
    for n in names.split():
        descriptor = getattr(base, n)
        getters[n] = (True, descriptor.__get__)
    return getters


_STR = _methods(
    str,
    "upper lower strip lstrip rstrip split rsplit splitlines startswith endswith title capitalize"
    " casefold swapcase isdigit isalpha isalnum isspace isupper islower isnumeric isdecimal"
    " find rfind index rindex count partition rpartition removeprefix removesuffix",
)
_STR.update(
    join=(False, _str_join),
    replace=(False, _str_replace),
    zfill=(False, _padder("zfill")),
    center=(False, _padder("center")),
    ljust=(False, _padder("ljust")),
    rjust=(False, _padder("rjust")),
)

_LIST = _methods(list, "pop remove index count reverse copy clear")
_LIST.update(
    append=(False, _list_append),
    insert=(False, _list_insert),
    extend=(False, _list_extend),
    sort=(False, _list_sort),
)

_DICT = _methods(dict, "get keys values items update pop setdefault copy clear popitem")

_FROZENSET = _methods(
    frozenset,
    "copy union intersection difference symmetric_difference issubset issuperset isdisjoint",
)
_SET = dict(_FROZENSET)
_SET.update(
    _methods(
        set,
        "add discard remove pop clear update intersection_update difference_update"
        " symmetric_difference_update",
    )
)

_DATE = _methods(date, "weekday isoweekday isoformat replace isocalendar toordinal")
_DATE.update(_props(date, "year month day"))
_DATE["strftime"] = (False, _strftime)

_DATETIME = dict(_DATE)
_DATETIME.update(
    _methods(datetime, "date time timetz astimezone timestamp utcoffset tzname isoformat replace")
)
_DATETIME.update(_props(datetime, "hour minute second microsecond tzinfo"))

_TIME = _methods(time, "isoformat replace utcoffset tzname")
_TIME.update(_props(time, "hour minute second microsecond tzinfo"))
_TIME["strftime"] = (False, _strftime)

_TIMEDELTA = _methods(timedelta, "total_seconds")
_TIMEDELTA.update(_props(timedelta, "days seconds microseconds"))

_DECIMAL = _methods(
    Decimal,
    "quantize to_integral_value to_integral normalize copy_abs copy_negate adjusted is_signed"
    " is_zero is_nan is_finite is_infinite sqrt",
)

_TABLES: dict[type, dict[str, Entry]] = {
    str: _STR,
    list: _LIST,
    dict: _DICT,
    set: _SET,
    frozenset: _FROZENSET,
    tuple: _methods(tuple, "index count"),
    int: _methods(int, "bit_length"),
    float: _methods(float, "is_integer"),
    Decimal: _DECIMAL,
    datetime: _DATETIME,
    date: _DATE,
    time: _TIME,
    timedelta: _TIMEDELTA,
    tzinfo: _methods(tzinfo, "utcoffset tzname"),
    timezone: _methods(timezone, "utcoffset tzname"),
    FileRef: _props(FileRef, " ".join(FILE_FIELDS)),  # ``doc.name``, ``doc.size``: read only
}

_BY_TYPE: dict[type, dict[str, Entry]] = {}
_NOTHING: dict[str, Entry] = {}

LINEAR_METHODS = frozenset(
    [
        "index",
        "rindex",
        "count",
        "find",
        "rfind",
        "remove",
        "split",
        "rsplit",
        "splitlines",
        "partition",
        "rpartition",
        "copy",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "strip",
        "lstrip",
        "rstrip",
        "upper",
        "lower",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
    ]
)
"""Methods that scan their object: their call is charged ``len(obj)`` steps, so running
``big.index(x)`` in a loop exhausts the step budget instead of the wall clock."""

ARGUMENT_SCANNING_METHODS = frozenset(
    {
        "extend", "update", "union", "intersection", "difference", "symmetric_difference",
        "issubset", "issuperset", "isdisjoint", "intersection_update", "difference_update",
        "symmetric_difference_update",
    }
)  # fmt: skip
"""Methods whose cost grows with their arguments: the arguments' lengths are charged too."""


def table_for(cls: type) -> dict[str, Entry]:
    """Whitelisted attributes of ``cls``: those of its first whitelisted base class."""
    table = _BY_TYPE.get(cls)
    if table is None:
        table = _NOTHING
        for base in cls.__mro__:
            found = _TABLES.get(base)
            if found is not None:
                table = found
                break
        _BY_TYPE[cls] = table
    return table


def _refuse(obj: Any, name: str) -> LimitError:
    if isinstance(obj, SafeFunction):
        return LimitError(f"'{obj.name}' has no attribute '{name}' available in scripts")
    return LimitError(f"'{type(obj).__name__}' object has no attribute '{name}' allowed in scripts")


def get_attribute(obj: Any, name: str) -> Any:
    """Read ``obj.name`` for a script: a property value, a class attribute of a SafeType, or a
    SafeMethod bound to ``obj``."""
    if isinstance(obj, SafeType):
        try:
            return obj.attrs[name]
        except KeyError:
            raise _refuse(obj, name) from None
    entry = table_for(obj.__class__).get(name)
    if entry is None:
        raise _refuse(obj, name)
    is_property, impl = entry
    if is_property:
        return impl(obj)
    return SafeMethod(impl, obj)


def method_of(obj: Any, name: str) -> Callable[..., Any]:
    """The callable for ``obj.name(...)``, taking ``obj`` as its first argument (no allocation on
    the common path, which is why method calls do not go through ``get_attribute``)."""
    if isinstance(obj, SafeType):
        value = obj.attrs.get(name)
        if isinstance(value, SafeFunction):
            fn = value.fn
            return lambda _obj, *a, **k: fn(*a, **k)
        raise _refuse(obj, name)
    entry = table_for(obj.__class__).get(name)
    if entry is None or entry[0]:
        if entry is not None:
            raise TypeError(f"'{name}' is not callable")
        raise _refuse(obj, name)
    return entry[1]


def _all_names() -> frozenset[str]:
    names: set[str] = set()
    for table in _TABLES.values():
        names.update(table)
    return frozenset(names)


ALLOWED_ATTRIBUTES = _all_names() | {
    "now",
    "today",
    "utcnow",
    "fromisoformat",
    "combine",
    "strptime",
    "utc",
    "min",
    "max",
    "resolution",
}
"""Every attribute name a script may write; anything else is refused at compile time."""
