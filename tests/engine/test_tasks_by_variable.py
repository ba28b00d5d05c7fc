"""Finding open tasks by the values of their cases' variables (the guard types a plate)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from liucheng import Engine, FileRef, LiuchengError


def _cases(deploy: Callable[..., Engine]) -> tuple[Engine, dict[str, str]]:
    engine = deploy("test_tasks_by_variable")
    ids = {}
    for plate, deposit, external, until in [
        ("沪A·12345", Decimal("50.00"), True, date(2027, 6, 30)),
        ("沪B·67890", Decimal("0"), False, date(2027, 1, 31)),
        ("苏E·24680", Decimal("50.00"), True, date(2027, 1, 31)),
    ]:
        case = engine.start(
            "inspect", {"plate": plate, "deposit": deposit, "external": external, "until": until}
        )
        ids[plate] = case.id
    return engine, ids


def test_tasks_are_found_by_text_number_boolean_and_date(deploy: Callable[..., Engine]) -> None:
    engine, ids = _cases(deploy)

    def cases(**variables: object) -> set[str]:
        return {t.instance_id for t in engine.tasks(variables=variables)}

    assert cases(plate="沪A·12345") == {ids["沪A·12345"]}
    assert cases(deposit=50) == {ids["沪A·12345"], ids["苏E·24680"]}  # 50 == 50.00
    assert cases(external=False) == {ids["沪B·67890"]}
    assert cases(until=date(2027, 1, 31)) == {ids["沪B·67890"], ids["苏E·24680"]}
    assert cases(deposit=Decimal("50.00"), until=date(2027, 1, 31)) == {ids["苏E·24680"]}
    assert cases(plate="京C·00000") == set()
    assert cases(nonexistent="x") == set()
    # Combined with the other filters.
    found = engine.tasks(group="security_office", variables={"external": True})
    assert {t.instance_id for t in found} == {ids["沪A·12345"], ids["苏E·24680"]}


def test_a_completed_task_is_no_longer_found(deploy: Callable[..., Engine]) -> None:
    engine, _ = _cases(deploy)
    [task] = engine.tasks(variables={"plate": "沪A·12345"})
    engine.complete(task.id)
    assert engine.tasks(variables={"plate": "沪A·12345"}) == []


def test_values_that_cannot_be_searched_are_refused(deploy: Callable[..., Engine]) -> None:
    engine, _ = _cases(deploy)
    with pytest.raises(LiuchengError, match="not by list"):
        engine.tasks(variables={"plate": ["a"]})
    with pytest.raises(LiuchengError, match="not by NoneType"):
        engine.tasks(variables={"plate": None})
    scan = FileRef("id.pdf", "application/pdf", 900, uri="files://id.pdf")
    with pytest.raises(LiuchengError, match="not by FileRef"):  # the same on every store
        engine.tasks(variables={"plate": scan})
