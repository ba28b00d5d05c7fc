"""Small helpers for walking DMN XML: namespaces, element names, text, and the check that an
element holds nothing the reader does not understand.

DMN 1.1 to 1.5 differ in their namespace but, for what we execute, hardly in their elements, so
the reader works on local names inside the one DMN namespace the root declares.  Elements in other
namespaces (DMNDI diagrams, vendor extensions such as Trisotech's or Camunda's) carry no decision
logic and are passed over; the few vendor attributes we honour are read explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from .errors import DmnParseError, Where

#: DMN model namespaces by version (1.3 onwards are written with https; http is accepted too).
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "http://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "http://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
    "http://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"

#: Children every DMN element may have that carry no logic.
DOCUMENTATION = frozenset({"description", "extensionElements"})


def local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


def namespace(el: etree._Element) -> str:
    tag = str(el.tag)
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def elements(el: etree._Element) -> list[etree._Element]:
    """Child elements, without comments and processing instructions."""
    return [c for c in el if isinstance(c.tag, str)]


class Reader:
    """Knows the file's DMN namespace and name; every parse step asks it about elements."""

    def __init__(self, ns: str, source: str | None, model_namespace: str | None = None) -> None:
        self.ns = ns
        self.source = source
        self.model_namespace = (model_namespace or "").strip()

    def is_dmn(self, el: etree._Element) -> bool:
        return isinstance(el.tag, str) and namespace(el) == self.ns

    def children(self, el: etree._Element, name: str | None = None) -> list[etree._Element]:
        """DMN child elements, all or those with local name ``name``."""
        return [c for c in elements(el) if self.is_dmn(c) and (name is None or local(c) == name)]

    def child(self, el: etree._Element, name: str) -> etree._Element | None:
        found = self.children(el, name)
        return found[0] if found else None

    def text(self, el: etree._Element | None) -> str | None:
        """The content of ``el``'s ``<text>`` child, or None when there is none."""
        if el is None:
            return None
        t = self.child(el, "text")
        if t is None:
            return None
        return t.text or ""

    def check_children(
        self, el: etree._Element, allowed: Iterable[str], where: Where, what: str
    ) -> None:
        """Refuse a DMN child element the reader would otherwise silently ignore."""
        known = DOCUMENTATION.union(allowed)
        for c in self.children(el):
            name = local(c)
            if name not in known:
                raise DmnParseError(f"unexpected element <{name}> in {what}", where.at(None, c))

    def ref_id(self, href: str | None, where: Where) -> str:
        """The id an ``href`` points at: ``#id``, or ``<this model's namespace>#id``."""
        if not href:
            raise DmnParseError("reference without href", where)
        base, sep, frag = href.strip().partition("#")
        local_ref = not base or (bool(self.model_namespace) and base == self.model_namespace)
        if not sep or not frag or not local_ref:
            raise DmnParseError(
                f"reference {href!r} points outside this file; imports are not supported", where
            )
        return frag
