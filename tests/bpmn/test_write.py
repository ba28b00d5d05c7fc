"""Writing: parse(write(parse(x))) == parse(x), DI kept, Python edits survive a round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.bpmn.model import (
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    DC_NS,
    DI_NS,
    XSI_NS,
    ZEEBE_NS,
    Bounds,
    Definitions,
    Diagram,
    Edge,
    EventDefinition,
    Expression,
    FlowNode,
    IoMapping,
    Label,
    Process,
    Scope,
    SequenceFlow,
    Shape,
)
from liucheng.bpmn.parse import parse_bpmn, parse_bpmn_file
from liucheng.bpmn.write import write_bpmn

from .conftest import GOOD_MODELS, INVALID_MODELS, MODELS

C = f"{{{CAMUNDA_NS}}}"


@pytest.mark.parametrize("path", GOOD_MODELS + INVALID_MODELS, ids=lambda p: p.name)
def test_round_trip(path: Path) -> None:
    defs = parse_bpmn_file(path)
    written = write_bpmn(defs)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    again = parse_bpmn(written)
    assert again == defs
    assert write_bpmn(again) == written  # writing is stable


def test_diagram_and_colours_are_written_back() -> None:
    written = write_bpmn(parse_bpmn_file(MODELS / "bpmnio_di.bpmn")).decode()
    assert 'bioc:stroke="#205022"' in written
    assert 'color:background-color="#c8e6c9"' in written
    assert '<dc:Bounds x="426.5" y="62" width="47" height="14"/>' in written
    assert 'isExpanded="true"' in written and 'isMarkerVisible="true"' in written
    assert 'xsi:type="bpmn:tFormalExpression" language="feel">approved = true<' in written


def test_default_namespace_files_stay_unprefixed() -> None:
    written = write_bpmn(parse_bpmn_file(MODELS / "handwritten.bpmn")).decode()
    assert f'<definitions xmlns="{BPMN_NS}"' in written
    assert 'xsi:type="tFormalExpression"' in written


def test_normalised_properties_are_not_written_twice() -> None:
    written = write_bpmn(parse_bpmn_file(MODELS / "camunda7.bpmn")).decode()
    assert written.count("camunda:assignee=") == 1
    written = write_bpmn(parse_bpmn_file(MODELS / "zeebe.bpmn")).decode()
    assert "camunda:" not in written  # everything came from zeebe: elements, kept verbatim


def test_property_edited_in_python_survives() -> None:
    defs = parse_bpmn_file(MODELS / "zeebe.bpmn")
    confirm = defs.processes["clinic_booking"].body.nodes["confirm"]
    confirm.properties["assignee"] = "bob"
    confirm.properties["form_key"] = "new-form"
    sms = defs.processes["clinic_booking"].body.nodes["send_sms"]
    sms.properties.update(service="OrderDelegate", service_type="class")
    again = parse_bpmn(write_bpmn(defs)).processes["clinic_booking"].body.nodes
    assert again["confirm"].properties["assignee"] == "bob"
    assert again["confirm"].attrs[C + "assignee"] == "bob"
    assert again["confirm"].properties["form_key"] == "new-form"
    assert again["confirm"].properties["candidate_groups"] == "front-desk"  # untouched
    assert again["send_sms"].properties["service"] == "OrderDelegate"
    assert again["send_sms"].properties["service_type"] == "class"


def test_service_change_replaces_the_camunda_service_attributes() -> None:
    defs = parse_bpmn_file(MODELS / "camunda7.bpmn")
    node = defs.processes["repair_order"].body.nodes["order_parts"]  # external, topic order-parts
    node.properties.update(service="org.example.Parts", service_type="class")
    again = parse_bpmn(write_bpmn(defs)).processes["repair_order"].body.nodes["order_parts"]
    assert again.properties == {"service": "org.example.Parts", "service_type": "class"}
    assert again.attrs == {C + "class": "org.example.Parts"}


def test_io_mappings_edited_in_python_survive() -> None:
    defs = parse_bpmn_file(MODELS / "zeebe.bpmn")
    node = defs.processes["clinic_booking"].body.nodes["confirm"]
    node.inputs = [IoMapping("a", "=1"), IoMapping("b", None)]
    written = write_bpmn(defs).decode()
    assert "zeebe:ioMapping" not in written
    again = parse_bpmn(written).processes["clinic_booking"].body.nodes["confirm"]
    assert again.inputs == [IoMapping("a", "=1"), IoMapping("b", None)]
    assert again.outputs == [IoMapping("bookingConfirmed", "=confirmed")]


def test_properties_without_a_camunda_attribute() -> None:
    defs = parse_bpmn_file(MODELS / "zeebe.bpmn")
    nodes = defs.processes["clinic_booking"].body.nodes
    nodes["confirm"].properties["correlation_key"] = "=order_id"
    nodes["confirm"].properties["pre_script"] = "x = 1"
    nodes["wait_payment"].properties["correlation_key"] = "=other"
    again = parse_bpmn(write_bpmn(defs)).processes["clinic_booking"].body.nodes
    assert again["confirm"].properties["correlation_key"] == "=order_id"
    assert again["confirm"].properties["pre_script"] == "x = 1"
    assert again["wait_payment"].properties["correlation_key"] == "=other"


def test_a_model_built_in_python_gets_standard_prefixes() -> None:
    defs = Definitions(id="d", target_namespace="urn:x")
    scope = Scope()
    scope.nodes["s"] = FlowNode(id="s", tag="startEvent", outgoing=["f"])
    scope.nodes["t"] = FlowNode(
        id="t", tag="userTask", incoming=["f"], properties={"assignee": "amy"}
    )
    scope.flows["f"] = SequenceFlow(id="f", source="s", target="t")
    defs.processes["p"] = Process(id="p", body=scope)
    written = write_bpmn(defs).decode()
    assert f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}"' in written
    assert f'xmlns:camunda="{CAMUNDA_NS}"' in written
    again = parse_bpmn(written)
    assert again.processes["p"].body.nodes["t"].properties == {"assignee": "amy"}
    assert again.processes["p"].body.nodes["t"].attrs == {C + "assignee": "amy"}


# -- property test: random well-formed models survive write → parse --------------------------

NAMESPACES = {
    "bpmn": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "di": DI_NS,
    "xsi": XSI_NS,
    "camunda": CAMUNDA_NS,
    "zeebe": ZEEBE_NS,
}
ACTIVITIES = ["task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask"]
GATEWAYS = ["exclusiveGateway", "parallelGateway", "inclusiveGateway"]
EVENTS = ["intermediateCatchEvent", "intermediateThrowEvent", "endEvent"]
CAMUNDA_ATTRS = {
    "assignee": "assignee",
    "candidateGroups": "candidate_groups",
    "formKey": "form_key",
    "priority": "priority",
    "resultVariable": "result_variable",
}

# XML can carry any character except controls (other than tab/newline), surrogates and
# non-characters; attribute values lose tabs/newlines to attribute-value normalisation.
xml_char = st.characters(blacklist_categories=("Cs", "Cc", "Cn"))
attr_text = st.text(xml_char, max_size=12)
body_text = st.text(st.one_of(xml_char, st.just("\n")), max_size=30)
stripped = attr_text.map(str.strip)
idents = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,6}", fullmatch=True)
coordinates = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@st.composite
def nodes_for(draw: st.DrawFn, prefix: str, depth: int) -> Scope:
    scope = Scope()
    count = draw(st.integers(1, 6))
    choices = ACTIVITIES + GATEWAYS + EVENTS + (["subProcess"] if depth else [])
    tags = ["startEvent", *draw(st.lists(st.sampled_from(choices), min_size=count, max_size=count))]
    for i, tag in enumerate(tags):
        node = FlowNode(id=f"{prefix}n{i}", tag=tag, name=draw(st.none() | attr_text))
        node.documentation = draw(st.none() | body_text)
        if tag in ACTIVITIES:
            for attr, key in draw(
                st.lists(st.sampled_from(sorted(CAMUNDA_ATTRS.items())), unique=True)
            ):
                value = draw(attr_text)
                node.attrs[C + attr] = value
                node.properties[key] = value
            if draw(st.booleans()):
                node.attrs["completionQuantity"] = "1"
        if tag == "scriptTask":
            node.script = draw(st.none() | body_text)
            node.script_format = draw(st.none() | st.sampled_from(["python", "feel"]))
        if tag == "intermediateCatchEvent":
            node.event_definitions.append(
                EventDefinition(
                    "timer",
                    id=draw(st.none() | idents.map(lambda s: prefix + "td_" + s)),
                    timer_type=draw(st.sampled_from(["timeDate", "timeDuration", "timeCycle"])),
                    timer=Expression(draw(stripped), draw(st.none() | st.just("cron"))),
                )
            )
        if tag == "endEvent" and draw(st.booleans()):
            node.event_definitions.append(EventDefinition("terminate"))
        if tag == "subProcess":
            node.body = draw(nodes_for(f"{node.id}_", depth - 1))
        scope.nodes[node.id] = node
    ids = list(scope.nodes)
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=8))
    for k, (source, target) in enumerate(pairs):
        flow = SequenceFlow(id=f"{prefix}f{k}", source=source, target=target)
        flow.name = draw(st.none() | attr_text)
        if draw(st.booleans()):
            flow.condition = Expression(draw(stripped), draw(st.none() | st.just("feel")))
        scope.flows[flow.id] = flow
        scope.nodes[source].outgoing.append(flow.id)
        scope.nodes[target].incoming.append(flow.id)
    for node in scope.nodes.values():
        if node.tag in ("exclusiveGateway", "inclusiveGateway") and node.outgoing:
            node.default = draw(st.none() | st.sampled_from(node.outgoing))
    return scope


@st.composite
def definitions(draw: st.DrawFn) -> Definitions:
    body = draw(nodes_for("", depth=1))
    process = Process(id="proc", name=draw(st.none() | attr_text), body=body)
    process.is_executable = draw(st.booleans())
    process.documentation = draw(st.none() | body_text)
    diagram = Diagram(id="dia", plane_id="plane", plane_element="proc")
    for node_id in body.nodes:
        x, y, w, h = (draw(coordinates) for _ in range(4))
        bounds = st.builds(Bounds, coordinates, coordinates, coordinates, coordinates)
        label = draw(st.none() | st.builds(Label, st.none() | bounds))
        diagram.shapes.append(Shape(f"{node_id}_di", node_id, Bounds(x, y, w, h), label=label))
    for flow_id in body.flows:
        points = draw(st.lists(st.tuples(coordinates, coordinates), max_size=4))
        diagram.edges.append(Edge(f"{flow_id}_di", flow_id, points))
    return Definitions(
        id="defs",
        target_namespace="urn:test",
        processes={"proc": process},
        diagrams=[diagram],
        namespaces=dict(NAMESPACES),
    )


@settings(max_examples=150, deadline=None)
@given(definitions())
def test_random_models_survive_write_and_parse(defs: Definitions) -> None:
    assert parse_bpmn(write_bpmn(defs)) == defs
