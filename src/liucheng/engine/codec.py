"""Case variables to JSON and back, exactly.

A case (process instance) is stored as JSON and must resume as if it had never been stored, so
every value a variable may hold comes back with the same type and value:

==========================  ==========================================================
Python value                JSON
==========================  ==========================================================
None, bool, int, str        themselves
float                       itself (NaN and infinities are refused)
list                        a list
tuple                       a list: **tuples come back as lists** (JSON has one sequence
                            type; a script that needs a tuple after a wait converts it)
dict with str keys          an object (a one-key object whose key starts with ``$`` is
                            escaped by doubling the ``$``: ``{"$$x": 1}``)
Decimal                     ``{"$decimal": "50.00"}`` (scale kept; NaN/infinity refused)
datetime                    ``{"$datetime": "2026-01-01T10:00:00+08:00[Asia/Shanghai]"}``:
                            naive stays naive, a fixed offset stays a fixed offset, a
                            ``ZoneInfo`` zone is kept by name
date, time                  ``{"$date": "2026-01-01"}``, ``{"$time": "10:00:00"}``
timedelta                   ``{"$timedelta": "90061.5"}`` (seconds, exact to the µs)
int past 64 bits            ``{"$int": "123456789012345678901"}``
FileRef                     ``{"$file": {"name": "id.pdf", "media_type": …, "size": 1}}``
                            (``FileRef.to_dict``: members that are None left out)
a registered type           ``{"$<tag>": <its JSON>}`` (see :func:`register_type`)
==========================  ==========================================================

Anything else (sets, bytes, objects, subclasses of the types above such as enums) is refused by
:func:`check_storable` and :func:`to_jsonable` with :class:`UnstorableValueError`, naming where the
value sits: ``variables.items[2]: values of type 'set' cannot be stored; use a list``.  Refusing
is deliberate: a value that would come back as another type would make a resumed case behave
differently from one that never left memory.  :func:`check_storable` (and :func:`dumps`) also
refuse text holding a lone surrogate, which a JSON client can send as ``"\\ud800"`` but no
database can store as UTF-8; :func:`to_jsonable` skips that scan for speed.

Tags are one-key objects whose key starts with a single ``$``.  Because an escaped user key starts
with ``$$``, a tag can be recognised from the object alone, without knowing its parent, so
:func:`revive` decodes the tags of a parsed structure in one walk.

Speed: JSON text is written and read by orjson (Rust), which takes a seventh of the instructions
of Python's ``json`` to encode a stored case and about two fifths to parse one; Python's ``json``
is kept for what orjson will not take (see :func:`parse`).  orjson reads a number past 64 bits
back as a float, so such an integer is written as ``{"$int": "<digits>"}`` (only then: orjson
refuses to write it, and the fallback tags it).  :func:`to_jsonable` checks a dict or list of
plain values with set operations done in C and copies it in C; only containers holding other
values are walked in Python.  Results never share a container with their input, so a stored
snapshot cannot change when the live case does.  :func:`revive` skips containers of plain
values the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from liucheng.errors import LiuchengError
from liucheng.fileref import FileRef

__all__ = [
    "UnreadableValueError",
    "UnstorableValueError",
    "check_storable",
    "dumps",
    "from_jsonable",
    "loads",
    "register_type",
    "to_jsonable",
]


class UnstorableValueError(LiuchengError):
    """A variable holds a value that cannot be stored as JSON and restored exactly.

    ``path`` names the value, e.g. ``variables.items[2]``; ``reason`` says what is wrong with it.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)


class UnreadableValueError(LiuchengError):
    """Stored JSON holds a tagged value this process cannot decode (unknown tag or bad payload).

    An unknown tag usually means the module that registers the type has not been imported.
    """


# --------------------------------------------------------------------------------------------------
# Encoding

#: Types stored as themselves, with no check beyond their type.
_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None)})
PLAIN_TYPES = _PLAIN  # what JSON keeps as it is (a float must also be finite)
#: ... and floats, which need a finiteness check.
_PLAIN_OR_FLOAT: frozenset[type] = _PLAIN | {float}
_STR: frozenset[type] = frozenset({str})


class _Refused(Exception):
    """Raised inside the walk; collects the path on the way out (costs nothing when not raised)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.segments: list[str | int] = []


def _join_path(root: str, segments: list[str | int]) -> str:
    parts = [root]
    for segment in reversed(segments):
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif segment.isidentifier():
            parts.append(f".{segment}" if parts != [""] else segment)
        else:
            parts.append(f"[{segment!r}]")
    return "".join(parts)


def to_jsonable(value: Any, path: str = "") -> Any:
    """A structure of plain JSON types (dict, list, str, int, float, bool, None) for ``value``.

    ``path`` names ``value`` in error messages.  The result shares no container with ``value``.
    """
    try:
        return _encode(value)
    except _Refused as exc:
        raise UnstorableValueError(exc.reason, _join_path(path, exc.segments)) from None
    except RecursionError:
        raise UnstorableValueError(
            "the value is nested too deeply or contains itself", path
        ) from None


def check_storable(value: Any, path: str = "") -> None:
    """Raise :class:`UnstorableValueError` if ``value`` cannot be stored and restored exactly.

    Beyond :func:`to_jsonable`, this also refuses text that is not valid Unicode (a lone surrogate,
    which JSON's ``\\ud800`` escape lets a client send), since it cannot be written as UTF-8.
    """
    to_jsonable(value, path)
    _check_text(value, path)


def dumps(value: Any) -> str:
    """Compact JSON text for ``value`` (non-ASCII kept as is, key order kept)."""
    plain = to_jsonable(value)
    try:
        return orjson.dumps(plain).decode()
    except TypeError:  # orjson's refusal: an integer past 64 bits, or a lone surrogate
        _check_text(value, "")
        return _JSON_ENCODER.encode(_tag_big_ints(plain))


def _check_text(value: Any, path: str) -> None:
    try:
        _walk_text(value)
    except _Refused as exc:
        raise UnstorableValueError(exc.reason, _join_path(path, exc.segments)) from None


def _walk_text(value: Any) -> None:
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Refused(
                    "the text contains an invalid character (a lone surrogate)"
                ) from None
    elif kind is dict:
        for key, item in value.items():
            try:
                _walk_text(key)
                _walk_text(item)
            except _Refused as exc:
                exc.segments.append(key.encode("utf-8", "backslashreplace").decode("utf-8"))
                raise
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):
            try:
                _walk_text(item)
            except _Refused as exc:
                exc.segments.append(index)
                raise


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return _encode_dict(value)
    if kind is list:
        return _encode_list(value)
    if kind is float:
        if math.isfinite(value):
            return value
        raise _Refused(f"the number {value} cannot be stored")
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    raise _Refused(_refusal(value))


def _encode_dict(value: dict[Any, Any]) -> dict[str, Any]:
    if len(value) == 1:
        ((key, item),) = value.items()
        if type(key) is not str:
            raise _Refused(_bad_key(key))
        try:
            encoded = _encode(item)
        except _Refused as exc:
            exc.segments.append(key)
            raise
        return {"$" + key if key.startswith("$") else key: encoded}
    if _STR.issuperset(map(type, value)):
        kinds = set(map(type, value.values()))
        if kinds <= _PLAIN or (kinds <= _PLAIN_OR_FLOAT and _finite(value.values())):
            return dict(value)
    result: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _Refused(_bad_key(key))
        try:
            result[key] = item if type(item) in _PLAIN else _encode(item)
        except _Refused as exc:
            exc.segments.append(key)
            raise
    return result


def _encode_list(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    kinds = set(map(type, value))
    if kinds <= _PLAIN or (kinds <= _PLAIN_OR_FLOAT and _finite(value)):
        return list(value)
    result = []
    for index, item in enumerate(value):
        try:
            result.append(item if type(item) in _PLAIN else _encode(item))
        except _Refused as exc:
            exc.segments.append(index)
            raise
    return result


def _finite(values: Iterable[Any]) -> bool:
    return all(math.isfinite(v) for v in values if type(v) is float)


def _bad_key(key: object) -> str:
    return f"dictionary keys must be text, not {type(key).__name__!r} (key {key!r})"


def _refusal(value: object) -> str:
    kind = type(value)
    name = kind.__name__
    if isinstance(value, set | frozenset):
        return f"values of type {name!r} cannot be stored; use a list"
    if isinstance(value, bytes | bytearray):
        return f"values of type {name!r} cannot be stored; use text (e.g. base64)"
    builtin = (str, int, float, list, dict, tuple, Decimal, datetime, date, time, timedelta)
    if isinstance(value, builtin):
        return (
            f"values of type {name!r} cannot be stored: it would come back as its base type; "
            "convert it, or register it with liucheng.engine.codec.register_type"
        )
    return f"values of type {name!r} cannot be stored"


def _zone_suffix(tz: object) -> str:
    """``[Zone/Name]`` for a ZoneInfo, "" for a fixed offset or none; refuse other tzinfo types."""
    if tz is None or type(tz) is timezone:
        return ""
    if isinstance(tz, ZoneInfo) and tz.key:
        return f"[{tz.key}]"
    raise _Refused(
        f"time zones of type {type(tz).__name__!r} cannot be stored; use zoneinfo.ZoneInfo "
        "or a fixed offset"
    )


def _encode_decimal(value: Decimal) -> dict[str, str]:
    if not value.is_finite():
        raise _Refused(f"the decimal {value} cannot be stored")
    return {"$decimal": str(value)}


def _encode_datetime(value: datetime) -> dict[str, str]:
    return {"$datetime": value.isoformat() + _zone_suffix(value.tzinfo)}


def _encode_date(value: date) -> dict[str, str]:
    return {"$date": value.isoformat()}


def _encode_time(value: time) -> dict[str, str]:
    return {"$time": value.isoformat() + _zone_suffix(value.tzinfo)}


def _encode_timedelta(value: timedelta) -> dict[str, str]:
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    whole, fraction = divmod(abs(micros), 1_000_000)
    text = f"{sign}{whole}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else f"{sign}{whole}"
    return {"$timedelta": text}


def _encode_file(value: FileRef) -> dict[str, dict[str, Any]]:
    return {"$file": value.to_dict()}  # text and an int: nothing to encode further


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    FileRef: _encode_file,
    Decimal: _encode_decimal,
    datetime: _encode_datetime,
    date: _encode_date,
    time: _encode_time,
    timedelta: _encode_timedelta,
    tuple: _encode_list,
}


# --------------------------------------------------------------------------------------------------
# Decoding


def loads(text: str | bytes) -> Any:
    """The value :func:`dumps` wrote."""
    return revive(parse(text))


def parse(text: str | bytes) -> Any:
    """The plain JSON values in ``text``, tags not yet decoded (see :func:`revive`).

    orjson reads what it can; Python's parser reads the rest as it always did (``NaN``, a
    lone surrogate's escape, nesting past orjson's limit) and raises the error for text that
    is not JSON.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _PLAIN_DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))


def revive(obj: Any) -> Any:
    """The value ``obj`` (fresh from :func:`parse`) was written from: each tag decoded in place.

    Containers are reused, not copied: pass only what nothing else holds.  Containers holding
    only plain values are recognised by one set operation in C and left alone.
    """
    kind = type(obj)
    if kind is dict:
        if len(obj) == 1:
            ((key, item),) = obj.items()
            if type(item) in _CONTAINERS:
                item = revive(item)
            if key.startswith("$"):
                return _decode_member(key, item)
            obj[key] = item
            return obj
        if _PLAIN_OR_FLOAT.issuperset(map(type, obj.values())):
            return obj
        for key, item in obj.items():  # replacing values keeps the dict's size: allowed
            if type(item) in _CONTAINERS:
                obj[key] = revive(item)
        return obj
    if kind is list:
        if _PLAIN_OR_FLOAT.issuperset(map(type, obj)):
            return obj
        for index, item in enumerate(obj):
            if type(item) in _CONTAINERS:
                obj[index] = revive(item)
    return obj


_CONTAINERS = frozenset({dict, list})


def _tag_big_ints(value: Any) -> Any:
    """``value`` with each integer past 64 bits as ``{"$int": "<digits>"}``: orjson reads such a
    number back as a float, and only what it reads exactly is written as a number."""
    kind = type(value)
    if kind is int and not _INT64_MIN <= value <= _UINT64_MAX:
        return {"$int": str(value)}
    if kind is dict:
        return {key: _tag_big_ints(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_tag_big_ints(item) for item in value]
    return value


_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def from_jsonable(obj: Any) -> Any:
    """The value :func:`to_jsonable` produced ``obj`` from (``obj`` is not changed or shared)."""
    kind = type(obj)
    if kind is dict:
        if len(obj) == 1:
            ((key, item),) = obj.items()
            item = item if type(item) in _PLAIN_OR_FLOAT else from_jsonable(item)
            return _decode_member(key, item) if key.startswith("$") else {key: item}
        if _PLAIN_OR_FLOAT.issuperset(map(type, obj.values())):
            return dict(obj)
        return {
            key: item if type(item) in _PLAIN_OR_FLOAT else from_jsonable(item)
            for key, item in obj.items()
        }
    if kind is list:
        if _PLAIN_OR_FLOAT.issuperset(map(type, obj)):
            return list(obj)
        return [item if type(item) in _PLAIN_OR_FLOAT else from_jsonable(item) for item in obj]
    return obj


def _decode_member(key: str, payload: Any) -> Any:
    """The value of a one-member object ``{key: payload}`` whose key starts with ``$``."""
    if key.startswith("$$"):
        return {key[1:]: payload}
    decoder = _DECODERS.get(key)
    if decoder is None:
        raise UnreadableValueError(
            f"stored value has an unknown type tag {key!r}; is the module that registers it "
            "imported?"
        )
    try:
        return decoder(payload)
    except (ValueError, TypeError, ArithmeticError, ZoneInfoNotFoundError) as exc:
        raise UnreadableValueError(f"stored {key} value {payload!r} is malformed: {exc}") from None


def _text(payload: object) -> str:
    if type(payload) is not str:
        raise TypeError(f"expected text, found {type(payload).__name__}")
    return payload


def _split_zone(text: str) -> tuple[str, ZoneInfo | None]:
    if text.endswith("]"):
        base, _, name = text[:-1].partition("[")
        return base, ZoneInfo(name)
    return text, None


def _decode_decimal(payload: object) -> Decimal:
    value = Decimal(_text(payload))
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


_Clock = TypeVar("_Clock", datetime, time)
_OFFSET = re.compile(r"([+-])(\d\d):(\d\d):(\d\d)\.(\d{1,6})$")


def _exact_offset(value: _Clock, text: str) -> _Clock:
    """Python 3.11's ``fromisoformat`` drops the microseconds of a UTC offset
    (``+00:00:00.000001`` reads as UTC); put back the offset the text says."""
    found = _OFFSET.search(text)
    if found is None:
        return value
    sign, hours, minutes, seconds, fraction = found.groups()
    offset = timedelta(
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int(fraction.ljust(6, "0")),
    )
    offset = -offset if sign == "-" else offset
    return value if value.utcoffset() == offset else value.replace(tzinfo=timezone(offset))


def _decode_datetime(payload: object) -> datetime:
    text, zone = _split_zone(_text(payload))
    value = _exact_offset(datetime.fromisoformat(text), text)
    if zone is None:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    offset = value.utcoffset()
    try:
        moved = value.astimezone(zone)
    except OverflowError:  # within hours of year 1 or 9999
        moved = None
    if moved is not None and moved.utcoffset() == offset:
        return moved  # same instant and offset: the same wall-clock time and fold
    # A wall-clock time in a spring-forward gap, or the zone's rules changed since it was stored.
    local = value.replace(tzinfo=zone)
    for candidate in (local, local.replace(fold=1)):
        if candidate.utcoffset() == offset:
            return candidate
    return moved or local  # keep the instant


def _decode_date(payload: object) -> date:
    return date.fromisoformat(_text(payload))


def _decode_time(payload: object) -> time:
    text, zone = _split_zone(_text(payload))
    value = _exact_offset(time.fromisoformat(text), text)
    return value if zone is None else value.replace(tzinfo=zone)


def _decode_timedelta(payload: object) -> timedelta:
    text = _text(payload)
    whole, dot, fraction = text.partition(".")
    if not whole.lstrip("-").isdigit() or (dot and not (fraction.isdigit() and len(fraction) <= 6)):
        raise ValueError("expected a number of seconds with at most 6 decimals")
    micros = abs(int(whole)) * 1_000_000 + (int(fraction.ljust(6, "0")) if dot else 0)
    return timedelta(microseconds=-micros if whole.startswith("-") else micros)


def _decode_int(payload: object) -> int:
    text = _text(payload)
    if not text.lstrip("-").isdigit() or not text.isascii():
        raise ValueError("expected an integer's digits")
    return int(text)  # Python refuses more than 4,300 digits


def _decode_file(payload: object) -> FileRef:
    try:
        return FileRef.from_dict(payload)
    except LiuchengError as exc:
        raise ValueError(str(exc)) from None


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$file": _decode_file,
    "$decimal": _decode_decimal,
    "$datetime": _decode_datetime,
    "$date": _decode_date,
    "$time": _decode_time,
    "$timedelta": _decode_timedelta,
    "$int": _decode_int,
}
_BUILTIN_TAGS = frozenset(_DECODERS)

# Made once: json.dumps/json.loads with options build a new encoder/decoder on every call.
_JSON_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    allow_nan=False,
    check_circular=False,  # to_jsonable has already refused cycles
)
_PLAIN_DECODER = json.JSONDecoder()


def plain_json(value: Any) -> str:
    """Compact JSON text of a structure of plain JSON values that the caller built afresh, as
    :func:`to_jsonable` builds them (finite floats, no cycles: neither is checked again)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer past 64 bits, or a lone surrogate
        return _JSON_ENCODER.encode(_tag_big_ints(value))


# --------------------------------------------------------------------------------------------------
# Registry


def register_type(
    tag: str,
    cls: type,
    to_json: Callable[[Any], Any],
    from_json: Callable[[Any], Any],
) -> None:
    """Let values of exactly ``cls`` be stored, as ``{"$<tag>": to_json(value)}``.

    ``to_json`` returns any storable value (it is encoded in turn, so it may hold Decimals or
    dates); ``from_json`` receives that value decoded and returns the object.  ``tag`` is a short
    name such as ``"feel.ym_duration"`` (a leading ``$`` is optional).  Registering the same class
    under the same tag again replaces the functions (a module reloaded); a tag or class already
    used otherwise is refused.  Subclasses of ``cls`` are not covered.
    """
    name = tag.removeprefix("$")
    if not name or name.startswith("$") or not all(c.isalnum() or c in "._-" for c in name):
        raise ValueError(
            f"a type tag must be a short name of letters, digits, '.', '_' or '-': {tag!r}"
        )
    key = "$" + name
    if key in _BUILTIN_TAGS or cls in _BUILTIN_CLASSES:
        raise ValueError(f"{tag!r} / {cls.__name__} is built in and cannot be registered")
    registered = _REGISTERED.get(cls)
    if key in _DECODERS and registered != key:
        raise ValueError(f"the type tag {tag!r} is already registered for another class")
    if registered is not None and registered != key:
        raise ValueError(f"{cls.__name__} is already registered under the tag {registered!r}")

    def encode(value: Any) -> dict[str, Any]:
        return {key: _encode(to_json(value))}

    _REGISTERED[cls] = key
    _ENCODERS[cls] = encode
    _DECODERS[key] = from_json


_BUILTIN_CLASSES = frozenset(_ENCODERS) | _PLAIN_OR_FLOAT | {dict, list}
_REGISTERED: dict[type, str] = {}


def _register_feel_types() -> None:
    """FEEL's years-and-months duration (``P1Y2M``) is a case variable like any other."""
    from liucheng.expr.feel.values import YearsMonthsDuration

    register_type("feel.ym_duration", YearsMonthsDuration, lambda v: v.months, YearsMonthsDuration)


_register_feel_types()
