"""What modelling tools put in their files comes back from a parse/write cycle.

Each test is a tiny hand-written model reproducing one construct that the MIWG reference models
or the tools' exports of them use (see docs/miwg.md), and that an earlier writer lost or changed.
"""

from __future__ import annotations

from lxml import etree

from liucheng.bpmn.model import BPMN_NS, BPMNDI_NS, DC_NS, XSI_NS, Bounds, Definitions, Label
from liucheng.bpmn.parse import parse_bpmn
from liucheng.bpmn.write import write_bpmn

B = f"{{{BPMN_NS}}}"
ROOT = (
    f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:bpmndi="{BPMNDI_NS}" xmlns:dc="{DC_NS}" '
    f'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="{XSI_NS}" '
    'xmlns:v="urn:vendor" xmlns:types="urn:types" id="d" targetNamespace="urn:t">'
)


def round_trip(xml: str) -> tuple[Definitions, str]:
    """Parse, write, parse again: the model must be equal and writing stable."""
    defs = parse_bpmn(xml)
    written = write_bpmn(defs)
    again = parse_bpmn(written)
    assert again == defs
    assert write_bpmn(again) == written
    return defs, written.decode()


def test_verbatim_fragments_keep_their_own_namespace_declarations() -> None:
    # A default-namespace extension element under a root that binds a prefix to the same URI,
    # and a local prefix used only inside an attribute value: lxml, given the fragments as
    # elements, would rename the first to v:count and drop the declaration the second needs.
    _, written = round_trip(
        ROOT + '<bpmn:process id="p" isExecutable="false">'
        '<bpmn:task id="t"><bpmn:extensionElements><count xmlns="urn:vendor">3</count>'
        "</bpmn:extensionElements></bpmn:task>"
        '<bpmn:dataObject id="o" itemSubjectRef="it:Item" xmlns:it="urn:types"/>'
        "</bpmn:process></bpmn:definitions>"
    )
    assert '<count xmlns="urn:vendor">3</count>' in written
    obj = etree.fromstring(written.encode()).find(f".//{B}dataObject")
    assert obj is not None and obj.nsmap["it"] == "urn:types"


def test_declarations_repeating_the_root_are_left_out() -> None:
    _, written = round_trip(
        ROOT + '<bpmn:process id="p"><bpmn:task id="t"><bpmn:extensionElements>'
        '<v:colour v:name="red"/></bpmn:extensionElements></bpmn:task>'
        "</bpmn:process></bpmn:definitions>"
    )
    assert '<v:colour v:name="red"/>' in written


def test_di_namespaces_declared_on_the_diagram_stay_there() -> None:
    defs, written = round_trip(
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="urn:t">'
        '<process id="p"><startEvent id="s"/></process>'
        f'<bpmndi:BPMNDiagram xmlns:bpmndi="{BPMNDI_NS}" xmlns:dc="{DC_NS}" id="dia">'
        '<bpmndi:BPMNPlane bpmnElement="p"><bpmndi:BPMNShape bpmnElement="s">'
        '<dc:Bounds x="1" y="2" width="36" height="36"/></bpmndi:BPMNShape></bpmndi:BPMNPlane>'
        "</bpmndi:BPMNDiagram></definitions>"
    )
    assert set(defs.namespaces) == {""}
    assert "<bpmndi:BPMNPlane bpmnElement" in written  # and no id="" invented
    assert 'id=""' not in written


def test_labels_label_styles_and_plane_attributes() -> None:
    defs, written = round_trip(
        ROOT + '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/></bpmn:process>'
        '<bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p" v:width="900">'
        '<bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="1" y="2" width="36" '
        'height="36"/><bpmndi:BPMNLabel id="s_lab" labelStyle="ls"><dc:Bounds x="0" y="40" '
        'width="50" height="14"/></bpmndi:BPMNLabel></bpmndi:BPMNShape>'
        '<bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="37" y="20"/>'
        '<di:waypoint x="100" y="20"/><bpmndi:BPMNLabel labelStyle="ls"/></bpmndi:BPMNEdge>'
        '</bpmndi:BPMNPlane><bpmndi:BPMNLabelStyle id="ls"><dc:Font name="Arial" size="9"/>'
        "</bpmndi:BPMNLabelStyle></bpmndi:BPMNDiagram></bpmn:definitions>"
    )
    (diagram,) = defs.diagrams
    assert diagram.plane_attrs == {"{urn:vendor}width": "900"}
    shape, edge = diagram.shapes[0], diagram.edges[0]
    assert shape.label == Label(Bounds(0, 40, 50, 14), {"id": "s_lab", "labelStyle": "ls"})
    assert edge.label == Label(None, {"labelStyle": "ls"})
    assert '<bpmndi:BPMNLabel labelStyle="ls"/>' in written
    assert '<dc:Font name="Arial" size="9"/>' in written


def test_expression_ids_and_types_documentation_attributes() -> None:
    defs, written = round_trip(
        ROOT + '<bpmn:process id="p">'
        '<bpmn:documentation id="pd" textFormat="text/plain">Process notes</bpmn:documentation>'
        '<bpmn:exclusiveGateway id="g"/><bpmn:task id="a"/><bpmn:task id="b"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="a">'
        '<bpmn:documentation id="f1d"/>'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" id="c1">x &gt; 1'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="b">'
        '<bpmn:conditionExpression xsi:type="bpmn:tExpression">otherwise'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        "</bpmn:process></bpmn:definitions>"
    )
    process = defs.processes["p"]
    assert process.documentation_attrs == {"id": "pd", "textFormat": "text/plain"}
    f1, f2 = process.body.flows["f1"], process.body.flows["f2"]
    assert f1.condition is not None and f1.condition.attrs == {"id": "c1"}
    assert f1.documentation == "" and f1.documentation_attrs == {"id": "f1d"}
    assert f2.condition is not None and f2.condition.text == "otherwise"
    assert 'xsi:type="bpmn:tExpression">otherwise' in written


def test_missing_is_executable_stays_missing() -> None:
    defs, written = round_trip(ROOT + '<bpmn:process id="p"/></bpmn:definitions>')
    assert defs.processes["p"].is_executable  # read as executable, as before
    assert "isExecutable" not in written
    defs.processes["p"].is_executable = False
    assert 'isExecutable="false"' in write_bpmn(defs).decode()


def test_children_of_pools_lanes_message_flows_and_event_definitions() -> None:
    defs, written = round_trip(
        ROOT + '<bpmn:collaboration id="c">'
        '<bpmn:participant id="pool" processRef="p"><bpmn:documentation>Customer'
        '</bpmn:documentation><bpmn:participantMultiplicity minimum="2" maximum="5"/>'
        "</bpmn:participant>"
        '<bpmn:participant id="other"><bpmn:extensionElements><v:x/></bpmn:extensionElements>'
        "</bpmn:participant>"
        '<bpmn:messageFlow id="mf" sourceRef="other" targetRef="pool">'
        "<bpmn:documentation>order</bpmn:documentation></bpmn:messageFlow>"
        "</bpmn:collaboration>"
        '<bpmn:process id="p" isExecutable="false">'
        '<bpmn:laneSet id="ls" name="Roles"><bpmn:documentation>who</bpmn:documentation>'
        '<bpmn:lane id="l1"><bpmn:extensionElements><v:y/></bpmn:extensionElements>'
        '<bpmn:flowNodeRef>throw</bpmn:flowNodeRef><bpmn:childLaneSet id="cls"/></bpmn:lane>'
        "</bpmn:laneSet>"
        '<bpmn:intermediateThrowEvent id="throw"><bpmn:linkEventDefinition id="ld" name="L">'
        "<bpmn:documentation>jump</bpmn:documentation><bpmn:target>ld2</bpmn:target>"
        "</bpmn:linkEventDefinition></bpmn:intermediateThrowEvent>"
        '<bpmn:sequenceFlow id="f" sourceRef="throw" targetRef="throw">'
        "<bpmn:categoryValueRef>cv</bpmn:categoryValueRef></bpmn:sequenceFlow>"
        "</bpmn:process>"
        '<bpmn:message id="m"><bpmn:documentation>an order</bpmn:documentation></bpmn:message>'
        "</bpmn:definitions>"
    )
    (collab,) = defs.collaborations
    assert len(collab.participants[0].other_xml) == 2
    assert "participantMultiplicity" in written and "<bpmn:target>ld2</bpmn:target>" in written
    process = defs.processes["p"]
    assert process.lane_set_attrs == {"name": "Roles"} and len(process.lane_set_xml) == 1
    assert process.lanes[0].child_lane_set_attrs == {"id": "cls"}
    assert "<bpmn:categoryValueRef>cv</bpmn:categoryValueRef>" in written
    assert "an order" in written and "<v:y/>" in written


def test_documentation_holding_elements_is_kept_verbatim() -> None:
    defs, written = round_trip(
        ROOT + '<bpmn:process id="p"><bpmn:task id="t"><bpmn:documentation>'
        '<v:text lang="de">Rechnung prüfen</v:text></bpmn:documentation></bpmn:task>'
        "</bpmn:process></bpmn:definitions>"
    )
    task = defs.processes["p"].body.nodes["t"]
    assert task.documentation is None
    assert '<v:text lang="de">Rechnung prüfen</v:text>' in written


def test_an_empty_loop_maximum_means_none() -> None:
    defs, _ = round_trip(
        ROOT + '<bpmn:process id="p"><bpmn:task id="t">'
        '<bpmn:standardLoopCharacteristics loopMaximum=""/></bpmn:task>'
        "</bpmn:process></bpmn:definitions>"
    )
    loop = defs.processes["p"].body.nodes["t"].loop
    assert loop is not None and loop.loop_maximum is None


def test_ids_inside_extension_content_are_not_bpmn_ids() -> None:
    # Some tools write their extension elements in the default (BPMN) namespace, and repeat
    # there the id of the element they describe.
    defs = parse_bpmn(
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="urn:t"><process id="p">'
        '<intermediateThrowEvent id="e"><extensionElements><Model id="m1"/></extensionElements>'
        '<messageEventDefinition id="m1"/></intermediateThrowEvent></process></definitions>'
    )
    assert defs.parse_issues == []


def test_an_import_written_after_the_root_elements_moves_to_the_front() -> None:
    defs, written = round_trip(
        ROOT + '<bpmn:dataStore id="ds" name="Ledger"/><bpmn:process id="p"/>'
        '<bpmn:import namespace="urn:types" location="types.xsd" importType="urn:xsd"/>'
        "</bpmn:definitions>"
    )
    assert [x.split()[0] for x in defs.other_roots_xml] == ["<bpmn:import", "<bpmn:dataStore"]
    assert written.index("<bpmn:import") < written.index("<bpmn:dataStore")
