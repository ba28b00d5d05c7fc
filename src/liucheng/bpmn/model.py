"""The in-memory BPMN 2.0 model: what the parser produces, the writer consumes and the engine runs.

The model is plain dataclasses so that ``parse(write(parse(x))) == parse(x)`` can be checked with
``==``.  Source line numbers are kept for error messages but excluded from comparison.

Design choices:

* One ``FlowNode`` class for every flow element, told apart by ``tag`` (the BPMN local name,
  e.g. ``"userTask"``).  The engine dispatches on ``tag`` once when it compiles a model, so a single
  class costs nothing at run time and keeps the parser, writer and engine free of long class
  hierarchies.
* Vendor extensions (Camunda 7, Camunda 8/Zeebe, Flowable, SpiffWorkflow) are *normalised* into
  ``FlowNode.properties`` / ``inputs`` / ``outputs`` under vendor-neutral keys (see
  ``PROPERTY_KEYS``), and the original XML is kept verbatim in ``extension_xml`` / ``attrs`` so that
  writing the model back loses nothing.
* Elements without execution semantics (text annotations, associations, groups, data object
  references, item definitions) are kept verbatim as XML strings and written back unchanged.
* Data objects are kept verbatim too (``Scope.artifacts_xml``) *and* read into
  ``Scope.data_objects``, like vendor properties: the writer puts the verbatim element back
  unless the modelled one was changed from Python (see ``bpmn/data.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liucheng.errors import ValidationIssue

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
FLOWABLE_NS = "http://flowable.org/bpmn"
ACTIVITI_NS = "http://activiti.org/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
#: Liucheng's own attributes, e.g. ``liucheng:calendar`` (which business calendar a timer uses).
LIUCHENG_NS = "https://liucheng.dev/schema/bpmn/1.0"

#: Activities: the flow nodes that do work, may carry boundary events and loop characteristics.
ACTIVITY_TAGS = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)
EVENT_TAGS = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "implicitThrowEvent",
    }
)
GATEWAY_TAGS = frozenset(
    {
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
#: Every BPMN element that becomes a ``FlowNode`` (its local name is ``FlowNode.tag``).
FLOW_NODE_TAGS = (
    ACTIVITY_TAGS
    | EVENT_TAGS
    | GATEWAY_TAGS
    | {"callChoreography", "choreographyTask", "subChoreography"}
)

#: Vendor-neutral keys used in ``FlowNode.properties`` (values are the raw attribute text; the
#: engine decides whether a value is an expression).
PROPERTY_KEYS = (
    "assignee",  # user task: user id or expression
    "candidate_groups",  # user task: comma-separated group ids or expression
    "candidate_users",  # user task: comma-separated user ids or expression
    "form_key",  # user task / start event: form reference
    "due_date",  # user task: ISO date/duration or expression
    "priority",  # user task
    "service",  # service/send task: handler name (camunda:topic/class/delegateExpression,
    #             zeebe:taskDefinition type, flowable:class, spiff serviceTaskOperator id)
    "service_type",  # how the handler was named: "external", "class", "delegate", "zeebe", "spiff"
    "decision_ref",  # business rule task: decision id
    "map_decision_result",  # camunda:mapDecisionResult; "value" for zeebe:calledDecision
    "result_variable",  # script/business rule/service task: where the result goes
    "expression",  # camunda:expression on a service task, zeebe:script expression
    "correlation_key",  # zeebe:subscription correlationKey on a message event/receive task
    "initiator",  # camunda:initiator on a start event
    "pre_script",  # spiffworkflow:preScript: script run before the task (Python dialect)
    "post_script",  # spiffworkflow:postScript: script run after the task (Python dialect)
)


@dataclass(slots=True)
class Expression:
    """An expression as written in the file, with the language it declares (if any)."""

    text: str
    language: str | None = None
    # Other attributes of the expression element (often its id), by Clark name.  ``xsi:type`` is
    # kept only when it is not ``tFormalExpression``, which the writer declares otherwise.
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class IoMapping:
    """An input or output mapping: ``target`` receives the value of ``source``.

    ``source`` is expression text (FEEL ``=x``, JUEL ``${x}``, Python, or a literal).  A mapping
    with ``source`` None sets the target to null (Camunda: an empty inputParameter).
    """

    target: str
    source: str | None


@dataclass(slots=True)
class EventDefinition:
    """One event definition inside an event (``timerEventDefinition`` → ``kind="timer"``)."""

    kind: str  # timer, message, error, escalation, signal, terminate, conditional,
    #            compensate, cancel, link
    id: str | None = None
    ref: str | None = None  # messageRef / errorRef / escalationRef / signalRef (an id)
    timer_type: str | None = None  # timeDate, timeDuration, timeCycle
    timer: Expression | None = None
    condition: Expression | None = None  # conditional events
    link_name: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    extension_xml: list[str] = field(default_factory=list)
    other_xml: list[str] = field(default_factory=list)  # documentation, link source/target...


@dataclass(slots=True)
class LoopCharacteristics:
    """``standardLoopCharacteristics`` or ``multiInstanceLoopCharacteristics``.

    Kept verbatim (``xml``, which the writer puts back) and read into the fields below, the
    vendor spellings normalised: the collection and element variable come from the BPMN data
    references, ``camunda:``/``flowable:``/``activiti:`` attributes or
    ``zeebe:loopCharacteristics``.
    """

    kind: str  # "standard" or "multiInstance"
    xml: str  # the element verbatim
    is_sequential: bool = False
    # multi-instance
    cardinality: Expression | None = None  # loopCardinality
    collection: str | None = None  # a variable name or an expression (``=…``, ``${…}``)
    element_variable: str | None = None
    output_collection: str | None = None
    output_element: str | None = None  # an expression giving each instance's output
    completion_condition: Expression | None = None
    zeebe: bool = False  # Zeebe counts ``loopCounter`` from 1, the others from 0
    # standard loop
    loop_condition: Expression | None = None
    test_before: bool = False
    loop_maximum: int | None = None


@dataclass(slots=True)
class FlowNode:
    """Any flow element that is not a sequence flow: events, activities, gateways, subprocesses."""

    id: str
    tag: str  # BPMN local name: startEvent, userTask, exclusiveGateway, subProcess, ...
    name: str | None = None
    incoming: list[str] = field(default_factory=list)  # sequence flow ids
    outgoing: list[str] = field(default_factory=list)  # sequence flow ids
    default: str | None = None  # default sequence flow id (gateways, activities)
    event_definitions: list[EventDefinition] = field(default_factory=list)
    attached_to: str | None = None  # boundary events: the activity id
    cancel_activity: bool = True  # boundary events
    triggered_by_event: bool = False  # event subprocesses
    is_interrupting: bool = True  # start events of event subprocesses
    script: str | None = None  # script task body
    script_format: str | None = None
    message_ref: str | None = None  # receive/send task
    implementation: str | None = None  # the BPMN ``implementation`` attribute, verbatim
    properties: dict[str, str] = field(default_factory=dict)  # see PROPERTY_KEYS
    inputs: list[IoMapping] = field(default_factory=list)
    outputs: list[IoMapping] = field(default_factory=list)
    loop: LoopCharacteristics | None = None
    documentation: str | None = None
    documentation_attrs: dict[str, str] = field(default_factory=dict)  # e.g. its id, textFormat
    # A subprocess (subProcess, transaction, adHocSubProcess) holds its own elements.
    body: Scope | None = None
    # Everything else, for a lossless round-trip:
    attrs: dict[str, str] = field(default_factory=dict)  # attributes not modelled above, by
    #                                                      Clark name ("{ns}local") or plain name
    extension_xml: list[str] = field(default_factory=list)  # extensionElements children verbatim
    other_xml: list[str] = field(default_factory=list)  # other unmodelled children verbatim
    line: int | None = field(default=None, compare=False)

    @property
    def event_kind(self) -> str | None:
        """The kind of the first event definition ("timer", "message", ...) or None."""
        return self.event_definitions[0].kind if self.event_definitions else None


@dataclass(slots=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: Expression | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    extension_xml: list[str] = field(default_factory=list)
    documentation: str | None = None
    documentation_attrs: dict[str, str] = field(default_factory=dict)
    other_xml: list[str] = field(default_factory=list)  # e.g. categoryValueRef, verbatim
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class Lane:
    id: str
    name: str | None = None
    flow_node_refs: list[str] = field(default_factory=list)
    child_lanes: list[Lane] = field(default_factory=list)
    # The attributes of the ``childLaneSet`` element (its id), or None when the lane has none.
    child_lane_set_attrs: dict[str, str] | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    other_xml: list[str] = field(default_factory=list)  # documentation, extensionElements, ...
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class DataObject:
    """A ``dataObject`` of a process or subprocess: a variable of that scope (engine/data.py).

    ``item_subject_ref`` is the attribute as written: the id of an ``itemDefinition`` (whose
    ``structureRef`` gives the type) or, as Flowable writes it, a type itself (``xsd:string``).
    ``value`` is the default as text, from ``<flowable:value>``, ``<activiti:value>`` or
    ``<liucheng:value>`` in its extension elements; None when it has none.
    """

    id: str
    name: str | None = None
    item_subject_ref: str | None = None
    is_collection: bool = False
    value: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class ItemDefinition:
    """A root ``itemDefinition`` (read from the verbatim XML by ``bpmn.data.item_definitions``)."""

    id: str
    structure_ref: str | None = None
    is_collection: bool = False


@dataclass(slots=True)
class VariableDeclaration:
    """One ``<liucheng:variable name="…" type="…" collection="…"/>`` of a process: the declared
    type of a process variable (read by ``bpmn.data.variable_declarations``)."""

    name: str
    type: str  # as written; engine/vartypes.py knows the names
    collection: bool = False


@dataclass(slots=True)
class Scope:
    """The elements of a process or subprocess body, in document order."""

    nodes: dict[str, FlowNode] = field(default_factory=dict)
    flows: dict[str, SequenceFlow] = field(default_factory=dict)
    # textAnnotation, association, group, dataObject, dataObjectReference, dataStoreReference...
    artifacts_xml: list[str] = field(default_factory=list)
    # The data objects among ``artifacts_xml``, read (by id): what the writer writes back.
    data_objects: dict[str, DataObject] = field(default_factory=dict)


@dataclass(slots=True)
class Process:
    id: str
    name: str | None = None
    is_executable: bool = True
    # False when the file has no ``isExecutable`` attribute (read as executable); the writer then
    # leaves it out too, unless ``is_executable`` was set to False.
    declares_executable: bool = True
    body: Scope = field(default_factory=Scope)
    lanes: list[Lane] = field(default_factory=list)  # top-level lanes of the (first) laneSet
    lane_set_id: str | None = None
    lane_set_attrs: dict[str, str] = field(default_factory=dict)  # e.g. its name
    lane_set_xml: list[str] = field(default_factory=list)  # its documentation..., verbatim
    properties: dict[str, str] = field(default_factory=dict)  # e.g. candidate starter groups
    attrs: dict[str, str] = field(default_factory=dict)
    extension_xml: list[str] = field(default_factory=list)
    documentation: str | None = None
    documentation_attrs: dict[str, str] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class Participant:
    id: str
    name: str | None = None
    process_ref: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    # documentation, extensionElements, participantMultiplicity, interfaceRef... verbatim
    other_xml: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MessageFlow:
    id: str
    source: str
    target: str
    name: str | None = None
    message_ref: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    other_xml: list[str] = field(default_factory=list)  # documentation, extensionElements


@dataclass(slots=True)
class Collaboration:
    id: str
    name: str | None = None
    participants: list[Participant] = field(default_factory=list)
    message_flows: list[MessageFlow] = field(default_factory=list)
    other_xml: list[str] = field(default_factory=list)  # annotations, associations, ...
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Message:
    id: str
    name: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    extension_xml: list[str] = field(default_factory=list)
    other_xml: list[str] = field(default_factory=list)  # documentation, verbatim


@dataclass(slots=True)
class ErrorDef:
    id: str
    name: str | None = None
    error_code: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class EscalationDef:
    id: str
    name: str | None = None
    escalation_code: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SignalDef:
    id: str
    name: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass(slots=True)
class Label:
    """A ``BPMNLabel``: where the name is drawn (``bounds``, optional) and how (``labelStyle``)."""

    bounds: Bounds | None = None
    attrs: dict[str, str] = field(default_factory=dict)  # id, labelStyle, vendor attributes
    other_xml: list[str] = field(default_factory=list)  # e.g. di:extension, verbatim


@dataclass(slots=True)
class Shape:
    id: str  # "" when the file gives none (it is optional in BPMNDI)
    element: str  # bpmnElement ("" when absent)
    bounds: Bounds
    label: Label | None = None
    is_expanded: bool | None = None
    is_horizontal: bool | None = None
    attrs: dict[str, str] = field(default_factory=dict)  # e.g. bioc:stroke colours
    other_xml: list[str] = field(default_factory=list)  # e.g. di:extension, verbatim


@dataclass(slots=True)
class Edge:
    id: str
    element: str
    waypoints: list[tuple[float, float]] = field(default_factory=list)
    label: Label | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    other_xml: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Diagram:
    id: str
    plane_id: str
    plane_element: str  # the process or collaboration the plane draws
    name: str | None = None
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    plane_attrs: dict[str, str] = field(default_factory=dict)  # e.g. a vendor's canvas size
    plane_xml: list[str] = field(default_factory=list)  # other children of the plane, verbatim
    # Children of BPMNDiagram after its plane, verbatim: BPMNLabelStyle (fonts of the labels).
    other_xml: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Definitions:
    """A whole BPMN file."""

    id: str | None = None
    target_namespace: str | None = None
    expression_language: str | None = None  # the file's declared default, verbatim
    exporter: str | None = None
    exporter_version: str | None = None
    processes: dict[str, Process] = field(default_factory=dict)
    collaborations: list[Collaboration] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    errors: dict[str, ErrorDef] = field(default_factory=dict)
    escalations: dict[str, EscalationDef] = field(default_factory=dict)
    signals: dict[str, SignalDef] = field(default_factory=dict)
    diagrams: list[Diagram] = field(default_factory=list)
    other_roots_xml: list[str] = field(default_factory=list)  # itemDefinition, dataStore, ...
    namespaces: dict[str, str] = field(default_factory=dict)  # prefix -> uri, as declared
    attrs: dict[str, str] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False)  # file name, for messages
    # Problems the parser noticed that leave the file readable but wrong, e.g. a duplicate id
    # (the dicts above can hold only one element per id, so validation could not see it later).
    # ``validate()`` reports them together with its own findings.
    parse_issues: list[ValidationIssue] = field(default_factory=list, compare=False)
