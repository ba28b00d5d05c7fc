"""Type references (``typeRef``) and item definitions.

What is enforced, and why so little: a ``typeRef`` must name a FEEL built-in type, a Camunda
type (``integer``, ``long``, ``double``) or an ``itemDefinition`` of the file — a misspelt type
is refused at deployment.  Values are *not* coerced or rejected by their base type: modellers
leave dmn-js's default ``string`` on columns that hold numbers, and refusing a whole decision for
that helps nobody.  What *is* checked at evaluation is the part that carries business meaning:
the allowed values of an item definition (``allowedValues``, DMN 1.5 ``typeConstraint``), for
input data handed in and for decision results, through components and collections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from liucheng.errors import ExpressionError
from liucheng.expr.feel import compile_unary_tests
from liucheng.expr.feel.ops import to_string

from .errors import DmnParseError, Where
from .xml_read import Reader

UnaryTest = Callable[[Any, Mapping[str, Any]], bool]

#: Built-in type names (lower case): FEEL's, their XML Schema spellings, and Camunda 7's.
BUILTIN_TYPES = frozenset(
    {
        "any",
        "null",
        "number",
        "string",
        "boolean",
        "date",
        "time",
        "date and time",
        "datetime",
        "days and time duration",
        "daytimeduration",
        "years and months duration",
        "yearmonthduration",
        "duration",
        "context",
        "list",
        "function",
        "range",
        "integer",
        "long",
        "double",
        "decimal",
        "int",
    }
)
_PREFIXES = ("feel:", "xsd:", "xs:", "FEEL:")


@dataclass(frozen=True, slots=True)
class ItemType:
    """One ``itemDefinition`` (or ``itemComponent``): what the allowed-values check needs."""

    name: str
    base: str | None
    is_collection: bool
    allowed: UnaryTest | None
    allowed_text: str | None
    components: tuple[tuple[str, ItemType], ...]

    def violation(self, value: Any, types: Mapping[str, ItemType], depth: int = 0) -> str | None:
        """Why ``value`` breaks this type's allowed values, or None.  Null always passes."""
        if value is None or depth > 32:
            return None
        if self.is_collection:
            if type(value) is not list:
                return None
            for item in value:
                reason = self._element_violation(item, types, depth)
                if reason:
                    return reason
            return None
        return self._element_violation(value, types, depth)

    def _element_violation(
        self, value: Any, types: Mapping[str, ItemType], depth: int
    ) -> str | None:
        if value is None:
            return None
        if self.allowed is not None and not self.allowed(value, {}):
            return (
                f"value {show(value)} is not one of the allowed values "
                f"({self.allowed_text}) of type '{self.name}'"
            )
        if self.components and type(value) is dict:
            for key, component in self.components:
                reason = component.violation(value.get(key), types, depth + 1)
                if reason:
                    return f"{key}: {reason}"
        if self.base is not None:
            parent = types.get(self.base)
            if parent is not None and parent is not self:
                return parent.violation(value, types, depth + 1)
        return None


def show(value: Any) -> str:
    """A value as FEEL writes it, for messages (``"High"``, ``12.5``, ``null``)."""
    if type(value) is str:
        return '"' + value + '"'
    text = to_string(value)
    return "null" if text is None else text


_SCALARS = BUILTIN_TYPES - {"any", "null", "list", "context", "function", "range"}


def is_single(type_ref: str | None, item: ItemType | None) -> bool:
    """Whether a declared type is a single value, so that a one-item list is unwrapped into
    it (DMN's singleton-list conversion): ``string`` yes, ``Any`` or a collection no."""
    if item is not None:
        return not item.is_collection and (item.base is None or item.components != ())
    return type_ref is not None and _strip(type_ref).lower() in _SCALARS


def is_builtin(type_ref: str) -> bool:
    return _strip(type_ref).lower() in BUILTIN_TYPES


def _strip(type_ref: str) -> str:
    t = type_ref.strip()
    for p in _PREFIXES:
        if t.startswith(p):
            return t[len(p) :]
    return t


class TypeTable:
    """The item definitions of one file, by name, and the check of every ``typeRef``."""

    def __init__(self) -> None:
        self.types: dict[str, ItemType] = {}

    def resolve(self, type_ref: str | None, where: Where) -> ItemType | None:
        """The item definition ``type_ref`` names; None for built-ins and absent typeRefs."""
        if type_ref is None or not type_ref.strip():
            return None
        name = type_ref.strip()
        if name in self.types:
            return self.types[name]
        if is_builtin(name):
            return None
        short = name.rpartition(":")[2] if ":" in name else name
        if short in self.types:
            return self.types[short]
        raise DmnParseError(f"unknown type {name!r} (no such itemDefinition or FEEL type)", where)

    def read(self, reader: Reader, definitions: etree._Element, where: Where) -> None:
        """Read every top-level ``itemDefinition``, then check the type names they use."""
        for el in reader.children(definitions, "itemDefinition"):
            item = self._item(reader, el, where)
            if item.name in self.types:
                raise DmnParseError(
                    f"duplicate itemDefinition {item.name!r}",
                    where.at(f"itemDefinition '{item.name}'", el),
                )
            self.types[item.name] = item
        for el in reader.children(definitions, "itemDefinition"):
            self._check_refs(reader, el, where)

    def _item(self, reader: Reader, el: etree._Element, where: Where) -> ItemType:
        name = str(el.get("name") or "").strip()
        here = where.at(f"itemDefinition '{name or el.get('id') or '?'}'", el)
        if not name:
            raise DmnParseError("itemDefinition without a name", here)
        reader.check_children(
            el,
            ("typeRef", "allowedValues", "typeConstraint", "itemComponent", "functionItem"),
            here,
            "an itemDefinition",
        )
        type_el = reader.child(el, "typeRef")
        base = (type_el.text or "").strip() if type_el is not None else None
        allowed_text: str | None = None
        allowed: UnaryTest | None = None
        for tag in ("allowedValues", "typeConstraint"):
            ae = reader.child(el, tag)
            text = reader.text(ae)
            if text is not None and text.strip() and text.strip() != "-":
                allowed_text = text.strip()
                try:
                    allowed = compile_unary_tests(allowed_text)
                except ExpressionError as exc:
                    raise DmnParseError(str(exc), here.at(tag, ae)) from None
        components = tuple(
            (str(c.get("name") or ""), self._item(reader, c, here))
            for c in reader.children(el, "itemComponent")
        )
        return ItemType(
            name=name,
            base=_strip(base) if base and not is_builtin(base) else None,
            is_collection=(el.get("isCollection") or "false").strip() == "true",
            allowed=allowed,
            allowed_text=allowed_text,
            components=components,
        )

    def _check_refs(self, reader: Reader, el: etree._Element, where: Where) -> None:
        here = where.at(f"itemDefinition '{el.get('name')}'", el)
        type_el = reader.child(el, "typeRef")
        if type_el is not None:
            self.resolve(type_el.text, here)
        for c in reader.children(el, "itemComponent"):
            self._check_refs(reader, c, here)
