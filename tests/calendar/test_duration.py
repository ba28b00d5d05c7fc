"""Working-time durations in timer texts: P3WD, PT1WH, PT30WM, P1WDT4WH."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucheng.calendar import WorkingDuration, parse_working_duration
from liucheng.engine.timers import parse_duration
from liucheng.errors import ExpressionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3WD", WorkingDuration(days=3)),
        ("PT1WH", WorkingDuration(hours=1)),
        ("PT30WM", WorkingDuration(minutes=30)),
        ("P1WDT4WH", WorkingDuration(1, 4)),
        ("P2WDT1WH30WM", WorkingDuration(2, 1, 30)),
        ("PT90WM", WorkingDuration(minutes=90)),
        ("p2wdt1wh", WorkingDuration(2, 1)),
        ("  P5WD \n", WorkingDuration(days=5)),
        ("+P5WD", WorkingDuration(days=5)),
        ("P0WD", WorkingDuration()),
    ],
)
def test_read_a_working_duration(text: str, expected: WorkingDuration) -> None:
    assert parse_working_duration(text) == expected


@pytest.mark.parametrize("text", ["P3D", "PT5M", "P2W", "P1Y2M10DT2H30M", "PT0.5S", "P", "x"])
def test_a_plain_iso_duration_is_not_a_working_one(text: str) -> None:
    assert parse_working_duration(text) is None


def test_plain_iso_texts_keep_their_meaning_for_the_timer_parser() -> None:
    assert parse_duration("P2W").days == 14  # weeks, as before


@pytest.mark.parametrize("value", [None, 3, timedelta(hours=1), WorkingDuration(days=1)])
def test_a_value_that_is_not_text_is_not_a_working_duration(value: object) -> None:
    assert parse_working_duration(value) is None


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("P1DT2WH", 2, "'D' is a calendar unit"),
        ("P1WDT2H", 6, "'H' is a calendar unit"),
        ("P2WT3WH", 2, "'W' alone means weeks"),
        ("-P1WD", 0, "must not be negative"),
        ("P1WDT-1WH", 5, "must not be negative"),
        ("PT1.5WH", 2, "whole numbers"),
        ("PT1WD", 4, "WD goes before 'T'"),
        ("P1WH", 3, "WH and WM go after 'T'"),
        ("P1WM", 3, "WH and WM go after 'T'"),
        ("P1WDT", 5, "expected a number after 'T'"),
        ("P1WDT1WM2WH", 10, "'WH' must come before 'WM'"),
        ("P1WDT1WH1WH", 10, "'WH' appears twice"),
        ("P1WDX", 4, "unexpected 'X'"),
        ("P1WD1WD", 4, "unexpected '1'"),
        ("PT1WHT1WM", 5, "unexpected 'T'"),
        ("PX1WD", 1, "expected a number"),
        ("P1234567890WD", 1, "too large"),
        ("R/P1WD", 0, "must start with 'P'"),
    ],
)
def test_a_bad_working_duration_names_the_text_and_position(
    text: str, position: int, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_working_duration(text)
    error = caught.value
    assert error.text == text
    assert error.position == position
    assert fragment in error.message
    assert f"at position {position}" in str(error)


def test_canonical_text() -> None:
    assert str(WorkingDuration(1, 4)) == "P1WDT4WH"
    assert str(WorkingDuration(minutes=30)) == "PT30WM"
    assert str(WorkingDuration(2, 1, 30)) == "P2WDT1WH30WM"
    assert str(WorkingDuration()) == "P0WD"
    assert WorkingDuration().is_zero
    assert WorkingDuration(1, 2, 3).working_time == timedelta(hours=2, minutes=3)


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_canonical_text_reads_back(days: int, hours: int, minutes: int) -> None:
    duration = WorkingDuration(days, hours, minutes)
    assert parse_working_duration(str(duration)) == duration


def test_fields_are_checked() -> None:
    with pytest.raises(ValueError, match="negative"):
        WorkingDuration(days=-1)
    with pytest.raises(TypeError):
        WorkingDuration(hours=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        WorkingDuration(days=True)
