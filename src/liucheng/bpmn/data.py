"""Data objects, item definitions and Liucheng's variable declarations: XML ↔ model.

Data objects are read into ``Scope.data_objects`` and *also* kept verbatim in
``Scope.artifacts_xml``, the way vendor properties are kept twice on a flow node: the verbatim
element keeps everything a tool wrote (its documentation, foreign attributes, namespace
declarations a prefixed ``itemSubjectRef`` needs), and the modelled one is what Python code reads
and edits.  The writer asks :func:`artifacts_to_write` for the elements to put back: a data
object whose modelled form still says what its verbatim element says is written verbatim; one
changed from Python is written from its element with the changed attributes and default put in;
one added from Python is written new; one deleted from ``data_objects`` is left out.

Item definitions and ``<liucheng:variables>`` declarations are read on demand from the verbatim
XML (:func:`item_definitions`, :func:`variable_declarations`); to change them, change the XML.

The default of a data object is the text of ``<flowable:value>`` / ``<activiti:value>`` (as
Flowable and Activiti write it) or ``<liucheng:value>`` in its extension elements; a new default
set from Python is written as ``<liucheng:value>`` (or into the vendor element already there).
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from liucheng.bpmn.model import (
    ACTIVITI_NS,
    BPMN_NS,
    FLOWABLE_NS,
    LIUCHENG_NS,
    DataObject,
    Definitions,
    ItemDefinition,
    Process,
    Scope,
    VariableDeclaration,
)
from liucheng.bpmn.xml_safety import element_to_string, string_to_element

_B: Final = f"{{{BPMN_NS}}}"
_EXT: Final = f"{_B}extensionElements"
DATA_OBJECT_TAG: Final = f"{_B}dataObject"
#: Elements holding a data object's default, by precedence when several are present.
VALUE_TAGS: Final = tuple(f"{{{ns}}}value" for ns in (LIUCHENG_NS, FLOWABLE_NS, ACTIVITI_NS))
_VARIABLES: Final = f"{{{LIUCHENG_NS}}}variables"
_VARIABLE: Final = f"{{{LIUCHENG_NS}}}variable"


def read_data_object(el: etree._Element) -> DataObject:
    """The modelled form of a ``dataObject`` element."""
    line = el.sourceline
    return DataObject(
        id=el.get("id", ""),
        name=el.get("name"),
        item_subject_ref=el.get("itemSubjectRef"),
        is_collection=(el.get("isCollection") or "").strip().lower() == "true",
        value=_value_of(el),
        line=line if isinstance(line, int) else None,
    )


def _value_of(el: etree._Element) -> str | None:
    found: dict[str, str] = {}
    for ext in el.iterchildren(_EXT):
        for child in ext.iterchildren(*VALUE_TAGS):
            found.setdefault(str(child.tag), child.text or "")
    return next((found[tag] for tag in VALUE_TAGS if tag in found), None)


def _data_object_of(text: str) -> tuple[etree._Element, DataObject] | None:
    """``(element, model)`` when ``text`` is a data object, else None (a cheap test first)."""
    if "dataObject" not in text[:200]:
        return None
    el = string_to_element(text)
    if el.tag != DATA_OBJECT_TAG:
        return None
    return el, read_data_object(el)


def artifacts_to_write(scope: Scope) -> list[str]:
    """``scope.artifacts_xml`` with the data objects as ``scope.data_objects`` now says them."""
    texts: list[str] = []
    seen: set[str] = set()
    for text in scope.artifacts_xml:
        found = _data_object_of(text)
        if found is None:
            texts.append(text)
            continue
        el, stored = found
        current = scope.data_objects.get(stored.id)
        if current is None or stored.id in seen:
            continue  # deleted from Python (or a duplicate id, which validation reports)
        seen.add(stored.id)
        texts.append(text if current == stored else write_data_object(current, el))
    for obj in scope.data_objects.values():
        if obj.id not in seen:
            texts.append(write_data_object(obj, None))
    return texts


def write_data_object(obj: DataObject, el: etree._Element | None) -> str:
    """XML text for ``obj``, made from its verbatim element ``el`` when it has one (so that
    documentation and foreign content stay) or new."""
    if el is None:
        el = etree.Element(DATA_OBJECT_TAG, nsmap={"bpmn": BPMN_NS})
    for attr, value in (
        ("id", obj.id),
        ("name", obj.name),
        ("itemSubjectRef", obj.item_subject_ref),
        ("isCollection", "true" if obj.is_collection else None),
    ):
        if value is not None:
            el.set(attr, value)
        elif attr in el.attrib:
            del el.attrib[attr]
    _set_value(el, obj.value)
    return element_to_string(el)


def _set_value(el: etree._Element, value: str | None) -> None:
    holders = [c for ext in el.iterchildren(_EXT) for c in ext.iterchildren(*VALUE_TAGS)]
    if value is None:
        for child in holders:
            ext = child.getparent()
            assert ext is not None
            ext.remove(child)
            if not len(ext):
                el.remove(ext)
        return
    if holders:
        first = min(holders, key=lambda c: VALUE_TAGS.index(str(c.tag)))
        first.text = value
        for child in holders:  # one default only: the others would disagree with it
            if child is not first:
                parent = child.getparent()
                assert parent is not None
                parent.remove(child)
        return
    ext = el.find(_EXT)
    if ext is None:
        ext = etree.Element(_EXT)
        docs = list(el.iterchildren(f"{_B}documentation"))
        (docs[-1].addnext(ext) if docs else el.insert(0, ext))
    holder = etree.SubElement(ext, VALUE_TAGS[0], nsmap={"liucheng": LIUCHENG_NS})
    holder.text = value


def item_definitions(defs: Definitions) -> dict[str, ItemDefinition]:
    """The file's ``itemDefinition`` roots, by id."""
    found: dict[str, ItemDefinition] = {}
    for text in defs.other_roots_xml:
        if "itemDefinition" not in text[:200]:
            continue
        el = string_to_element(text)
        if el.tag != f"{_B}itemDefinition":
            continue
        ident = el.get("id", "")
        found.setdefault(
            ident,
            ItemDefinition(
                ident,
                el.get("structureRef"),
                (el.get("isCollection") or "").strip().lower() == "true",
            ),
        )
    return found


def variable_declarations(process: Process) -> list[VariableDeclaration]:
    """The ``<liucheng:variable>`` entries of the process's ``<liucheng:variables>``.

    An entry without a name or a type is returned with "" in its place, for the engine to
    refuse by name (engine/data.py).
    """
    found: list[VariableDeclaration] = []
    for text in process.extension_xml:
        if "variables" not in text[:300]:
            continue
        el = string_to_element(text)
        if el.tag != _VARIABLES:
            continue
        for child in el.iterchildren(_VARIABLE):
            found.append(
                VariableDeclaration(
                    child.get("name", "").strip(),
                    child.get("type", "").strip(),
                    (child.get("collection") or "").strip().lower() == "true",
                )
            )
    return found
