"""Link events: a throw goes on at the catch of the same name in its scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import BpmnValidationError, Engine, InstanceState

from .conftest import MODELS
from .steps import PERSIST, complete_at

Deploy = Callable[..., Engine]


@PERSIST
def test_link_throw_continues_at_its_catch(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_link_events")
    case = engine.start("two_pages")
    case = complete_at(engine, case.id, "page_one", persist=persist)
    assert case.active == ("page_two",)
    case = complete_at(engine, case.id, "page_two", persist=persist)
    assert case.state is InstanceState.COMPLETED
    assert engine.path(case.id) == [
        "start",
        "page_one",
        "to_page_two",
        "from_page_one",
        "page_two",
        "end",
    ]


def test_link_without_its_catch_is_refused() -> None:
    model = (MODELS / "test_link_events.bpmn").read_bytes()
    broken = model.replace(
        b'<linkEventDefinition name="page2"/></intermediateThrowEvent>',
        b'<linkEventDefinition name="page3"/></intermediateThrowEvent>',
    )
    with pytest.raises(BpmnValidationError, match="no link catch event named 'page3'"):
        Engine().deploy(broken)
