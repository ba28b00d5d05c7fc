"""Parsing: every element, attribute and vendor extension lands where the model says."""

from __future__ import annotations

import time

import pytest

from liucheng.bpmn.model import (
    ACTIVITI_NS,
    BPMN_NS,
    CAMUNDA_NS,
    FLOWABLE_NS,
    SPIFF_NS,
    ZEEBE_NS,
    Bounds,
    Expression,
    IoMapping,
    Label,
)
from liucheng.bpmn.parse import FLOW_NODE_TAGS, parse_bpmn, parse_bpmn_file
from liucheng.errors import BpmnParseError

from .conftest import MODELS

C = f"{{{CAMUNDA_NS}}}"


def test_bpmnio_file_with_diagram() -> None:
    defs = parse_bpmn_file(MODELS / "bpmnio_di.bpmn")
    assert defs.id == "Definitions_visitor"
    assert defs.exporter == "Camunda Modeler" and defs.exporter_version == "5.20.0"
    assert defs.namespaces["bpmn"] == BPMN_NS
    assert defs.namespaces["bioc"] == "http://bpmn.io/schema/bpmn/biocolor/1.0"
    assert defs.attrs["{http://camunda.org/schema/modeler/1.0}executionPlatform"] == (
        "Camunda Platform"
    )
    process = defs.processes["visitor_pass"]
    assert process.name == "Visitor pass" and process.is_executable
    assert process.documentation == "A visitor asks for a one-day pass; security approves it."
    assert process.line == 3
    nodes = process.body.nodes
    assert list(nodes)[:3] == ["StartEvent_request", "Task_review", "Event_review_late"]
    review = nodes["Task_review"]
    assert (review.tag, review.name, review.line) == ("userTask", "Review request", 8)
    assert review.documentation == "Check the visitor's identity document."
    assert review.incoming == ["Flow_to_review"] and review.outgoing == ["Flow_to_decide"]

    late = nodes["Event_review_late"]
    assert late.attached_to == "Task_review" and late.cancel_activity is False
    timer = late.event_definitions[0]
    assert (timer.kind, timer.id, timer.timer_type) == (
        "timer",
        "TimerEventDefinition_1",
        "timeDuration",
    )
    assert timer.timer == Expression("P2D")

    gateway = nodes["Gateway_decide"]
    assert gateway.default == "Flow_rejected"
    approved = process.body.flows["Flow_approved"]
    assert (approved.source, approved.target, approved.name) == (
        "Gateway_decide",
        "SubProcess_issue",
        "yes",
    )
    assert approved.condition == Expression("approved = true", language="feel")
    assert process.body.flows["Flow_rejected"].condition is None

    sub = nodes["SubProcess_issue"]
    assert sub.body is not None
    assert list(sub.body.nodes) == ["Event_issue_start", "Task_print", "Event_issue_end"]
    assert list(sub.body.flows) == ["Flow_issue_1", "Flow_issue_2"]
    printing = sub.body.nodes["Task_print"]
    assert printing.script_format == "python"
    assert printing.script == 'pass_number = "V-" + str(case_number)\nprinted = True'

    rejected = nodes["Event_rejected"]
    assert rejected.event_kind == "error" and rejected.event_definitions[0].ref == "Error_rejected"
    assert defs.errors["Error_rejected"].error_code == "REJECTED"

    kinds = [a.split(">")[0] for a in process.body.artifacts_xml]
    assert [k.split()[0] for k in kinds] == [
        "<bpmn:textAnnotation",
        "<bpmn:association",
        "<bpmn:dataObjectReference",
        "<bpmn:dataObject",
    ]
    assert "Security office only" in process.body.artifacts_xml[0]


def test_diagram_interchange() -> None:
    defs = parse_bpmn_file(MODELS / "bpmnio_di.bpmn")
    (diagram,) = defs.diagrams
    assert (diagram.id, diagram.plane_id, diagram.plane_element) == (
        "BPMNDiagram_1",
        "BPMNPlane_1",
        "visitor_pass",
    )
    shapes = {s.element: s for s in diagram.shapes}
    start = shapes["StartEvent_request"]
    assert start.bounds == Bounds(179, 99, 36, 36)
    assert start.label == Label(Bounds(158, 142, 79, 14))
    review = shapes["Task_review"]
    assert review.attrs["{http://bpmn.io/schema/bpmn/biocolor/1.0}stroke"] == "#205022"
    assert review.attrs[
        "{http://www.omg.org/spec/BPMN/non-normative/color/1.0}background-color"
    ] == ("#c8e6c9")
    assert shapes["Gateway_decide"].attrs == {"isMarkerVisible": "true"}
    assert shapes["Gateway_decide"].label == Label(Bounds(426.5, 62, 47, 14))
    assert shapes["SubProcess_issue"].is_expanded is True
    assert shapes["Task_review"].is_expanded is None
    edges = {e.element: e for e in diagram.edges}
    assert edges["Flow_to_review"].waypoints == [(215, 117), (270, 117)]
    assert edges["Flow_approved"].label == Label(Bounds(494, 99, 18, 14))


def test_camunda7_extensions() -> None:
    defs = parse_bpmn_file(MODELS / "camunda7.bpmn")
    process = defs.processes["repair_order"]
    assert process.properties == {
        "candidate_starter_groups": "customer-service",
        "version_tag": "3",
    }
    assert process.attrs[C + "historyTimeToLive"] == "180"
    assert len(process.extension_xml) == 1 and "camunda:properties" in process.extension_xml[0]
    nodes = process.body.nodes
    assert nodes["start"].properties == {
        "initiator": "requester",
        "form_key": "embedded:app:forms/repair-request.html",
    }
    assess = nodes["assess"]
    assert assess.properties == {
        "assignee": "${engineer}",
        "candidate_groups": "engineers,supervisors",
        "candidate_users": "wang,li",
        "form_key": "camunda-forms:deployment:assess.form",
        "due_date": "${dateTime().plusDays(2).toDate()}",
        "priority": "60",
    }
    # kept verbatim too, by Clark name
    assert assess.attrs[C + "assignee"] == "${engineer}"
    assert assess.inputs == [
        IoMapping("orderId", "${order.id}"),
        IoMapping("cleared", None),
        IoMapping("checklist", None),  # a camunda:list: see validate.nested_io_mappings
    ]
    assert assess.outputs == [IoMapping("severity", "${assessment.severity}")]
    assert len(assess.extension_xml) == 2
    assert assess.extension_xml[0].startswith(
        '<camunda:inputOutput xmlns:camunda="http://camunda.org/schema/1.0/bpmn">'
    )
    assert "camunda:taskListener" in assess.extension_xml[1]
    assert nodes["classify"].properties == {
        "result_variable": "category",
        "decision_ref": "repair_category",
        "map_decision_result": "singleEntry",
    }
    assert nodes["order_parts"].properties == {"service": "order-parts", "service_type": "external"}
    assert nodes["bill"].properties == {
        "service": "org.example.BillDelegate",
        "service_type": "class",
    }
    assert nodes["bill"].attrs["isForCompensation"] == "false"
    assert nodes["notify"].properties == {"service": "${notifier}", "service_type": "delegate"}
    assert nodes["notify"].attrs["completionQuantity"] == "1"
    assert nodes["score"].properties == {
        "expression": "${scoring.score(order)}",
        "result_variable": "score",
    }
    assert "camunda:executionListener" in nodes["end"].extension_xml[0]


def test_zeebe_extensions() -> None:
    defs = parse_bpmn_file(MODELS / "zeebe.bpmn")
    process = defs.processes["clinic_booking"]
    assert process.properties == {"version_tag": "v2"}
    nodes = process.body.nodes
    assert nodes["confirm"].properties == {
        "assignee": "=desk_user",
        "candidate_groups": "front-desk",
        "candidate_users": "zhao, qian",
        "form_key": "confirm-booking",
        "due_date": '=now() + duration("PT4H")',
        "priority": "75",
    }
    assert nodes["confirm"].inputs == [IoMapping("patientName", "=patient.name")]
    assert nodes["confirm"].outputs == [IoMapping("bookingConfirmed", "=confirmed")]
    assert nodes["send_sms"].properties == {"service": "sms-sender", "service_type": "zeebe"}
    assert any("zeebe:taskHeaders" in x for x in nodes["send_sms"].extension_xml)
    assert nodes["fee"].properties == {
        "decision_ref": "clinic_fee",
        "result_variable": "fee",
        "map_decision_result": "value",  # Zeebe stores a decision's value as it is
    }
    assert nodes["total"].properties == {
        "expression": "=fee.amount + 10",
        "result_variable": "total",
    }
    # Zeebe keeps the correlation key on the message; the nodes that use it get it normalised.
    assert nodes["wait_payment"].message_ref == "Message_paid"
    assert nodes["wait_payment"].properties == {"correlation_key": "=booking_id"}
    assert nodes["arrived"].properties == {"correlation_key": "=patient.id"}
    assert defs.messages["Message_paid"].name == "payment_received"
    assert "zeebe:subscription" in defs.messages["Message_paid"].extension_xml[0]
    assert defs.namespaces["zeebe"] == ZEEBE_NS


def test_flowable_and_activiti_extensions() -> None:
    defs = parse_bpmn_file(MODELS / "flowable.bpmn")
    assert defs.namespaces[""] == BPMN_NS  # the default namespace
    assert defs.expression_language == "http://www.w3.org/1999/XPath"
    assert defs.attrs["typeLanguage"] == "http://www.w3.org/2001/XMLSchema"
    process = defs.processes["leave_request"]
    assert process.properties == {"candidate_starter_groups": "staff"}
    nodes = process.body.nodes
    assert nodes["startEvent1"].properties == {"initiator": "employee", "form_key": "leave-form"}
    assert nodes["approve"].properties == {
        "assignee": "${manager}",
        "candidate_groups": "managers",
        "due_date": "P3D",
        "priority": "40",
    }
    assert nodes["book_leave"].properties == {
        "service": "org.example.BookLeave",
        "service_type": "class",
    }
    assert nodes["hr_sync"].properties == {"service": "hr-sync", "service_type": "external"}
    assert nodes["calc"].properties == {"expression": "${leave.days()}", "result_variable": "days"}
    # Flowable's diagram uses omgdc/omgdi prefixes and decimal bounds; edges carry flowable attrs.
    edge = defs.diagrams[0].edges[0]
    assert edge.attrs[f"{{{FLOWABLE_NS}}}sourceDockerX"] == "15.0"
    assert edge.waypoints[0] == (129.94, 178.0)
    # no incoming/outgoing in the file: derived from the flows
    assert nodes["approve"].incoming == ["s1"] and nodes["approve"].outgoing == ["s2"]

    activiti = parse_bpmn_file(MODELS / "activiti.bpmn").processes["expense"].body.nodes
    assert activiti["start"].properties == {"initiator": "claimant"}
    assert activiti["check"].properties == {
        "candidate_users": "finance1,finance2",
        "form_key": "expense.form",
    }
    assert activiti["pay"].properties == {"service": "${payer}", "service_type": "delegate"}
    assert activiti["pay"].attrs == {f"{{{ACTIVITI_NS}}}delegateExpression": "${payer}"}


def test_spiffworkflow_extensions() -> None:
    nodes = parse_bpmn_file(MODELS / "spiff.bpmn").processes["property_repair"].body.nodes
    inspect = nodes["inspect"]
    assert inspect.properties == {
        "pre_script": "visit_started = True",
        "post_script": "if leak:\n    urgent = True",
    }
    assert "spiffworkflow:instructionsForEndUser" in inspect.extension_xml[0]
    assert nodes["triage"].properties == {"decision_ref": "repair_triage"}
    plumber = nodes["call_plumber"]
    assert plumber.properties == {"service": "http/PostRequest", "service_type": "spiff"}
    assert "spiffworkflow:parameters" in plumber.extension_xml[0]
    assert "spiffworkflow:properties" in plumber.extension_xml[1]
    assert nodes["summary"].script == "summary = f\"{flat_no}: {plumber_response['status']}\""


def test_collaboration_pools_lanes_and_message_flows() -> None:
    defs = parse_bpmn_file(MODELS / "collaboration.bpmn")
    (collab,) = defs.collaborations
    assert [(p.id, p.process_ref) for p in collab.participants] == [
        ("Participant_applicant", "applicant"),
        ("Participant_office", "pass_office"),
        ("Participant_bank", None),
    ]
    apply, pay = collab.message_flows
    assert (apply.source, apply.target, apply.name, apply.message_ref) == (
        "send_application",
        "office_start",
        "application",
        "Message_application",
    )
    assert (pay.source, pay.target) == ("Participant_bank", "office_paid")
    assert [x.split()[0] for x in collab.other_xml] == [
        "<bpmn:documentation",
        "<bpmn:textAnnotation",
        "<bpmn:association",
    ]
    office = defs.processes["pass_office"]
    assert office.lane_set_id == "LaneSet_office"
    front, security = office.lanes
    assert front.flow_node_refs == ["office_start", "office_check"] and front.line == 26
    assert [lane.id for lane in security.child_lanes] == [
        "Lane_security_day",
        "Lane_security_finance",
    ]
    assert security.child_lanes[1].flow_node_refs == ["office_paid", "office_end"]
    assert defs.processes["applicant"].is_executable is False
    assert defs.diagrams[0].shapes[0].is_horizontal is True


def test_handwritten_file_gets_incoming_and_outgoing_from_its_flows() -> None:
    defs = parse_bpmn_file(MODELS / "handwritten.bpmn")
    assert defs.namespaces == {"": BPMN_NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    nodes = defs.processes["deposit_refund"].body.nodes
    assert nodes["start"].incoming == [] and nodes["start"].outgoing == ["s1"]
    assert nodes["ok"].outgoing == ["refund_it", "keep"]
    assert nodes["join"].incoming == ["s3", "s4"]
    flow = defs.processes["deposit_refund"].body.flows["refund_it"]
    assert flow.condition == Expression("pass_returned and not damaged")  # white space stripped
    assert defs.processes["deposit_refund"].is_executable  # absent isExecutable means true


def test_every_flow_node_and_event_definition() -> None:
    defs = parse_bpmn_file(MODELS / "all_elements.bpmn")
    process = defs.processes["everything"]
    nodes = process.body.nodes
    tags = {n.tag for n in nodes.values()}
    assert tags >= FLOW_NODE_TAGS - {
        "implicitThrowEvent",
        "callChoreography",
        "choreographyTask",
        "subChoreography",
    }
    assert nodes["start_timer"].event_definitions[0].timer_type == "timeDate"
    cycle = nodes["start_cycle"].event_definitions[0]
    assert (cycle.timer_type, cycle.timer) == ("timeCycle", Expression("0 0 9 * * MON-FRI", "cron"))
    assert nodes["start_message"].event_definitions[0].ref == "Msg"
    assert nodes["start_signal"].event_definitions[0].ref == "Sig"
    conditional = nodes["start_conditional"].event_definitions[0]
    assert conditional.condition == Expression("${stock < 10}")
    assert conditional.attrs == {f"{C}variableName": "stock"}
    assert nodes["catch_link"].event_definitions[0].link_name == "B"
    assert nodes["catch_link"].event_definitions[0].id == "link_catch"
    compensate = nodes["throw_compensate"].event_definitions[0]
    assert compensate.kind == "compensate"
    assert compensate.attrs == {"activityRef": "task", "waitForCompletion": "true"}
    assert [d.kind for d in nodes["throw_multiple"].event_definitions] == ["message", "signal"]
    assert nodes["b_error"].event_definitions[0].attrs == {f"{C}errorCodeVariable": "code"}
    assert nodes["b_escalation"].cancel_activity is False
    assert nodes["b_cancel"].event_kind == "cancel"
    assert nodes["end_terminate"].event_kind == "terminate"
    assert "tx_cancel" not in nodes  # it lives in the transaction's body
    tx = nodes["tx"]
    assert tx.body is not None and tx.body.nodes["tx_cancel"].event_kind == "cancel"
    assert tx.attrs == {"method": "##Compensate"}

    assert nodes["task"].attrs == {
        "isForCompensation": "false",
        "completionQuantity": "1",
        "startQuantity": "1",
    }
    assert nodes["user"].implementation == "##unspecified"
    assert nodes["send"].message_ref == "Msg"
    assert nodes["receive"].attrs == {"instantiate": "false"}
    assert nodes["script"].script == "var total = a < b ? a : b;"  # CDATA
    assert nodes["service"].attrs == {"operationRef": "Operation_bill"}
    assert [x.split()[0] for x in nodes["service"].other_xml] == [
        "<bpmn:ioSpecification",
        "<bpmn:dataInputAssociation",
    ]
    multi = nodes["multi"].loop
    assert multi is not None and (multi.kind, multi.is_sequential) == ("multiInstance", True)
    assert "camunda:collection" in multi.xml
    looped = nodes["looped"].loop
    assert looped is not None and looped.kind == "standard" and not looped.is_sequential
    assert nodes["call"].attrs["calledElement"] == "other_process"
    assert nodes["event_sub"].triggered_by_event
    event_sub = nodes["event_sub"].body
    assert event_sub is not None and event_sub.nodes["event_sub_start"].is_interrupting is False
    sub = nodes["sub"].body
    assert sub is not None and "inner" in sub.artifacts_xml[0]
    adhoc = nodes["adhoc"]
    assert adhoc.body is not None and list(adhoc.body.nodes) == ["adhoc_a", "adhoc_b"]
    assert "completionCondition" in adhoc.other_xml[0]
    assert "activationCondition" in nodes["complex"].other_xml[0]
    assert nodes["events"].attrs == {"eventGatewayType": "Exclusive", "instantiate": "false"}

    roots = [x.split()[0] for x in defs.other_roots_xml]
    assert roots == ["<bpmn:itemDefinition", "<bpmn:dataStore", "<bpmn:interface", "<bpmn:category"]
    assert [x.split()[0] for x in process.body.artifacts_xml] == [
        "<bpmn:ioSpecification",
        "<bpmn:property",
        "<bpmn:dataStoreReference",
        "<bpmn:group",
    ]
    assert defs.errors["Err"].attrs == {f"{C}errorMessage": "it broke"}
    assert defs.escalations["Esc"].escalation_code == "LATE"
    assert defs.signals["Sig"].name == "alarm"


def test_unknown_bpmn_element_is_a_parse_error_naming_the_line() -> None:
    with pytest.raises(BpmnParseError, match="unknown BPMN element 'usrTask'") as err:
        parse_bpmn_file(MODELS / "invalid" / "unknown_element.bpmn")
    assert err.value.line == 5
    assert err.value.element == "p"


def test_unknown_bpmn_child_of_a_node_is_a_parse_error() -> None:
    data = (
        f'<definitions xmlns="{BPMN_NS}"><process id="p"><task id="t">\n'
        "<outgoin>f1</outgoin></task></process></definitions>"
    )
    with pytest.raises(BpmnParseError, match="unknown BPMN element 'outgoin'") as err:
        parse_bpmn(data, source="typo.bpmn")
    assert (err.value.line, err.value.element, err.value.source) == (2, "t", "typo.bpmn")


def test_a_flow_node_without_id_is_a_parse_error() -> None:
    data = (
        f'<definitions xmlns="{BPMN_NS}"><process id="p">\n<task name="x"/></process></definitions>'
    )
    with pytest.raises(BpmnParseError, match="'task' has no id") as err:
        parse_bpmn(data)
    assert err.value.line == 2


def test_duplicate_ids_are_recorded_for_validation() -> None:
    defs = parse_bpmn_file(MODELS / "invalid" / "duplicate_ids.bpmn")
    (issue,) = defs.parse_issues
    assert issue.element == "work" and issue.line == 6
    assert "line 5" in issue.message and "line 6" in issue.message
    assert defs.processes["p"].body.nodes["work"].line == 5  # the first one is kept


def test_foreign_vendor_ids_are_not_duplicates() -> None:
    form = f'<camunda:formField xmlns:camunda="{CAMUNDA_NS}" id="name"/>'
    data = (
        f'<definitions xmlns="{BPMN_NS}"><process id="p">'
        f"<userTask id='a'><extensionElements>{form}</extensionElements></userTask>"
        f"<userTask id='b'><extensionElements>{form}</extensionElements></userTask>"
        "</process></definitions>"
    )
    assert parse_bpmn(data).parse_issues == []


def test_vendor_precedence_camunda_first() -> None:
    data = f"""<definitions xmlns="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}"
        xmlns:zeebe="{ZEEBE_NS}" xmlns:flowable="{FLOWABLE_NS}" xmlns:spiffworkflow="{SPIFF_NS}">
      <process id="p"><serviceTask id="t" camunda:assignee="c" flowable:assignee="f"
          flowable:class="F" flowable:priority="9">
        <extensionElements>
          <zeebe:taskDefinition type="z"/>
          <zeebe:assignmentDefinition assignee="z" candidateGroups="zg"/>
          <spiffworkflow:serviceTaskOperator id="s"/>
        </extensionElements>
      </serviceTask></process></definitions>"""
    node = parse_bpmn(data).processes["p"].body.nodes["t"]
    assert node.properties == {
        "assignee": "c",
        "service": "z",
        "service_type": "zeebe",
        "candidate_groups": "zg",
        "priority": "9",
    }


def test_parsing_200_nodes_is_fast() -> None:
    parts = [f'<definitions xmlns="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}"><process id="p">']
    parts.append('<startEvent id="n0"><outgoing>f0</outgoing></startEvent>')
    for i in range(1, 200):
        parts.append(
            f'<userTask id="n{i}" name="Task {i}" camunda:assignee="u{i}">'
            f"<incoming>f{i - 1}</incoming><outgoing>f{i}</outgoing></userTask>"
        )
    parts.append('<endEvent id="n200"><incoming>f199</incoming></endEvent>')
    parts += [
        f'<sequenceFlow id="f{i}" sourceRef="n{i}" targetRef="n{i + 1}"/>' for i in range(200)
    ]
    parts.append("</process></definitions>")
    data = "".join(parts).encode()
    parse_bpmn(data)  # warm up
    started = time.perf_counter()
    rounds = 10
    for _ in range(rounds):
        defs = parse_bpmn(data)
    per_parse = (time.perf_counter() - started) / rounds
    assert len(defs.processes["p"].body.nodes) == 201
    assert per_parse < 0.05, f"{per_parse * 1000:.1f} ms per parse"
