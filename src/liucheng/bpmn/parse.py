"""BPMN 2.0 XML → model (``liucheng.bpmn.model``).

``parse_bpmn`` reads a whole file: the hardened XML layer (``xml_safety``) first, then the BPMN
structure.  The parser is deliberately *lossless* rather than *strict*: whatever the model has no
field for is kept verbatim (attributes by Clark name in ``attrs``, extension elements and other
children as XML text) so that ``write_bpmn`` gives back an equivalent file.  Whether the model can
*run* is a separate question answered by ``validate``; the parser refuses only what cannot be read:

* hostile or malformed XML, a root that is not ``bpmn:definitions``;
* an unknown element in the BPMN namespace inside a process or a flow node (a misspelled
  ``<bpmn:usrTask>`` would otherwise vanish silently and the process would behave differently);
* a flow node or sequence flow without an id.

Other notes:

* ``incoming`` / ``outgoing`` are read as written; when a node lists none in one direction (usual
  in hand-written files), that direction is derived from the sequence flows of its scope.
  Validation then reports any list that disagrees with the flows.
* Duplicate ids cannot be represented in the model's dicts; the first element is kept and the
  duplicate recorded in ``Definitions.parse_issues`` for ``validate`` to report with both lines.
* Vendor extensions are normalised by ``extensions`` (precedence documented there).
* Data objects are kept verbatim and read into ``Scope.data_objects`` (``data``).
* Text is kept as written, except that condition and timer expressions, ``incoming`` /
  ``outgoing`` / ``flowNodeRef`` references are stripped of surrounding white space.
* The first text-only ``documentation`` of an element is modelled (text and attributes); one
  holding markup, and any further one, stays verbatim.  Root elements the model keeps verbatim
  are listed in schema order (imports first, relationships last), as the writer writes them.
* ``tools/miwg.py`` checks all this on the BPMN MIWG models and some thirty tools' exports of
  them (docs/miwg.md).
"""

from __future__ import annotations

import os
from typing import Final

from lxml import etree

from liucheng.bpmn import extensions
from liucheng.bpmn.data import read_data_object
from liucheng.bpmn.di import DIAGRAM_TAG, parse_diagram
from liucheng.bpmn.model import (
    ACTIVITI_NS,
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    DC_NS,
    DI_NS,
    FLOW_NODE_TAGS,
    FLOWABLE_NS,
    XSI_NS,
    ZEEBE_NS,
    Collaboration,
    Definitions,
    ErrorDef,
    EscalationDef,
    EventDefinition,
    Expression,
    FlowNode,
    Lane,
    LoopCharacteristics,
    Message,
    MessageFlow,
    Participant,
    Process,
    Scope,
    SequenceFlow,
    SignalDef,
)
from liucheng.bpmn.xml_safety import DEFAULT_MAX_BYTES, element_to_string, parse_xml
from liucheng.errors import BpmnParseError, ValidationIssue

_B: Final = f"{{{BPMN_NS}}}"
_XSI_TYPE: Final = f"{{{XSI_NS}}}type"

#: Flow nodes that contain a body of their own.
SUBPROCESS_TAGS: Final = frozenset({"subProcess", "transaction", "adHocSubProcess"})

#: ``xxxEventDefinition`` local name → ``EventDefinition.kind``.
EVENT_DEFINITION_KINDS: Final = {
    f"{kind}EventDefinition": kind
    for kind in (
        "timer",
        "message",
        "error",
        "escalation",
        "signal",
        "terminate",
        "conditional",
        "compensate",
        "cancel",
        "link",
    )
}
#: Which attribute holds ``EventDefinition.ref`` for each kind.
EVENT_REF_ATTR: Final = {
    "message": "messageRef",
    "error": "errorRef",
    "escalation": "escalationRef",
    "signal": "signalRef",
}
TIMER_TYPES: Final = ("timeDate", "timeDuration", "timeCycle")

#: Children of ``definitions`` that the schema puts before the root elements.
ROOT_HEAD_TAGS: Final = frozenset({"import", "extension", "documentation", "extensionElements"})

#: BPMN elements inside a process/subprocess kept verbatim in ``Scope.artifacts_xml``.
SCOPE_VERBATIM_TAGS: Final = frozenset(
    {
        "textAnnotation",
        "association",
        "group",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        # process-level children without execution semantics in this release
        "auditing",
        "monitoring",
        "property",
        "ioSpecification",
        "ioBinding",
        "supportedInterfaceRef",
        "resourceRole",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "correlationSubscription",
        "supports",
        "laneSet",  # a second laneSet (the first one is modelled)
        "documentation",  # a second documentation element
    }
)
#: BPMN children of a flow node kept verbatim in ``FlowNode.other_xml``.
NODE_VERBATIM_TAGS: Final = frozenset(
    {
        "auditing",
        "monitoring",
        "categoryValueRef",
        "ioSpecification",
        "property",
        "dataInputAssociation",
        "dataOutputAssociation",
        "resourceRole",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "rendering",
        "laneSet",
        "completionCondition",
        "dataInput",
        "dataOutput",
        "inputSet",
        "outputSet",
        "eventDefinitionRef",
        "activationCondition",
        "documentation",  # a second documentation element
    }
)
LOOP_KINDS: Final = {
    "standardLoopCharacteristics": "standard",
    "multiInstanceLoopCharacteristics": "multiInstance",
}

# Attributes with a field of their own on FlowNode (everything else goes to ``attrs``).
_NODE_FIELDS: Final = frozenset(
    {
        "id",
        "name",
        "default",
        "attachedToRef",
        "cancelActivity",
        "triggeredByEvent",
        "isInterrupting",
        "scriptFormat",
        "messageRef",
        "implementation",
    }
)
# Namespaces whose elements carry XML ids that must be unique in a file (vendor elements such as
# camunda:formField have "id" attributes with a different meaning).
_ID_NAMESPACES: Final = (BPMN_NS, BPMNDI_NS, DC_NS, DI_NS)


def parse_bpmn(
    data: bytes | str, *, source: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Definitions:
    """Parse BPMN 2.0 XML text (``bytes`` or ``str``); ``source`` names the file in messages."""
    root = parse_xml(data, source=source, max_bytes=max_bytes)
    return _Parser(source).definitions(root)


def parse_bpmn_file(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Definitions:
    """Parse a BPMN file; its size is checked before it is read."""
    name = os.fspath(path)
    size = os.path.getsize(name)
    if size > max_bytes:
        raise BpmnParseError(
            f"file is too large ({size} bytes; the limit is {max_bytes} bytes)", source=name
        )
    with open(name, "rb") as f:
        data = f.read(max_bytes + 1)
    return parse_bpmn(data, source=name, max_bytes=max_bytes)


def _line(el: etree._Element) -> int | None:
    """The element's line in the file (lxml-stubs type it loosely)."""
    line = el.sourceline
    return line if isinstance(line, int) else None


def _local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]  # (faster than etree.QName on large files)


def _is_bpmn(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(_B)


def _elements(el: etree._Element) -> list[etree._Element]:
    """Child elements, skipping comments and processing instructions."""
    return [c for c in el if isinstance(c.tag, str)]


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def _split(
    el: etree._Element, modelled: frozenset[str] | tuple[str, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """Split attributes into (modelled by name, the rest by Clark name)."""
    known: dict[str, str] = {}
    rest: dict[str, str] = {}
    for key, value in el.attrib.items():
        k, v = str(key), str(value)
        if k in modelled:
            known[k] = v
        else:
            rest[k] = v
    return known, rest


def _expression(el: etree._Element) -> Expression:
    # xsi:type is kept only when it is not the usual tFormalExpression (e.g. tExpression).
    formal = (el.get(_XSI_TYPE) or "tFormalExpression").endswith("tFormalExpression")
    _, rest = _split(el, ("language", _XSI_TYPE) if formal else ("language",))
    return Expression(text=(el.text or "").strip(), language=el.get("language"), attrs=rest)


def _verbatim(elements: list[etree._Element]) -> list[str]:
    return [element_to_string(e) for e in elements]


def _root_rank(local: str) -> int:
    """0 for the heading children of ``definitions``, 2 for relationships, 1 for the rest."""
    return 0 if local in ROOT_HEAD_TAGS else 2 if local == "relationship" else 1


def _first(pair: tuple[int, str]) -> int:
    return pair[0]


def _plain(el: etree._Element) -> bool:
    """Text only (a ``documentation`` holding elements is kept verbatim instead)."""
    return not _elements(el)


class _Parser:
    """One parse of one file; holds the file name and the messages for correlation keys."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.message_ext: dict[str, list[etree._Element]] = {}
        self.issues: list[ValidationIssue] = []
        self.root_ranks: list[int] = []  # of each of ``other_roots_xml``: see _root_rank
        self.listed_flows = (False, False)  # did the last node list incoming / outgoing flows?

    def error(self, message: str, el: etree._Element, element: str | None = None) -> BpmnParseError:
        return BpmnParseError(message, source=self.source, line=_line(el), element=element)

    # -- definitions ------------------------------------------------------------------------

    def definitions(self, root: etree._Element) -> Definitions:
        if root.tag != f"{_B}definitions":
            qname = etree.QName(root)
            where = f" in namespace '{qname.namespace}'" if qname.namespace else ""
            raise BpmnParseError(
                f"not a BPMN 2.0 file: the root element is '{qname.localname}'{where}, "
                f"expected 'definitions' in namespace '{BPMN_NS}'",
                source=self.source,
                line=_line(root),
            )
        known, rest = _split(
            root, ("id", "targetNamespace", "expressionLanguage", "exporter", "exporterVersion")
        )
        defs = Definitions(
            id=known.get("id"),
            target_namespace=known.get("targetNamespace"),
            expression_language=known.get("expressionLanguage"),
            exporter=known.get("exporter"),
            exporter_version=known.get("exporterVersion"),
            namespaces={(p or ""): str(uri) for p, uri in root.nsmap.items()},
            attrs=rest,
            source=self.source,
        )
        children = _elements(root)
        for el in children:  # messages first: nodes take Zeebe correlation keys from them
            if el.tag == f"{_B}message":
                ext = el.find(f"{_B}extensionElements")
                self.message_ext[el.get("id", "")] = _elements(ext) if ext is not None else []
        for el in children:
            self.root_element(defs, el)
        # In the order the schema (and the writer) puts them: imports and other heading elements
        # first, relationships last, whatever order a tool wrote them in.
        ranked = sorted(zip(self.root_ranks, defs.other_roots_xml, strict=True), key=_first)
        defs.other_roots_xml = [text for _, text in ranked]
        self.check_unique_ids(root)
        defs.parse_issues = self.issues
        return defs

    def root_element(self, defs: Definitions, el: etree._Element) -> None:
        tag = el.tag
        if tag == f"{_B}process":
            process = self.process(el)
            if process.id in defs.processes:
                return  # reported by check_unique_ids
            defs.processes[process.id] = process
        elif tag == f"{_B}collaboration":
            defs.collaborations.append(self.collaboration(el))
        elif tag == f"{_B}message":
            known, rest = _split(el, ("id", "name"))
            ext = el.find(f"{_B}extensionElements")
            defs.messages.setdefault(
                known.get("id", ""),
                Message(
                    id=known.get("id", ""),
                    name=known.get("name"),
                    attrs=rest,
                    extension_xml=_verbatim(_elements(ext)) if ext is not None else [],
                    other_xml=_verbatim([c for c in _elements(el) if c is not ext]),
                ),
            )
        elif tag == f"{_B}error":
            known, rest = _split(el, ("id", "name", "errorCode"))
            defs.errors.setdefault(
                known.get("id", ""),
                ErrorDef(known.get("id", ""), known.get("name"), known.get("errorCode"), rest),
            )
        elif tag == f"{_B}escalation":
            known, rest = _split(el, ("id", "name", "escalationCode"))
            defs.escalations.setdefault(
                known.get("id", ""),
                EscalationDef(
                    known.get("id", ""), known.get("name"), known.get("escalationCode"), rest
                ),
            )
        elif tag == f"{_B}signal":
            known, rest = _split(el, ("id", "name"))
            defs.signals.setdefault(
                known.get("id", ""), SignalDef(known.get("id", ""), known.get("name"), rest)
            )
        elif tag == DIAGRAM_TAG:
            defs.diagrams.append(parse_diagram(el))
        else:  # itemDefinition, dataStore, interface, import, category, foreign elements...
            defs.other_roots_xml.append(element_to_string(el))
            self.root_ranks.append(_root_rank(_local(el)))

    def check_unique_ids(self, root: etree._Element) -> None:
        """Record every id used twice in the BPMN/DI namespaces (with both lines).

        Extension content is left out: its ids mean what the vendor says, and some tools write
        their extension elements without a namespace of their own, i.e. in BPMN's.
        """
        seen: dict[str, etree._Element] = {}
        extension: set[etree._Element] = set()
        for ext in root.iter(f"{_B}extensionElements"):
            extension.update(ext.iter(*(f"{{{ns}}}*" for ns in _ID_NAMESPACES)))
        for el in root.iter(*(f"{{{ns}}}*" for ns in _ID_NAMESPACES)):
            ident = el.get("id")
            if ident is None or el in extension:
                continue
            first = seen.setdefault(ident, el)
            if first is not el:
                self.issues.append(
                    ValidationIssue(
                        f"id '{ident}' is used twice: by '{_local(first)}' on line "
                        f"{_line(first)} and by '{_local(el)}' on line {_line(el)}",
                        element=ident,
                        line=_line(el),
                        source=self.source,
                    )
                )

    # -- processes and scopes ---------------------------------------------------------------

    def process(self, el: etree._Element) -> Process:
        known, rest = _split(el, ("id", "name", "isExecutable"))
        process = Process(
            id=known.get("id", ""),
            name=known.get("name"),
            is_executable=_bool(known.get("isExecutable"), True),
            declares_executable="isExecutable" in known,
            attrs=rest,
            line=_line(el),
        )
        if not process.id:
            raise self.error("process has no id", el)
        ext_elements: list[etree._Element] = []
        scope_children: list[etree._Element] = []
        seen_lane_set = False
        for child in _elements(el):
            local = _local(child) if _is_bpmn(child) else None
            if local == "documentation" and process.documentation is None and _plain(child):
                process.documentation = child.text or ""
                process.documentation_attrs = _split(child, ())[1]
            elif local == "extensionElements":
                ext_elements.extend(_elements(child))
            elif local == "laneSet" and not seen_lane_set:
                seen_lane_set = True
                process.lane_set_id = child.get("id")
                process.lane_set_attrs = _split(child, ("id",))[1]
                process.lanes = [self.lane(c) for c in child if c.tag == f"{_B}lane"]
                process.lane_set_xml = _verbatim(
                    [c for c in _elements(child) if c.tag != f"{_B}lane"]
                )
            else:
                scope_children.append(child)
        process.extension_xml = [element_to_string(e) for e in ext_elements]
        process.properties = extensions.process_properties(rest, ext_elements)
        process.body = self.scope(scope_children, owner=process.id)
        return process

    def lane(self, el: etree._Element) -> Lane:
        known, rest = _split(el, ("id", "name"))
        lane = Lane(id=known.get("id", ""), name=known.get("name"), attrs=rest, line=_line(el))
        for child in _elements(el):
            if child.tag == f"{_B}flowNodeRef":
                lane.flow_node_refs.append((child.text or "").strip())
            elif child.tag == f"{_B}childLaneSet" and lane.child_lane_set_attrs is None:
                lane.child_lane_set_attrs = _split(child, ())[1]
                lane.child_lanes.extend(self.lane(c) for c in child if c.tag == f"{_B}lane")
            else:  # documentation, extensionElements, partitionElement...
                lane.other_xml.append(element_to_string(child))
        return lane

    def scope(self, children: list[etree._Element], owner: str) -> Scope:
        """Read the flow elements and artifacts of a process or subprocess body."""
        scope = Scope()
        listed: dict[str, tuple[bool, bool]] = {}  # node id -> (listed incoming, listed outgoing)
        for el in children:
            if not _is_bpmn(el):  # a foreign element where BPMN allows none: keep it
                scope.artifacts_xml.append(element_to_string(el))
                continue
            local = _local(el)
            if local in FLOW_NODE_TAGS:
                node = self.node(el, local)
                if node.id in scope.nodes:
                    continue  # reported by check_unique_ids
                scope.nodes[node.id] = node
                listed[node.id] = self.listed_flows
            elif local == "sequenceFlow":
                flow = self.flow(el)
                scope.flows.setdefault(flow.id, flow)
            elif local in SCOPE_VERBATIM_TAGS:
                scope.artifacts_xml.append(element_to_string(el))
                if local == "dataObject":  # also modelled: see bpmn/data.py
                    obj = read_data_object(el)
                    scope.data_objects.setdefault(obj.id, obj)
            else:
                raise self.error(f"unknown BPMN element '{local}'", el, element=owner)
        # Hand-written files often omit incoming/outgoing: derive them from the flows.
        if not all(has_in and has_out for has_in, has_out in listed.values()):
            into: dict[str, list[str]] = {}
            out_of: dict[str, list[str]] = {}
            for f in scope.flows.values():
                into.setdefault(f.target, []).append(f.id)
                out_of.setdefault(f.source, []).append(f.id)
            for node_id, (has_in, has_out) in listed.items():
                node = scope.nodes[node_id]
                if not has_in:
                    node.incoming = into.get(node_id, [])
                if not has_out:
                    node.outgoing = out_of.get(node_id, [])
        return scope

    # -- flow nodes -------------------------------------------------------------------------

    def node(self, el: etree._Element, tag: str) -> FlowNode:
        known, rest = _split(el, _NODE_FIELDS)
        node_id = known.get("id")
        if not node_id:
            raise self.error(f"'{tag}' has no id", el)
        node = FlowNode(
            id=node_id,
            tag=tag,
            name=known.get("name"),
            default=known.get("default"),
            attached_to=known.get("attachedToRef"),
            cancel_activity=_bool(known.get("cancelActivity"), True),
            triggered_by_event=_bool(known.get("triggeredByEvent"), False),
            is_interrupting=_bool(known.get("isInterrupting"), True),
            script_format=known.get("scriptFormat"),
            message_ref=known.get("messageRef"),
            implementation=known.get("implementation"),
            attrs=rest,
            line=_line(el),
        )
        ext_elements: list[etree._Element] = []
        body: list[etree._Element] = []
        has_in = has_out = False
        for child in el:
            tag_name = child.tag
            if not isinstance(tag_name, str):
                continue  # comment or processing instruction
            if not tag_name.startswith(_B):  # foreign child element: keep it where it was
                node.other_xml.append(element_to_string(child))
                continue
            local = tag_name[len(_B) :]
            if local == "incoming":
                node.incoming.append((child.text or "").strip())
                has_in = True
            elif local == "outgoing":
                node.outgoing.append((child.text or "").strip())
                has_out = True
            elif local == "documentation" and node.documentation is None and _plain(child):
                node.documentation = child.text or ""
                node.documentation_attrs = _split(child, ())[1]
            elif local == "extensionElements":
                ext_elements.extend(_elements(child))
            elif local in EVENT_DEFINITION_KINDS:
                node.event_definitions.append(self.event_definition(child, local))
            elif local in LOOP_KINDS:
                node.loop = self.loop(child, LOOP_KINDS[local], node_id)
            elif local == "script" and tag == "scriptTask":
                node.script = child.text or ""
            elif local in NODE_VERBATIM_TAGS:
                node.other_xml.append(element_to_string(child))
            elif tag in SUBPROCESS_TAGS and (
                local in FLOW_NODE_TAGS or local == "sequenceFlow" or local in SCOPE_VERBATIM_TAGS
            ):
                body.append(child)
            else:
                raise self.error(f"unknown BPMN element '{local}'", child, element=node_id)
        if tag in SUBPROCESS_TAGS:
            node.body = self.scope(body, owner=node_id)
        self.listed_flows = (has_in, has_out)  # read by scope(), after the body's own nodes
        node.extension_xml = [element_to_string(e) for e in ext_elements]
        message = node.message_ref or next(
            (d.ref for d in node.event_definitions if d.kind == "message" and d.ref), None
        )
        if rest or ext_elements or message:  # (skip the readers for plain BPMN elements)
            node.properties, node.inputs, node.outputs = extensions.node_properties(
                rest, ext_elements, self.message_ext.get(message) if message else None
            )
        return node

    def loop(self, el: etree._Element, kind: str, node_id: str | None) -> LoopCharacteristics:
        """Read loop characteristics, in the standard's form and the vendors' (see the model)."""
        loop = LoopCharacteristics(
            kind=kind,
            xml=element_to_string(el),
            is_sequential=_bool(el.get("isSequential"), False),
            test_before=_bool(el.get("testBefore"), False),
        )
        maximum = el.get("loopMaximum")
        if maximum is not None and maximum.strip():  # (some modelers write an empty one)
            try:
                loop.loop_maximum = int(maximum.strip())
            except ValueError:
                raise self.error(
                    f"loopMaximum must be a whole number, not {maximum!r}", el, node_id
                ) from None
        for ns in (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS):
            loop.collection = loop.collection or el.get(f"{{{ns}}}collection")
            loop.element_variable = loop.element_variable or el.get(f"{{{ns}}}elementVariable")
        for child in _elements(el):
            local = _local(child)
            if local == "loopCardinality":
                loop.cardinality = _expression(child)
            elif local == "completionCondition":
                loop.completion_condition = _expression(child)
            elif local == "loopCondition":
                loop.loop_condition = _expression(child)
            elif local == "loopDataInputRef":
                loop.collection = loop.collection or (child.text or "").strip() or None
            elif local == "loopDataOutputRef":
                loop.output_collection = (child.text or "").strip() or None
            elif local in ("inputDataItem", "outputDataItem"):
                name = child.get("name") or child.get("id")
                if local == "inputDataItem":
                    loop.element_variable = loop.element_variable or name
                elif name:
                    loop.output_element = name
            elif local == "extensionElements":
                for ext in _elements(child):
                    if ext.tag == f"{{{ZEEBE_NS}}}loopCharacteristics":
                        loop.zeebe = True
                        loop.collection = ext.get("inputCollection") or loop.collection
                        loop.element_variable = ext.get("inputElement") or loop.element_variable
                        loop.output_collection = ext.get("outputCollection")
                        loop.output_element = ext.get("outputElement")
        return loop

    def event_definition(self, el: etree._Element, local: str) -> EventDefinition:
        kind = EVENT_DEFINITION_KINDS[local]
        ref_attr = EVENT_REF_ATTR.get(kind)
        modelled = ("id", ref_attr) if ref_attr else ("id", "name") if kind == "link" else ("id",)
        known, rest = _split(el, modelled)
        definition = EventDefinition(
            kind=kind,
            id=known.get("id"),
            ref=known.get(ref_attr) if ref_attr else None,
            link_name=known.get("name") if kind == "link" else None,
            attrs=rest,
        )
        for child in _elements(el):
            child_local = _local(child) if _is_bpmn(child) else None
            if child_local in TIMER_TYPES and kind == "timer":
                definition.timer_type = child_local
                definition.timer = _expression(child)
            elif child_local == "condition" and kind == "conditional":
                definition.condition = _expression(child)
            elif child_local == "extensionElements":
                definition.extension_xml.extend(element_to_string(e) for e in _elements(child))
            else:  # documentation, link source/target...
                definition.other_xml.append(element_to_string(child))
        return definition

    def flow(self, el: etree._Element) -> SequenceFlow:
        known, rest = _split(el, ("id", "name", "sourceRef", "targetRef"))
        flow_id = known.get("id")
        if not flow_id:
            raise self.error("'sequenceFlow' has no id", el)
        flow = SequenceFlow(
            id=flow_id,
            source=known.get("sourceRef", ""),
            target=known.get("targetRef", ""),
            name=known.get("name"),
            attrs=rest,
            line=_line(el),
        )
        for child in _elements(el):
            local = _local(child) if _is_bpmn(child) else None
            if local == "conditionExpression" and flow.condition is None:
                flow.condition = _expression(child)
            elif local == "documentation" and flow.documentation is None and _plain(child):
                flow.documentation = child.text or ""
                flow.documentation_attrs = _split(child, ())[1]
            elif local == "extensionElements":
                flow.extension_xml.extend(element_to_string(e) for e in _elements(child))
            else:  # categoryValueRef, a second documentation, foreign elements...
                flow.other_xml.append(element_to_string(child))
        return flow

    # -- collaborations ---------------------------------------------------------------------

    def collaboration(self, el: etree._Element) -> Collaboration:
        known, rest = _split(el, ("id", "name"))
        collab = Collaboration(id=known.get("id", ""), name=known.get("name"), attrs=rest)
        for child in _elements(el):
            if child.tag == f"{_B}participant":
                k, r = _split(child, ("id", "name", "processRef"))
                collab.participants.append(
                    Participant(
                        k.get("id", ""),
                        k.get("name"),
                        k.get("processRef"),
                        r,
                        other_xml=_verbatim(_elements(child)),
                    )
                )
            elif child.tag == f"{_B}messageFlow":
                k, r = _split(child, ("id", "name", "sourceRef", "targetRef", "messageRef"))
                collab.message_flows.append(
                    MessageFlow(
                        id=k.get("id", ""),
                        source=k.get("sourceRef", ""),
                        target=k.get("targetRef", ""),
                        name=k.get("name"),
                        message_ref=k.get("messageRef"),
                        attrs=r,
                        other_xml=_verbatim(_elements(child)),
                    )
                )
            else:
                collab.other_xml.append(element_to_string(child))
        return collab
