"""Is a parsed model sound, and can this release of the engine run it?

``validate`` returns *every* issue (``ValidationIssue``: message, element id, line, file), so a
process owner fixes a model in one round instead of one error per deployment; ``check`` raises
``BpmnValidationError`` carrying them all.

Two families of checks:

* **Structure** (always): dangling or cross-scope sequence flows, ``incoming`` / ``outgoing``
  lists that disagree with the flows, gateways without an outgoing flow, misplaced default flows,
  exclusive gateways with several unconditional flows, missing start events, boundary events
  attached to nothing, references to undeclared messages / errors / escalations / signals,
  unreachable nodes, duplicate ids (found by the parser, which sees the whole file).
* **Execution** (``for_execution=True``, the default): non-executable processes, and elements
  the engine does not support yet.  What is supported is data, not code: ``SUPPORTED`` maps each
  element to the event definitions it may carry (``None`` = none), ``SUPPORTED_FEATURES`` names
  the optional constructs.  The engine team extends the release by editing these two constants
  (or passes its own to ``validate`` in tests).

Pools in a collaboration whose process is not executable are documentation (Camunda ignores them
too): when the file has an executable process, such pools are skipped entirely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from liucheng.bpmn.model import (
    ACTIVITY_TAGS,
    CAMUNDA_NS,
    Definitions,
    FlowNode,
    Lane,
    Process,
    Scope,
    SequenceFlow,
)
from liucheng.bpmn.parse import SUBPROCESS_TAGS
from liucheng.bpmn.xml_safety import string_to_element
from liucheng.errors import BpmnValidationError, ValidationIssue

_NONE = None

#: Element tag → the event definition kinds it may carry in this release (``None``: no event
#: definition, e.g. a none start event).  Tags missing here are not supported at all.
SUPPORTED: Final[Mapping[str, frozenset[str | None]]] = MappingProxyType(
    {
        "startEvent": frozenset(
            {_NONE, "timer", "message", "error", "escalation", "signal", "conditional"}
        ),
        "endEvent": frozenset(
            {_NONE, "terminate", "error", "escalation", "message", "signal", "compensate", "cancel"}
        ),
        "intermediateCatchEvent": frozenset({"timer", "message", "signal", "conditional", "link"}),
        "intermediateThrowEvent": frozenset(
            {_NONE, "message", "escalation", "signal", "link", "compensate"}
        ),
        "boundaryEvent": frozenset(
            {"timer", "message", "error", "escalation", "signal", "conditional", "compensate"}
            | {"cancel"}
        ),
        "task": frozenset({_NONE}),
        "userTask": frozenset({_NONE}),
        "manualTask": frozenset({_NONE}),
        "serviceTask": frozenset({_NONE}),
        "scriptTask": frozenset({_NONE}),
        "businessRuleTask": frozenset({_NONE}),
        "sendTask": frozenset({_NONE}),
        "receiveTask": frozenset({_NONE}),
        "exclusiveGateway": frozenset({_NONE}),
        "parallelGateway": frozenset({_NONE}),
        "inclusiveGateway": frozenset({_NONE}),
        "eventBasedGateway": frozenset({_NONE}),
        "subProcess": frozenset({_NONE}),
        "transaction": frozenset({_NONE}),
        "callActivity": frozenset({_NONE}),
    }
)

#: Optional constructs supported in this release.  Known names: "eventSubProcess",
#: "standardLoop", "multiInstanceLoop", "multipleEventDefinitions", "nestedIoMapping"
#: (camunda:list / camunda:map / camunda:script inside an input/output parameter).
SUPPORTED_FEATURES: Final[frozenset[str]] = frozenset(
    {"standardLoop", "multiInstanceLoop", "eventSubProcess"}
)

_DEFAULT_ALLOWED: Final = ACTIVITY_TAGS | {"exclusiveGateway", "inclusiveGateway", "complexGateway"}
_REF_KINDS: Final = {"message": "messages", "error": "errors", "escalation": "escalations"} | {
    "signal": "signals"
}


def describe(tag: str) -> str:
    """``"exclusiveGateway"`` → ``"exclusive gateway"`` (``subProcess`` → ``subprocess``)."""
    if tag == "subProcess":
        return "subprocess"
    if tag == "adHocSubProcess":
        return "ad-hoc subprocess"
    return re.sub(r"(?<!^)([A-Z])", lambda m: " " + m.group(1).lower(), tag)


@dataclass(slots=True)
class _Place:
    """Where a flow node lives: its scope and the id of the process/subprocess owning it."""

    node: FlowNode
    scope: Scope
    owner: str


def check(defs: Definitions, *, for_execution: bool = True) -> None:
    """Raise ``BpmnValidationError`` listing every issue, or return if there is none."""
    issues = validate(defs, for_execution=for_execution)
    if issues:
        raise BpmnValidationError(issues)


def validate(
    defs: Definitions,
    *,
    for_execution: bool = True,
    supported: Mapping[str, frozenset[str | None]] = SUPPORTED,
    features: frozenset[str] = SUPPORTED_FEATURES,
) -> list[ValidationIssue]:
    """Every problem in ``defs``; an empty list means the model is sound (and runnable)."""
    v = _Validator(defs, supported, features, for_execution)
    v.issues.extend(defs.parse_issues)
    v.unique_ids()
    documentary = _documentary_pools(defs)
    for process in defs.processes.values():
        if process.id in documentary:
            continue
        if for_execution and not process.is_executable:
            v.issue(f"process '{process.id}' is not marked executable", process.id, process.line)
        v.process(process)
        if for_execution:
            v.unsupported(process.body)
    v.collaborations()
    return v.issues


def _documentary_pools(defs: Definitions) -> set[str]:
    """Non-executable processes drawn as pools beside an executable one."""
    if not any(p.is_executable for p in defs.processes.values()):
        return set()
    pools = {p.process_ref for c in defs.collaborations for p in c.participants if p.process_ref}
    return {pid for pid, p in defs.processes.items() if not p.is_executable and pid in pools}


def _walk(scope: Scope, owner: str) -> Iterator[_Place]:
    for node in scope.nodes.values():
        yield _Place(node, scope, owner)
        if node.body is not None:
            yield from _walk(node.body, node.id)


class _Validator:
    def __init__(
        self,
        defs: Definitions,
        supported: Mapping[str, frozenset[str | None]],
        features: frozenset[str],
        for_execution: bool = True,
    ) -> None:
        self.defs = defs
        self.for_execution = for_execution
        self.supported = supported
        self.features = features
        self.issues: list[ValidationIssue] = []
        self.flow_index: dict[
            int, tuple[dict[str, list[SequenceFlow]], dict[str, list[SequenceFlow]]]
        ] = {}
        # Every flow node of the file by id, for "lies in another scope" messages.
        self.places: dict[str, _Place] = {}
        for process in defs.processes.values():
            for place in _walk(process.body, process.id):
                self.places.setdefault(place.node.id, place)

    def ends(self, scope: Scope, node_id: str) -> tuple[list[SequenceFlow], list[SequenceFlow]]:
        """The flows of ``scope`` ending at / starting from ``node_id`` (indexed once per scope)."""
        index = self.flow_index.get(id(scope))
        if index is None:
            into: dict[str, list[SequenceFlow]] = {}
            out_of: dict[str, list[SequenceFlow]] = {}
            for f in scope.flows.values():
                into.setdefault(f.target, []).append(f)
                out_of.setdefault(f.source, []).append(f)
            index = self.flow_index[id(scope)] = (into, out_of)
        return index[0].get(node_id, []), index[1].get(node_id, [])

    def issue(self, message: str, element: str | None, line: int | None) -> None:
        self.issues.append(
            ValidationIssue(message, element=element, line=line, source=self.defs.source)
        )

    # -- ids --------------------------------------------------------------------------------

    def unique_ids(self) -> None:
        """Duplicate ids across scopes and kinds (same-scope ones come from the parser)."""
        reported = {i.element for i in self.defs.parse_issues}
        seen: dict[str, tuple[str, int | None]] = {}

        def add(ident: str, kind: str, line: int | None) -> None:
            if ident in reported:
                return
            if ident in seen:
                first_kind, first_line = seen[ident]
                self.issue(
                    f"id '{ident}' is used twice: by {first_kind} on line {first_line} "
                    f"and by {kind} on line {line}",
                    ident,
                    line,
                )
                reported.add(ident)
            else:
                seen[ident] = (kind, line)

        defs = self.defs
        for process in defs.processes.values():
            add(process.id, "a process", process.line)
            for lane in _lanes(process.lanes):
                add(lane.id, "a lane", lane.line)
            for place in _walk(process.body, process.id):
                add(place.node.id, f"a {describe(place.node.tag)}", place.node.line)
            for flow in _flows(process.body):
                add(flow.id, "a sequence flow", flow.line)
        for collab in defs.collaborations:
            add(collab.id, "a collaboration", None)
            for participant in collab.participants:
                add(participant.id, "a participant", None)
            for mf in collab.message_flows:
                add(mf.id, "a message flow", None)
        for kind, table in (
            ("a message", defs.messages),
            ("an error", defs.errors),
            ("an escalation", defs.escalations),
            ("a signal", defs.signals),
        ):
            for ident in table:
                add(ident, kind, None)

    # -- structure --------------------------------------------------------------------------

    def process(self, process: Process) -> None:
        starts = [n for n in process.body.nodes.values() if n.tag == "startEvent"]
        if not starts and (process.body.nodes or self.for_execution):
            # an empty process (a pool drawn for a partner) is fine in a descriptive model
            self.issue(f"process '{process.id}' has no start event", process.id, process.line)
        self.scope(process.body, process.id, event_sub=False, ad_hoc=False)
        for lane in _lanes(process.lanes):
            for ref in lane.flow_node_refs:
                if ref not in self.places:
                    self.issue(
                        f"lane '{lane.id}' refers to unknown flow node '{ref}'", lane.id, lane.line
                    )

    def scope(self, scope: Scope, owner: str, *, event_sub: bool, ad_hoc: bool) -> None:
        for flow in scope.flows.values():
            for end, label in ((flow.source, "source"), (flow.target, "target")):
                if not end:
                    self.issue(f"sequence flow '{flow.id}' has no {label}Ref", flow.id, flow.line)
                elif end not in scope.nodes:
                    where = self.places.get(end)
                    if where is None:
                        self.issue(
                            f"sequence flow '{flow.id}' refers to unknown {label} '{end}'",
                            flow.id,
                            flow.line,
                        )
                    else:
                        self.issue(
                            f"sequence flow '{flow.id}' (in '{owner}') connects to '{end}', "
                            f"which lies in another scope ('{where.owner}')",
                            flow.id,
                            flow.line,
                        )
        for node in scope.nodes.values():
            self.node(node, scope, event_sub=event_sub, ad_hoc=ad_hoc)
            if node.body is not None:
                if (
                    node.tag in ("subProcess", "transaction")
                    and not node.triggered_by_event
                    and (node.body.nodes or self.for_execution)  # collapsed and empty: fine
                    and not any(
                        n.tag == "startEvent" and not n.event_definitions
                        for n in node.body.nodes.values()
                    )
                ):
                    self.issue(
                        f"{describe(node.tag)} '{node.id}' has no none start event",
                        node.id,
                        node.line,
                    )
                self.scope(
                    node.body,
                    node.id,
                    event_sub=event_sub or node.triggered_by_event,
                    ad_hoc=node.tag == "adHocSubProcess",
                )

    def node(self, node: FlowNode, scope: Scope, *, event_sub: bool, ad_hoc: bool) -> None:
        what = f"{describe(node.tag)} '{node.id}'"
        flows_in, flows_out = self.ends(scope, node.id)
        self.listed(node, "incoming", node.incoming, {f.id for f in flows_in}, scope)
        self.listed(node, "outgoing", node.outgoing, {f.id for f in flows_out}, scope)

        if node.tag.endswith("Gateway") and not flows_out:
            self.issue(f"{what} has no outgoing sequence flow", node.id, node.line)
        if node.default is not None:
            if node.tag not in _DEFAULT_ALLOWED:
                self.issue(f"{what} cannot have a default flow", node.id, node.line)
            elif node.default not in {f.id for f in flows_out}:
                self.issue(
                    f"default flow '{node.default}' of {what} is not one of its outgoing "
                    "sequence flows",
                    node.id,
                    node.line,
                )
        if node.tag == "exclusiveGateway" and len(flows_out) > 1 and self.for_execution:
            # A descriptive model names its branches instead of writing conditions.
            bare = [
                f
                for f in flows_out
                if f.id != node.default and (f.condition is None or not f.condition.text)
            ]
            if len(bare) > 1:
                self.issue(
                    f"{what} has {len(bare)} unconditional outgoing flows; mark one as default",
                    node.id,
                    node.line,
                )

        if node.tag == "startEvent" and flows_in:
            self.issue(f"{what} has an incoming sequence flow", node.id, node.line)
        if node.tag == "endEvent" and flows_out:
            self.issue(f"{what} has an outgoing sequence flow", node.id, node.line)
        if node.tag == "boundaryEvent":
            self.boundary(node, scope, what)
        elif not flows_in and not self.may_start(node, event_sub=event_sub, ad_hoc=ad_hoc):
            self.issue(
                f"{what} has no incoming sequence flow, so it can never be reached",
                node.id,
                node.line,
            )
        self.refs(node, what)

    @staticmethod
    def may_start(node: FlowNode, *, event_sub: bool, ad_hoc: bool) -> bool:
        """Nodes that legitimately have no incoming flow."""
        return (
            node.tag == "startEvent"
            or event_sub
            or ad_hoc
            or node.triggered_by_event
            or node.attrs.get("isForCompensation") == "true"
            or (node.tag == "intermediateCatchEvent" and node.event_kind == "link")
        )

    def listed(
        self, node: FlowNode, direction: str, refs: list[str], actual: set[str], scope: Scope
    ) -> None:
        """Compare a node's incoming/outgoing list with the flows that really end/start there."""
        for ref in refs:
            if ref in actual:
                continue
            flow = scope.flows.get(ref)
            if flow is None:
                msg = f"'{node.id}' lists {direction} flow '{ref}', which does not exist here"
            else:
                at = flow.target if direction == "incoming" else flow.source
                verb = "ends at" if direction == "incoming" else "starts at"
                msg = f"'{node.id}' lists {direction} flow '{ref}', but that flow {verb} '{at}'"
            self.issue(msg, node.id, node.line)
        for ref in sorted(actual - set(refs)):
            verb = "ends at" if direction == "incoming" else "starts at"
            self.issue(
                f"sequence flow '{ref}' {verb} '{node.id}', but '{node.id}' does not list it "
                f"as {direction}",
                node.id,
                node.line,
            )

    def boundary(self, node: FlowNode, scope: Scope, what: str) -> None:
        if self.ends(scope, node.id)[0]:
            self.issue(f"{what} has an incoming sequence flow", node.id, node.line)
        target = node.attached_to
        if not target:
            self.issue(f"{what} has no attachedToRef", node.id, node.line)
            return
        host = scope.nodes.get(target)
        if host is None:
            where = self.places.get(target)
            msg = (
                f"{what} is attached to unknown element '{target}'"
                if where is None
                else f"{what} is attached to '{target}', which lies in another scope"
            )
            self.issue(msg, node.id, node.line)
        elif host.tag not in ACTIVITY_TAGS:
            self.issue(
                f"{what} is attached to '{target}', which is a {describe(host.tag)}, "
                "not an activity",
                node.id,
                node.line,
            )

    def refs(self, node: FlowNode, what: str) -> None:
        defs = self.defs
        for d in node.event_definitions:
            table_name = _REF_KINDS.get(d.kind)
            if table_name is None or d.ref is None:
                continue
            table: Mapping[str, object] = getattr(defs, table_name)
            if d.ref not in table:
                self.issue(f"{what} refers to unknown {d.kind} '{d.ref}'", node.id, node.line)
        if node.message_ref is not None and node.message_ref not in defs.messages:
            self.issue(f"{what} refers to unknown message '{node.message_ref}'", node.id, node.line)

    def collaborations(self) -> None:
        defs = self.defs
        targets = set(self.places) | set(defs.processes)
        for collab in defs.collaborations:
            targets |= {p.id for p in collab.participants}
        for collab in defs.collaborations:
            for p in collab.participants:
                if p.process_ref is not None and p.process_ref not in defs.processes:
                    self.issue(
                        f"participant '{p.id}' refers to unknown process '{p.process_ref}'",
                        p.id,
                        None,
                    )
            for mf in collab.message_flows:
                for end, label in ((mf.source, "source"), (mf.target, "target")):
                    if end not in targets:
                        self.issue(
                            f"message flow '{mf.id}' refers to unknown {label} '{end}'", mf.id, None
                        )
                if mf.message_ref is not None and mf.message_ref not in defs.messages:
                    self.issue(
                        f"message flow '{mf.id}' refers to unknown message '{mf.message_ref}'",
                        mf.id,
                        None,
                    )

    # -- what this release can run ----------------------------------------------------------

    def unsupported(self, scope: Scope) -> None:
        for node in scope.nodes.values():
            what = f"{describe(node.tag)} '{node.id}'"

            def refuse(message: str, node: FlowNode = node) -> None:
                self.issue(message + " is not supported yet", node.id, node.line)

            kinds = self.supported.get(node.tag)
            if node.triggered_by_event:
                if "eventSubProcess" not in self.features:
                    refuse(f"event subprocess '{node.id}'")
                    continue  # its contents are moot until event subprocesses are
            elif kinds is None:
                refuse(what)
                continue  # nothing inside an unsupported element needs its own complaint
            elif len(node.event_definitions) > 1:
                if "multipleEventDefinitions" not in self.features:
                    refuse(f"{what} with several event definitions (a multiple event)")
            elif node.event_kind not in kinds:
                kind = node.event_kind or "none"
                refuse(f"{what} with a {kind} event definition")
            if node.loop is not None:
                feature = "standardLoop" if node.loop.kind == "standard" else "multiInstanceLoop"
                if feature not in self.features:
                    label = "standard loop" if node.loop.kind == "standard" else "multi-instance"
                    refuse(f"{label} on {what}")
            if "nestedIoMapping" not in self.features:
                for name in nested_io_mappings(node):
                    refuse(
                        f"input/output parameter '{name}' of {what} uses a camunda:list, "
                        "camunda:map or camunda:script value, which"
                    )
            if node.body is not None and node.tag in SUBPROCESS_TAGS:
                self.unsupported(node.body)


def nested_io_mappings(node: FlowNode) -> list[str]:
    """Names of Camunda input/output parameters whose value is a nested element."""
    names: list[str] = []
    for text in node.extension_xml:
        if "inputOutput" not in text:
            continue
        el = string_to_element(text)
        if el.tag != f"{{{CAMUNDA_NS}}}inputOutput":
            continue
        for param in el:
            if isinstance(param.tag, str) and any(isinstance(c.tag, str) for c in param):
                names.append(param.get("name", ""))
    return names


def _lanes(lanes: list[Lane]) -> Iterator[Lane]:
    for lane in lanes:
        yield lane
        yield from _lanes(lane.child_lanes)


def _flows(scope: Scope) -> Iterator[SequenceFlow]:
    yield from scope.flows.values()
    for node in scope.nodes.values():
        if node.body is not None:
            yield from _flows(node.body)
