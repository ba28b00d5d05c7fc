"""Declared variable types (``liucheng:variables``) hold for values set from outside — start,
complete, correlate, set_variables — and a refused value changes nothing.  A file reference is a
value of its own: stored, restored and read by expressions (``id_scan.size``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from liucheng import Engine, FileRef, HistoryKind, InstanceState, VariableTypeError

from .conftest import kinds
from .steps import PERSIST, complete_at, pause

Deploy = Callable[..., Engine]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SCAN = FileRef(
    "身份证.jpg",
    "image/jpeg",
    6_000_000,
    sha256="a" * 64,
    uri="files://2026/03/id-scan.jpg",
)
PHOTO = FileRef("car.png", "image/png", 120_000, attachment="att-1")
GOOD: dict[str, Any] = {
    "applicant": "李雷",
    "deposit": Decimal("50.00"),
    "external": True,
    "visit_day": date(2026, 3, 9),
    "vehicle": {"plate": "沪A·12345", "axles": 2, "weight": Decimal("1.5"), "tags": []},
    "id_scan": SCAN,
    "photos": [PHOTO, SCAN],
}


@PERSIST
def test_values_of_the_declared_types_run_through(deploy: Deploy, persist: bool) -> None:
    engine = deploy("test_typed_variables")
    case = engine.start("pass_request", GOOD, business_key="P-1")
    assert case.active == ("check_scan",)  # the scan is a large JPEG: FEEL read its fields
    case = complete_at(engine, case.id, "check_scan", {"external": False}, persist=persist)
    case = complete_at(engine, case.id, "fill_in", {"deposit": 80}, persist=persist)
    pause(engine, case.id, persist)
    paid = datetime(2026, 3, 2, 10, 30, tzinfo=SHANGHAI)
    case = engine.correlate("deposit_paid", key="P-1", variables={"paid_at": paid})
    assert case.state is InstanceState.COMPLETED
    assert case.variables == {**GOOD, "external": False, "deposit": 80, "paid_at": paid}
    assert type(case.variables["id_scan"]) is FileRef
    assert engine.path(case.id) == [
        "start",
        "scan_size",
        "check_scan",
        "merge",
        "fill_in",
        "wait_payment",
        "end",
    ]
    assert kinds(engine, case.id, HistoryKind.FLOW_TAKEN)[:2] == ["f1", "large"]
    history = engine.history(case.id)
    started = next(e for e in history if e.kind is HistoryKind.VARIABLES_CHANGED)
    assert started.variables == GOOD


def test_a_small_scan_skips_the_check(deploy: Deploy) -> None:
    engine = deploy("test_typed_variables")
    small = FileRef("id.pdf", "application/pdf", 900_000, uri="files://id.pdf")
    case = engine.start("pass_request", {"id_scan": small})
    assert case.active == ("fill_in",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("applicant", 42, "variable 'applicant' must be text, not a whole number (42)"),
        ("deposit", 50.5, "variable 'deposit' must be a number (int or Decimal), not a float"),
        ("deposit", True, "variable 'deposit' must be a number (int or Decimal), not a boolean"),
        ("external", "yes", "variable 'external' must be a boolean, not text ('yes')"),
        ("visit_day", datetime(2026, 3, 9, tzinfo=SHANGHAI), "must be a date, not a date-time"),
        ("paid_at", datetime(2026, 3, 9), "with a time zone, not a naive date-time"),
        ("vehicle", "沪A", "variable 'vehicle' must be a JSON object or list, not text"),
        ("vehicle", {"when": date(2026, 1, 1)}, "must be a JSON object or list, not an object"),
        ("id_scan", {"name": "id.jpg"}, "must be a file reference (liucheng.FileRef), not an"),
        ("photos", [PHOTO, "x"], "must be a list of file references (liucheng.FileRef), not a"),
        ("photos", PHOTO, "must be a list of file references (liucheng.FileRef), not a file"),
    ],
)
def test_a_wrong_type_is_refused_at_start(
    deploy: Deploy, name: str, value: object, message: str
) -> None:
    engine = deploy("test_typed_variables")
    with pytest.raises(VariableTypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.start("pass_request", {name: value})
    assert engine.instances() == []


def test_a_wrong_type_changes_nothing_on_complete_correlate_or_set(deploy: Deploy) -> None:
    engine = deploy("test_typed_variables")
    small = FileRef("id.pdf", "application/pdf", 10, uri="files://id.pdf")
    case = engine.start("pass_request", {"id_scan": small}, business_key="P-2")
    (task,) = engine.tasks(instance=case.id)
    history = len(engine.history(case.id))
    with pytest.raises(VariableTypeError, match="variable 'deposit'"):
        engine.complete(task.id, {"applicant": "韩梅梅", "deposit": "fifty"})
    with pytest.raises(VariableTypeError, match="variable 'external'"):
        engine.set_variables(case.id, {"external": 1})
    assert engine.tasks(instance=case.id) == [task]
    engine.complete(task.id, {"deposit": Decimal("50")})
    history = len(engine.history(case.id))
    with pytest.raises(VariableTypeError, match="variable 'paid_at'"):
        engine.correlate("deposit_paid", key="P-2", variables={"paid_at": "today"})
    assert len(engine.history(case.id)) == history
    assert engine.instance(case.id).variables == {"id_scan": small, "deposit": Decimal("50")}
    assert engine.instance(case.id).active == ("wait_payment",)
    assert engine.set_variables(case.id, {"external": None}).variables["external"] is None


def test_undeclared_variables_take_any_value(deploy: Deploy) -> None:
    engine = deploy("test_typed_variables")
    case = engine.start("pass_request", {"remark": 1.5, "id_scan": None})
    assert case.variables == {"remark": 1.5, "id_scan": None}
