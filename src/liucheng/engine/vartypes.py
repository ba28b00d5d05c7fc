"""Declared types of process variables, and the check of values set from outside.

A process may declare what its variables hold: a data object's item definition
(``itemSubjectRef`` → ``structureRef="xsd:int"``), or Liucheng's own declaration in the
process's extension elements::

    <liucheng:variables>
      <liucheng:variable name="deposit" type="number"/>
      <liucheng:variable name="scans" type="file" collection="true"/>
    </liucheng:variables>

Seven types exist (``TYPE_NAMES``): string, number, boolean, date, date-time, json and file.
When a variable is set from outside the engine — ``Engine.start``, ``complete``,
``complete_external``, ``correlate`` and ``set_variables`` — its value must have the declared
type, or the call is refused before anything changes (:class:`VariableTypeError`, naming the
variable, the expected and the given type).  What a case computes itself (scripts, handlers,
mappings) is not checked: the model's author answers for that.

The rules, chosen to keep values exact (see STYLE.md: money is Decimal, times are aware):

* ``number`` is an ``int`` or a ``Decimal``; a ``float`` is refused (binary fractions are not
  exact: give a Decimal), and so is a ``bool``, which Python counts as an int;
* ``date`` is a ``datetime.date`` that is not a ``datetime``; ``date-time`` is a
  timezone-aware ``datetime``;
* ``json`` is a dict (text keys) or list of text, numbers (int, float, Decimal), booleans,
  null and further such dicts and lists — data a form or a web client sends;
* ``file`` is a :class:`~liucheng.fileref.FileRef`;
* a *collection* (``isCollection="true"``, ``collection="true"``) is a list whose items all have
  the type;
* ``None`` (null) is accepted for every type: the variable has no value yet.  A data object
  without a default starts as None.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from liucheng.errors import VariableTypeError
from liucheng.fileref import FileRef

__all__ = ["TYPE_NAMES", "VarType", "VariableTypeError", "check_types", "type_named"]

#: The declared type names, as ``liucheng:variable type="…"`` spells them.
TYPE_NAMES: Final = ("string", "number", "boolean", "date", "date-time", "json", "file")

#: Other spellings of the type names (``type="datetime"``, Camunda form field types).
_ALIASES: Final = {
    "text": "string",
    "str": "string",
    "integer": "number",
    "int": "number",
    "long": "number",
    "decimal": "number",
    "double": "number",
    "bool": "boolean",
    "datetime": "date-time",
    "date_time": "date-time",
    "file-ref": "file",
    "fileref": "file",
}

#: ``structureRef`` local names (XML Schema, Java, plain) → type name; compared lower-case.
_STRUCTURES: Final = {
    "string": "string",
    "normalizedstring": "string",
    "token": "string",
    "java.lang.string": "string",
    "int": "number",
    "integer": "number",
    "long": "number",
    "short": "number",
    "decimal": "number",
    "double": "number",
    "float": "number",
    "number": "number",
    "nonnegativeinteger": "number",
    "positiveinteger": "number",
    "java.lang.integer": "number",
    "java.lang.long": "number",
    "java.lang.short": "number",
    "java.lang.double": "number",
    "java.math.bigdecimal": "number",
    "boolean": "boolean",
    "java.lang.boolean": "boolean",
    "date": "date",
    "java.time.localdate": "date",
    "datetime": "date-time",
    "java.util.date": "date-time",
    "java.time.offsetdatetime": "date-time",
    "java.time.zoneddatetime": "date-time",
    "json": "json",
    "file": "file",
    "fileref": "file",
}


@dataclass(frozen=True, slots=True)
class VarType:
    """A declared type: one of ``TYPE_NAMES``, or a list of them (``collection``)."""

    name: str
    collection: bool = False

    def describe(self) -> str:
        """``"a number"``, ``"a list of file references"`` — for messages."""
        if self.collection:
            return f"a list of {_PLURAL[self.name]}"
        return _SINGULAR[self.name]

    def accepts(self, value: object) -> bool:
        if value is None:
            return True
        if not self.collection:
            return _ACCEPTS[self.name](value)
        accepts = _ACCEPTS[self.name]
        return type(value) is list and all(v is not None and accepts(v) for v in value)

    def check(self, name: str, value: object) -> None:
        """Raise :class:`VariableTypeError` unless ``value`` has this type."""
        if not self.accepts(value):
            raise _refusal(name, self, value)

    def parse_default(self, text: str, tz: tzinfo) -> Any:
        """The value a data object's default text stands for (``<flowable:value>42</…>``).

        A collection's default is a JSON array; naive date-times are read in ``tz`` (the
        organisation's zone), as Flowable reads them in the server's.  Raises ValueError with
        the reason when the text is not a value of the type.
        """
        if self.collection:
            try:
                items = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise ValueError(f"a collection's default must be a JSON array: {exc}") from None
            if type(items) is not list:
                raise ValueError("a collection's default must be a JSON array")
            return [self._item(item, tz) for item in items]
        return _parse(self.name, text, tz)

    def _item(self, item: Any, tz: tzinfo) -> Any:
        if self.name in ("date", "date-time") and isinstance(item, str):
            return _parse(self.name, item, tz)
        if self.name == "number" and type(item) is Decimal:
            return item
        if not _ACCEPTS[self.name](item):
            raise ValueError(f"{_short(item)} is not {_SINGULAR[self.name]}")
        return item


def type_named(text: str | None) -> str | None:
    """The type name for a ``liucheng:variable type`` value (aliases allowed), or None."""
    if text is None:
        return None
    key = text.strip().lower()
    return key if key in TYPE_NAMES else _ALIASES.get(key)


def type_of_structure(structure: str | None) -> str | None:
    """The type an item definition's ``structureRef`` names (``xsd:int`` → number), or None
    when it names a structure of the model's own (``Order``): such a variable is not checked."""
    if not structure:
        return None
    text = structure.strip()
    local = text.rpartition(":")[2] if not text.lower().startswith("java") else text
    found = _STRUCTURES.get(local.lower())
    if found is None and ":" in text:  # ``liucheng:file``, ``xs:dateTime``, ``java:...``
        found = _STRUCTURES.get(text.rpartition(":")[2].lower())
    return found


def check_types(types: dict[str, VarType], values: dict[str, Any]) -> None:
    """Refuse ``values`` if any variable in them has the wrong type (checked before a call
    changes anything, so a refusal changes nothing)."""
    for name, value in values.items():
        declared = types.get(name)
        if declared is not None and not declared.accepts(value):
            raise _refusal(name, declared, value)


def describe_value(value: object) -> str:
    """The type of a value, in the words of the messages (``a float``, ``a naive date-time``)."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is datetime:
        return "a date-time" if value.tzinfo is not None else "a naive date-time (no time zone)"  # type: ignore[attr-defined]
    names = {
        str: "text",
        bool: "a boolean",
        int: "a whole number",
        float: "a float",
        Decimal: "a decimal number",
        date: "a date",
        dict: "an object",
        list: "a list",
        tuple: "a tuple",
        FileRef: "a file reference",
    }
    return names.get(kind, f"a value of type {kind.__name__!r}")


def _refusal(name: str, expected: VarType, value: object) -> VariableTypeError:
    return VariableTypeError(name, expected.describe(), describe_value(value), _short(value))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: object) -> bool:
    kind = type(value)
    return kind is int or (kind is Decimal and value.is_finite())  # type: ignore[attr-defined]


def _is_json(value: object, depth: int = 0) -> bool:
    kind = type(value)
    if depth > 100:
        return False
    if kind is dict:
        return all(
            type(k) is str and (type(v) in _JSON_SCALARS or _is_json(v, depth + 1))
            for k, v in value.items()  # type: ignore[attr-defined]
        )
    if kind is list:
        return all(type(v) in _JSON_SCALARS or _is_json(v, depth + 1) for v in value)  # type: ignore[attr-defined]
    return False


_JSON_SCALARS: Final = frozenset({str, int, float, Decimal, bool, type(None)})

_ACCEPTS: Final[dict[str, Callable[[Any], bool]]] = {
    "string": lambda v: type(v) is str,
    "number": _is_number,
    "boolean": lambda v: type(v) is bool,
    "date": lambda v: type(v) is date,
    "date-time": lambda v: type(v) is datetime and v.tzinfo is not None,
    "json": _is_json,
    "file": lambda v: type(v) is FileRef,
}
_SINGULAR: Final = {
    "string": "text",
    "number": "a number (int or Decimal)",
    "boolean": "a boolean",
    "date": "a date",
    "date-time": "a date-time with a time zone",
    "json": "a JSON object or list",
    "file": "a file reference (liucheng.FileRef)",
}
_PLURAL: Final = {
    "string": "texts",
    "number": "numbers (int or Decimal)",
    "boolean": "booleans",
    "date": "dates",
    "date-time": "date-times with a time zone",
    "json": "JSON objects or lists",
    "file": "file references (liucheng.FileRef)",
}


def _parse(name: str, text: str, tz: tzinfo) -> Any:
    """A single value of type ``name`` from its text form."""
    raw = text.strip()
    if name == "string":
        return text
    if name == "number":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{raw!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{raw!r} is not a finite number")
        plain = raw.lstrip("+-")
        return int(number) if plain.isdigit() else number
    if name == "boolean":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError(f"{raw!r} is not true or false")
    if name == "date":
        return date.fromisoformat(raw)
    if name == "date-time":
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if name == "json":
        value = json.loads(raw, parse_float=Decimal)
        if type(value) not in (dict, list):
            raise ValueError("a JSON default must be an object or a list")
        return value
    raise ValueError("a file reference cannot have a default in the model")
