"""Validation: every issue is reported at once, naming the element, its line and the file."""

from __future__ import annotations

import pytest

from liucheng.bpmn.model import FlowNode
from liucheng.bpmn.parse import parse_bpmn_file
from liucheng.bpmn.validate import SUPPORTED, check, validate
from liucheng.errors import BpmnValidationError, ValidationIssue

from .conftest import MODELS

RUNNABLE = ["bpmnio_di", "zeebe", "flowable", "activiti", "spiff", "collaboration", "handwritten"]


def issues_of(name: str, **kwargs: bool) -> list[ValidationIssue]:
    return validate(parse_bpmn_file(MODELS / "invalid" / f"{name}.bpmn"), **kwargs)


def summary(issues: list[ValidationIssue]) -> list[tuple[str | None, int | None, str]]:
    return [(i.element, i.line, i.message) for i in issues]


@pytest.mark.parametrize("name", RUNNABLE)
def test_good_models_have_no_issues(name: str) -> None:
    defs = parse_bpmn_file(MODELS / f"{name}.bpmn")
    assert validate(defs) == []
    check(defs)


def test_issue_names_file_line_and_element() -> None:
    (issue,) = issues_of("gateway_no_outgoing")
    assert issue.source is not None and issue.source.endswith("gateway_no_outgoing.bpmn")
    assert (issue.element, issue.line) == ("fork", 5)
    assert str(issue).endswith(
        "gateway_no_outgoing.bpmn, line 5, element 'fork': parallel gateway 'fork' has no "
        "outgoing sequence flow"
    )


def test_dangling_flow() -> None:
    assert summary(issues_of("dangling_flow")) == [
        ("f2", 7, "sequence flow 'f2' refers to unknown target 'nowhere'")
    ]


def test_flow_into_another_scope() -> None:
    issues = summary(issues_of("cross_scope_flow"))
    assert (
        "f_jump",
        11,
        "sequence flow 'f_jump' (in 'p') connects to 'inner', which lies in another scope ('sub')",
    ) in issues


def test_incoming_outgoing_lists_that_disagree_with_the_flows() -> None:
    assert summary(issues_of("inconsistent_lists")) == [
        ("work", 7, "'work' lists incoming flow 'f_ghost', which does not exist here"),
        ("work", 7, "'work' lists outgoing flow 'f1', but that flow starts at 'start'"),
        ("work", 7, "sequence flow 'f2' starts at 'work', but 'work' does not list it as outgoing"),
    ]


def test_default_flow_checks() -> None:
    assert summary(issues_of("bad_default")) == [
        (
            "choose",
            5,
            "default flow 'f_other' of exclusive gateway 'choose' is not one of its outgoing "
            "sequence flows",
        ),
        ("a", 6, "default flow 'f_a' of task 'a' is not one of its outgoing sequence flows"),
        ("fork", 7, "parallel gateway 'fork' cannot have a default flow"),
    ]


def test_several_unconditional_flows_from_an_exclusive_gateway() -> None:
    assert summary(issues_of("two_unconditional")) == [
        (
            "choose",
            5,
            "exclusive gateway 'choose' has 2 unconditional outgoing flows; mark one as default",
        )
    ]


def test_process_without_start_event() -> None:
    issues = summary(issues_of("no_start", for_execution=False))
    assert issues == [("p", 3, "process 'p' has no start event")]  # the event subprocess is fine
    assert summary(issues_of("no_start")) == issues  # and it runs


def test_subprocess_without_none_start_event() -> None:
    issues = summary(issues_of("subprocess_no_start"))
    assert ("sub", 5, "subprocess 'sub' has no none start event") in issues
    assert (
        "sub_timer",
        6,
        "start event 'sub_timer' with a timer event definition is not supported yet",
    ) not in issues  # timer start events are supported in general


def test_boundary_events() -> None:
    assert summary(issues_of("bad_boundary")) == [
        ("on_unknown", 7, "boundary event 'on_unknown' is attached to unknown element 'ghost'"),
        (
            "on_gateway",
            10,
            "boundary event 'on_gateway' is attached to 'gw', which is a exclusive gateway, "
            "not an activity",
        ),
    ]


def test_references_to_undeclared_messages_errors_escalations() -> None:
    assert summary(issues_of("unknown_refs")) == [
        ("start", 4, "start event 'start' refers to unknown message 'no_such_message'"),
        ("wait", 7, "receive task 'wait' refers to unknown message 'no_such_message_either'"),
        (
            "escalate",
            8,
            "intermediate throw event 'escalate' refers to unknown escalation 'no_such_escalation'",
        ),
        ("fail", 11, "end event 'fail' refers to unknown error 'no_such_error'"),
    ]


def test_unreachable_nodes_except_compensation_handlers() -> None:
    assert summary(issues_of("unreachable")) == [
        (
            "orphan",
            6,
            "user task 'orphan' has no incoming sequence flow, so it can never be reached",
        )
    ]


def test_unsupported_elements_are_named() -> None:
    assert summary(issues_of("unsupported")) == [
        ("mix", 5, "complex gateway 'mix' is not supported yet"),
        ("when_paid", 6, "ad-hoc subprocess 'when_paid' is not supported yet"),
        ("undo", 9, "start event 'undo' with a compensate event definition is not supported yet"),
    ]


def test_supported_set_can_be_extended() -> None:
    defs = parse_bpmn_file(MODELS / "invalid" / "unsupported.bpmn")
    wider = dict(SUPPORTED)
    wider["complexGateway"] = frozenset({None})
    wider["adHocSubProcess"] = frozenset({None})
    wider["startEvent"] = SUPPORTED["startEvent"] | {"compensate"}
    issues = validate(defs, supported=wider)
    assert issues == []


def test_nested_camunda_io_mapping_is_unsupported() -> None:
    issues = validate(parse_bpmn_file(MODELS / "camunda7.bpmn"))
    assert summary(issues) == [
        (
            "assess",
            12,
            "input/output parameter 'checklist' of user task 'assess' uses a camunda:list, "
            "camunda:map or camunda:script value, which is not supported yet",
        )
    ]


def test_duplicate_ids_name_both_lines() -> None:
    (issue,) = issues_of("duplicate_ids")
    assert issue.element == "work" and issue.line == 6
    assert "by 'task' on line 5 and by 'task' on line 6" in issue.message


def test_duplicate_ids_across_scopes_in_a_model_built_in_python() -> None:
    defs = parse_bpmn_file(MODELS / "bpmnio_di.bpmn")
    sub = defs.processes["visitor_pass"].body.nodes["SubProcess_issue"].body
    assert sub is not None
    sub.nodes["Task_review"] = FlowNode(id="Task_review", tag="task")
    messages = [i.message for i in validate(defs)]
    assert (
        "id 'Task_review' is used twice: by a user task on line 8 and by a task on line None"
        in messages
    )


def test_non_executable_process() -> None:
    assert summary(issues_of("not_executable")) == [
        ("p", 3, "process 'p' is not marked executable")
    ]
    assert issues_of("not_executable", for_execution=False) == []


def test_documentary_pool_beside_an_executable_process_is_skipped() -> None:
    defs = parse_bpmn_file(MODELS / "collaboration.bpmn")
    del defs.processes["applicant"].body.nodes["applicant_start"]  # would break it if checked
    assert validate(defs) == []


def test_check_raises_with_every_issue() -> None:
    defs = parse_bpmn_file(MODELS / "invalid" / "unknown_refs.bpmn")
    with pytest.raises(BpmnValidationError) as err:
        check(defs)
    assert len(err.value.issues) == 4
    assert "no_such_error" in str(err.value) and "no_such_message_either" in str(err.value)
