"""Model → BPMN 2.0 XML, so that ``parse_bpmn(write_bpmn(parse_bpmn(x))) == parse_bpmn(x)``.

The writer regenerates the file from the model: the namespace prefixes as the file declared them,
elements in the model's order (within a scope: lanes, flow nodes, sequence flows, then artifacts;
children of an element in BPMN schema order), extension elements, artifacts and other verbatim XML
put back unchanged, and the diagram (DI) written back.  Output is indented two spaces per level;
verbatim fragments keep their own inner white space.

**Verbatim means verbatim.**  A fragment is not appended to the lxml tree: lxml would drop each
namespace declaration of the fragment whose URI an ancestor also declares and rename the
fragment's prefixes to the ancestor's (``<X xmlns="urn:v">`` becoming ``<v:X>``), so the text read
back would differ from the text stored, and a prefix used only inside an attribute value could
lose its declaration.  The tree holds a processing instruction in the fragment's place, and the
stored text replaces it once the tree is serialised.  Declarations that merely repeat the root's
(same prefix, same URI) are left out of that text when the fragment reads back exactly the same
without them, which keeps the output as tidy as a modeler's; the DI namespaces, when the root does
not declare them, are declared on each ``BPMNDiagram`` rather than added to the root.

**Normalised properties and their verbatim source.**  A parsed node carries each vendor setting
twice: verbatim (``attrs`` / ``extension_xml``) and normalised (``properties`` / ``inputs`` /
``outputs``).  The writer writes only the verbatim form, then re-reads it with the same readers as
the parser (``extensions``); any normalised value that the verbatim XML does not already say was
set from Python and is written in the Camunda 7 dialect, which has the highest precedence on
reading, so the edit survives:

* ``assignee``, ``candidate_groups``, ``candidate_users``, ``form_key``, ``due_date``,
  ``priority``, ``decision_ref``, ``result_variable``, ``expression``, ``initiator`` → the
  ``camunda:`` attribute of the same name (``camunda:formKey`` ...);
* ``service`` with ``service_type`` "class" → ``camunda:class``, "delegate" →
  ``camunda:delegateExpression``, anything else → ``camunda:type="external"`` + ``camunda:topic``
  (any other verbatim ``camunda:`` service attribute is dropped so it cannot take precedence);
* ``correlation_key`` (no Camunda 7 equivalent) → a ``zeebe:subscription`` extension element;
  ``pre_script`` / ``post_script`` → ``spiffworkflow:preScript`` / ``postScript``;
* ``inputs`` / ``outputs`` differing from the verbatim ones → one ``camunda:inputOutput`` holding
  both lists, replacing the verbatim ``camunda:inputOutput`` / ``zeebe:ioMapping``;
* process ``properties`` (``candidate_starter_groups`` ...) → ``camunda:`` attributes;
* ``Scope.data_objects`` differing from their verbatim elements → those elements with the
  changes put in (see ``bpmn/data.py``; a default set from Python becomes ``liucheng:value``).

Deleting a normalised key in Python does not delete its verbatim source: remove it from ``attrs``
/ ``extension_xml`` as well.

Known normalisations (none changes the meaning; ``tools/miwg.py`` measures them on the MIWG
models and their exports by some thirty modelling tools, see docs/miwg.md):

* an expression's ``xsi:type`` is written as ``tFormalExpression`` unless the model keeps another
  one (``tExpression``) in ``Expression.attrs``;
* attributes with their schema default (``triggeredByEvent="false"``, ``cancelActivity="true"``,
  ``isInterrupting="true"``), empty ``extensionElements`` and an empty ``laneSet`` are left out;
* ``incoming`` / ``outgoing`` that the parser derived from the flows are written out;
* a ``documentation`` holding child elements, or a second one, is verbatim and comes after the
  modelled (text-only) one;
* other roots are written in schema order (imports first); ``xsi:type`` on DI waypoints, and
  comments between generated elements, are dropped (comments inside verbatim fragments stay).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from liucheng.bpmn import extensions
from liucheng.bpmn.data import artifacts_to_write
from liucheng.bpmn.di import write_diagram
from liucheng.bpmn.model import (
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    DC_NS,
    DI_NS,
    SPIFF_NS,
    XSI_NS,
    ZEEBE_NS,
    Collaboration,
    Definitions,
    EventDefinition,
    Expression,
    FlowNode,
    IoMapping,
    Lane,
    Process,
    Scope,
    SequenceFlow,
)
from liucheng.bpmn.parse import EVENT_REF_ATTR, ROOT_HEAD_TAGS
from liucheng.bpmn.xml_safety import element_to_string, parse_xml, string_to_element

_B = f"{{{BPMN_NS}}}"
_C = f"{{{CAMUNDA_NS}}}"

_PREFERRED_PREFIX = {
    BPMN_NS: "bpmn",
    BPMNDI_NS: "bpmndi",
    DC_NS: "dc",
    DI_NS: "di",
    XSI_NS: "xsi",
    CAMUNDA_NS: "camunda",
    ZEEBE_NS: "zeebe",
    SPIFF_NS: "spiffworkflow",
}
# Verbatim children of a process, by where the BPMN schema puts them.
_PROCESS_HEAD = frozenset(
    {
        "documentation",
        "supportedInterfaceRef",
        "ioSpecification",
        "ioBinding",
        "auditing",
        "monitoring",
        "property",
        "laneSet",
    }
)
_PROCESS_TAIL = frozenset(
    {"resourceRole", "performer", "humanPerformer", "potentialOwner", "correlationSubscription"}
    | {"supports"}
)
_NODE_TAIL = frozenset({"completionCondition"})
_COLLAB_HEAD = frozenset({"documentation", "extensionElements"})
_SERVICE_ATTRS = ("type", "topic", "class", "delegateExpression")


#: The processing instruction holding a verbatim fragment's place (see the module docstring).
_MARK = "liucheng-verbatim"
_MARK_RE = re.compile(r"<\?liucheng-verbatim (\d+)\?>")
# The namespace declarations at the start of a serialised element, before its attributes.
_START_TAG_RE = re.compile(r"<[^\s/>]+")
_DECLARATION_RE = re.compile(r'\s+xmlns(?::([^\s=/>]+))?="([^"]*)"')


def write_bpmn(defs: Definitions) -> bytes:
    """Serialise ``defs`` as UTF-8 BPMN 2.0 XML with an XML declaration."""
    writer = _Writer(defs)
    root = writer.definitions()
    _indent(root)
    text = etree.tostring(root, encoding="unicode")
    # Generated text and attribute values cannot hold "<?" (lxml escapes "<"), so every match is
    # a placeholder; the fragments themselves are not scanned again.
    text = _MARK_RE.sub(lambda m: writer.fragments[int(m.group(1))], text)
    # The declaration is written by hand for the double quotes every modeler uses.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")


def _indent(el: etree._Element, level: int = 0) -> None:
    """Indent generated elements (verbatim fragments are placeholders here, without children)."""
    children = list(el)
    if not children:
        return
    pad = "\n" + "  " * (level + 1)
    if not (el.text or "").strip():
        el.text = pad
    for child in children:
        child.tail = pad
        _indent(child, level + 1)
    children[-1].tail = "\n" + "  " * level


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


class _Writer:
    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self.nsmap: dict[str | None, str] = {
            (prefix or None): uri for prefix, uri in defs.namespaces.items()
        }
        self.di_nsmap: dict[str, str] = {}
        if BPMN_NS not in self.nsmap.values():
            self.nsmap[self._free_prefix(_PREFERRED_PREFIX[BPMN_NS])] = BPMN_NS
        # DI namespaces the root lacks are declared on each BPMNDiagram (as such files do).
        for uri in (BPMNDI_NS, DC_NS, DI_NS):
            if uri not in self.nsmap.values():
                self.di_nsmap[self._free_prefix(_PREFERRED_PREFIX[uri])] = uri
        bpmn_prefix = next(p for p, uri in self.nsmap.items() if uri == BPMN_NS)
        self.formal_expression = (
            f"{bpmn_prefix}:tFormalExpression" if bpmn_prefix else ("tFormalExpression")
        )
        self.message_ext: dict[str, list[etree._Element]] = {}
        # Verbatim fragments: the text each placeholder stands for, and the stored text of each
        # element made from the model (its canonical serialisation).
        self.fragments: list[str] = []
        self.texts: dict[etree._Element, str] = {}
        self.tidy_cache: dict[str, str] = {}
        # Prefixes that a generated element may declare for a URI the root lacks (local_nsmap),
        # so a fragment below it cannot rely on the root's meaning of them.
        self.shadowed = {
            prefix
            for uri, prefix in _PREFERRED_PREFIX.items()
            if uri not in self.nsmap.values() and prefix in self.nsmap
        }
        context = etree.Element(f"{_B}definitions", nsmap=self.nsmap)  # type: ignore[arg-type]
        context.append(etree.ProcessingInstruction(_MARK, "0"))
        self.context = _MARK_RE.split(etree.tostring(context, encoding="unicode"))[::2]

    def _free_prefix(self, prefix: str) -> str:
        candidate, n = prefix, 1
        while candidate in self.nsmap or candidate in self.di_nsmap:
            candidate, n = f"{prefix}{n}", n + 1
        return candidate

    def local_nsmap(self, *uris: str) -> Any:
        # (lxml-stubs type nsmap as Mapping[str, str]; the default namespace's key is None.)
        """Declarations to add on an element for namespaces the root does not declare."""
        missing: dict[str | None, str] = {
            _PREFERRED_PREFIX[u]: u for u in uris if u not in self.nsmap.values()
        }
        return missing or None

    def sub(
        self, parent: etree._Element, tag: str, attrs: dict[str, str] | None = None
    ) -> etree._Element:
        """A child element; ``None``-free ``attrs`` are set in order."""
        el = etree.SubElement(parent, tag)
        for key, value in (attrs or {}).items():
            el.set(key, value)
        return el

    def verbatim_elements(self, texts: Iterable[str]) -> list[etree._Element]:
        """Stored fragments as elements (parsed with the same hardening as whole files)."""
        elements = []
        for text in texts:
            el = string_to_element(text)
            # Re-serialised, so that exactly one element (no XML declaration, nothing else) is
            # spliced in; for text the parser stored this is the same text.
            self.texts[el] = element_to_string(el)
            elements.append(el)
        return elements

    def put(self, parent: etree._Element, elements: Iterable[etree._Element]) -> None:
        """Append verbatim fragments (placeholders now, their text when serialised)."""
        for el in elements:
            parent.append(etree.ProcessingInstruction(_MARK, str(len(self.fragments))))
            text = self.texts.get(el)
            self.fragments.append(self.tidy(text if text is not None else element_to_string(el)))

    def put_texts(self, parent: etree._Element, texts: list[str]) -> None:
        self.put(parent, self.verbatim_elements(texts))

    def tidy(self, text: str) -> str:
        """``text`` without the declarations that repeat the root's, if it reads back the same.

        The check parses the shortened fragment under a root declaring what the written root
        declares and compares its serialisation with ``text``: a declaration the fragment
        carried in the original file but never uses, or one whose position matters, stays.
        """
        cached = self.tidy_cache.get(text)
        if cached is not None:
            return cached
        start = _START_TAG_RE.match(text)
        tidy = text
        if start is not None:
            pos, kept, dropped = start.end(), [], False
            while (m := _DECLARATION_RE.match(text, pos)) is not None:
                prefix = m.group(1)
                repeats = self.nsmap.get(prefix) == m.group(2) and prefix not in self.shadowed
                dropped = dropped or repeats
                if not repeats:
                    kept.append(m.group(0))
                pos = m.end()
            if dropped:
                candidate = text[: start.end()] + "".join(kept) + text[pos:]
                wrapped = self.context[0] + candidate + self.context[1]
                reread = parse_xml(wrapped, source="<written fragment>")
                if len(reread) == 1 and element_to_string(reread[0]) == text:
                    tidy = candidate
        self.tidy_cache[text] = tidy
        return tidy

    def extension_elements(self, parent: etree._Element, elements: list[etree._Element]) -> None:
        if elements:
            self.put(self.sub(parent, f"{_B}extensionElements"), elements)

    def documentation(
        self, parent: etree._Element, text: str | None, attrs: dict[str, str] | None = None
    ) -> None:
        if text is not None:
            el = self.sub(parent, f"{_B}documentation", attrs)
            el.text = text

    def expression(self, parent: etree._Element, tag: str, expr: Expression) -> None:
        el = etree.SubElement(parent, tag, nsmap=self.local_nsmap(XSI_NS))
        if f"{{{XSI_NS}}}type" not in expr.attrs:
            el.set(f"{{{XSI_NS}}}type", self.formal_expression)
        if expr.language is not None:
            el.set("language", expr.language)
        self.set_attrs(el, expr.attrs)
        el.text = expr.text

    # -- definitions ------------------------------------------------------------------------

    def definitions(self) -> etree._Element:
        defs = self.defs
        root = etree.Element(f"{_B}definitions", nsmap=self.nsmap)  # type: ignore[arg-type]
        for attr, value in (
            ("id", defs.id),
            ("targetNamespace", defs.target_namespace),
            ("expressionLanguage", defs.expression_language),
            ("exporter", defs.exporter),
            ("exporterVersion", defs.exporter_version),
        ):
            if value is not None:
                root.set(attr, value)
        for key, value in defs.attrs.items():
            root.set(key, value)
        others = self.verbatim_elements(defs.other_roots_xml)
        self.put(root, [e for e in others if _local(e) in ROOT_HEAD_TAGS])
        for collab in defs.collaborations:
            self.collaboration(root, collab)
        for message in defs.messages.values():
            self.message_ext[message.id] = self.verbatim_elements(message.extension_xml)
        for process in defs.processes.values():
            self.process(root, process)
        for message in defs.messages.values():
            el = self.sub(root, f"{_B}message", {"id": message.id})
            if message.name is not None:
                el.set("name", message.name)
            self.set_attrs(el, message.attrs)
            self.put_texts(el, message.other_xml)
            self.extension_elements(el, self.message_ext[message.id])
        for error in defs.errors.values():
            el = self.sub(root, f"{_B}error", {"id": error.id})
            self.optional(el, name=error.name, errorCode=error.error_code)
            self.set_attrs(el, error.attrs)
        for escalation in defs.escalations.values():
            el = self.sub(root, f"{_B}escalation", {"id": escalation.id})
            self.optional(el, name=escalation.name, escalationCode=escalation.escalation_code)
            self.set_attrs(el, escalation.attrs)
        for signal in defs.signals.values():
            el = self.sub(root, f"{_B}signal", {"id": signal.id})
            self.optional(el, name=signal.name)
            self.set_attrs(el, signal.attrs)
        self.put(root, [e for e in others if _local(e) not in ROOT_HEAD_TAGS | {"relationship"}])
        for diagram in defs.diagrams:
            write_diagram(root, diagram, self.put_texts, self.di_nsmap or None)
        self.put(root, [e for e in others if _local(e) == "relationship"])
        return root

    @staticmethod
    def optional(el: etree._Element, **attrs: str | None) -> None:
        for key, value in attrs.items():
            if value is not None:
                el.set(key, value)

    @staticmethod
    def set_attrs(el: etree._Element, attrs: dict[str, str]) -> None:
        for key, value in attrs.items():
            el.set(key, value)

    def collaboration(self, root: etree._Element, collab: Collaboration) -> None:
        el = self.sub(root, f"{_B}collaboration", {"id": collab.id})
        self.optional(el, name=collab.name)
        self.set_attrs(el, collab.attrs)
        others = self.verbatim_elements(collab.other_xml)
        self.put(el, [e for e in others if _local(e) in _COLLAB_HEAD])
        for p in collab.participants:
            pel = self.sub(el, f"{_B}participant", {"id": p.id})
            self.optional(pel, name=p.name, processRef=p.process_ref)
            self.set_attrs(pel, p.attrs)
            self.put_texts(pel, p.other_xml)
        for mf in collab.message_flows:
            mel = self.sub(el, f"{_B}messageFlow", {"id": mf.id})
            self.optional(mel, name=mf.name)
            mel.set("sourceRef", mf.source)
            mel.set("targetRef", mf.target)
            self.optional(mel, messageRef=mf.message_ref)
            self.set_attrs(mel, mf.attrs)
            self.put_texts(mel, mf.other_xml)
        self.put(el, [e for e in others if _local(e) not in _COLLAB_HEAD])

    # -- processes --------------------------------------------------------------------------

    def process(self, root: etree._Element, process: Process) -> None:
        ext = self.verbatim_elements(process.extension_xml)
        attrs = dict(process.attrs)
        derived = extensions.process_properties(attrs, ext)
        for key, value in process.properties.items():
            camunda_attr = extensions.CAMUNDA_PROCESS_ATTR_FOR.get(key)
            if derived.get(key) != value and camunda_attr is not None:
                attrs[_C + camunda_attr] = value
        el = etree.SubElement(
            root,
            f"{_B}process",
            nsmap=self.local_nsmap(CAMUNDA_NS) if _needs(attrs, CAMUNDA_NS) else None,
        )
        el.set("id", process.id)
        self.optional(el, name=process.name)
        if process.declares_executable or not process.is_executable:
            el.set("isExecutable", "true" if process.is_executable else "false")
        self.set_attrs(el, attrs)
        self.documentation(el, process.documentation, process.documentation_attrs)
        self.extension_elements(el, ext)
        others = self.verbatim_elements(artifacts_to_write(process.body))
        self.put(el, [e for e in others if _local(e) in _PROCESS_HEAD - {"laneSet"}])
        if (
            process.lane_set_id is not None
            or process.lanes
            or process.lane_set_attrs
            or process.lane_set_xml
        ):
            lane_set = self.sub(el, f"{_B}laneSet")
            self.optional(lane_set, id=process.lane_set_id)
            self.set_attrs(lane_set, process.lane_set_attrs)
            self.put_texts(lane_set, process.lane_set_xml)
            for lane in process.lanes:
                self.lane(lane_set, lane)
        self.put(el, [e for e in others if _local(e) == "laneSet"])
        self.scope_elements(el, process.body)
        self.put(el, [e for e in others if _local(e) not in _PROCESS_HEAD | _PROCESS_TAIL])
        self.put(el, [e for e in others if _local(e) in _PROCESS_TAIL])

    def lane(self, parent: etree._Element, lane: Lane) -> None:
        el = self.sub(parent, f"{_B}lane", {"id": lane.id})
        self.optional(el, name=lane.name)
        self.set_attrs(el, lane.attrs)
        self.put_texts(el, lane.other_xml)
        for ref in lane.flow_node_refs:
            self.sub(el, f"{_B}flowNodeRef").text = ref
        if lane.child_lanes or lane.child_lane_set_attrs is not None:
            child_set = self.sub(el, f"{_B}childLaneSet", lane.child_lane_set_attrs)
            for child in lane.child_lanes:
                self.lane(child_set, child)

    def scope_elements(self, parent: etree._Element, scope: Scope) -> None:
        """Flow nodes and sequence flows (the caller places the artifacts)."""
        for node in scope.nodes.values():
            self.node(parent, node)
        for flow in scope.flows.values():
            self.flow(parent, flow)

    def flow(self, parent: etree._Element, flow: SequenceFlow) -> None:
        el = self.sub(parent, f"{_B}sequenceFlow", {"id": flow.id})
        # (both are required; a file without them is written back without them)
        self.optional(el, name=flow.name, sourceRef=flow.source or None)
        self.optional(el, targetRef=flow.target or None)
        self.set_attrs(el, flow.attrs)
        self.documentation(el, flow.documentation, flow.documentation_attrs)
        self.extension_elements(el, self.verbatim_elements(flow.extension_xml))
        self.put_texts(el, flow.other_xml)
        if flow.condition is not None:
            self.expression(el, f"{_B}conditionExpression", flow.condition)

    # -- flow nodes -------------------------------------------------------------------------

    def node(self, parent: etree._Element, node: FlowNode) -> None:
        ext = self.verbatim_elements(node.extension_xml)
        attrs = dict(node.attrs)
        ext = self.programmatic_settings(node, attrs, ext)
        uris = [u for u in (CAMUNDA_NS,) if _needs(attrs, u)]
        el = etree.SubElement(parent, _B + node.tag, nsmap=self.local_nsmap(*uris))
        el.set("id", node.id)
        self.optional(
            el,
            name=node.name,
            attachedToRef=node.attached_to,
            cancelActivity=None if node.cancel_activity else "false",
            triggeredByEvent="true" if node.triggered_by_event else None,
            isInterrupting=None if node.is_interrupting else "false",
            scriptFormat=node.script_format,
            messageRef=node.message_ref,
            implementation=node.implementation,
            default=node.default,
        )
        self.set_attrs(el, attrs)
        self.documentation(el, node.documentation, node.documentation_attrs)
        self.extension_elements(el, ext)
        for ref in node.incoming:
            self.sub(el, f"{_B}incoming").text = ref
        for ref in node.outgoing:
            self.sub(el, f"{_B}outgoing").text = ref
        others = self.verbatim_elements(node.other_xml)
        self.put(el, [e for e in others if _local(e) not in _NODE_TAIL])
        if node.loop is not None:
            self.put_texts(el, [node.loop.xml])
        if node.script is not None:
            self.sub(el, f"{_B}script").text = node.script
        for definition in node.event_definitions:
            self.event_definition(el, definition)
        if node.body is not None:
            self.scope_elements(el, node.body)
            self.put(el, self.verbatim_elements(artifacts_to_write(node.body)))
        self.put(el, [e for e in others if _local(e) in _NODE_TAIL])

    def programmatic_settings(
        self, node: FlowNode, attrs: dict[str, str], ext: list[etree._Element]
    ) -> list[etree._Element]:
        """Add to ``attrs`` / return ``ext`` with the settings the verbatim XML does not carry.

        See the module docstring for the mapping.
        """
        message = node.message_ref or next(
            (d.ref for d in node.event_definitions if d.kind == "message" and d.ref), None
        )
        derived, d_in, d_out = extensions.node_properties(
            attrs, ext, self.message_ext.get(message) if message else None
        )
        props = node.properties
        pair = (props.get("service"), props.get("service_type"))
        if pair[0] is not None and pair != (derived.get("service"), derived.get("service_type")):
            for name in _SERVICE_ATTRS:
                attrs.pop(_C + name, None)
            if pair[1] == "class":
                attrs[_C + "class"] = pair[0]
            elif pair[1] == "delegate":
                attrs[_C + "delegateExpression"] = pair[0]
            else:
                attrs[_C + "type"] = "external"
                attrs[_C + "topic"] = pair[0]
        for key, value in props.items():
            if key in ("service", "service_type") or derived.get(key) == value:
                continue
            camunda_attr = extensions.CAMUNDA_ATTR_FOR.get(key)
            if camunda_attr is not None:
                attrs[_C + camunda_attr] = value
            elif key == "correlation_key":
                ext = [e for e in ext if e.tag != f"{{{ZEEBE_NS}}}subscription"]
                ext.append(self.new_ext(ZEEBE_NS, "subscription", {"correlationKey": value}))
            elif key in ("pre_script", "post_script"):
                local = "preScript" if key == "pre_script" else "postScript"
                ext = [e for e in ext if e.tag != f"{{{SPIFF_NS}}}{local}"]
                ext.append(self.new_ext(SPIFF_NS, local, {}, text=value))
            # other keys are not part of PROPERTY_KEYS and have no XML form
        if (node.inputs, node.outputs) != (d_in, d_out):
            io_tags = (f"{_C}inputOutput", f"{{{ZEEBE_NS}}}ioMapping")
            ext = [e for e in ext if e.tag not in io_tags]
            if node.inputs or node.outputs:
                ext.append(self.camunda_io(node.inputs, node.outputs))
        return ext

    def new_ext(
        self, uri: str, local: str, attrs: dict[str, str], text: str | None = None
    ) -> etree._Element:
        el = etree.Element(f"{{{uri}}}{local}", attrs, nsmap={_PREFERRED_PREFIX[uri]: uri})
        el.text = text
        return el

    def camunda_io(self, inputs: list[IoMapping], outputs: list[IoMapping]) -> etree._Element:
        io = self.new_ext(CAMUNDA_NS, "inputOutput", {})
        for local, mappings in (("inputParameter", inputs), ("outputParameter", outputs)):
            for m in mappings:
                etree.SubElement(io, _C + local, {"name": m.target}).text = m.source
        return io

    def event_definition(self, parent: etree._Element, d: EventDefinition) -> None:
        el = self.sub(parent, f"{_B}{d.kind}EventDefinition")
        self.optional(el, id=d.id)
        ref_attr = EVENT_REF_ATTR.get(d.kind)
        if ref_attr is not None and d.ref is not None:
            el.set(ref_attr, d.ref)
        if d.kind == "link" and d.link_name is not None:
            el.set("name", d.link_name)
        self.set_attrs(el, d.attrs)
        others = self.verbatim_elements(d.other_xml)
        self.put(el, [e for e in others if _local(e) == "documentation"])
        self.extension_elements(el, self.verbatim_elements(d.extension_xml))
        self.put(el, [e for e in others if _local(e) != "documentation"])
        if d.timer is not None:
            self.expression(el, _B + (d.timer_type or "timeDuration"), d.timer)
        if d.condition is not None:
            self.expression(el, f"{_B}condition", d.condition)


def _needs(attrs: dict[str, str], uri: str) -> bool:
    prefix = f"{{{uri}}}"
    return any(key.startswith(prefix) for key in attrs)
