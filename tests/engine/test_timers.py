"""BPMN timer definitions: ISO 8601 dates, durations and cycles (liucheng.engine.timers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucheng.engine.timers import (
    Cycle,
    Duration,
    format_datetime,
    parse_cycle,
    parse_duration,
    parse_time_date,
    parse_timer,
    timer_due,
)
from liucheng.errors import ExpressionError
from liucheng.expr.feel.values import YearsMonthsDuration

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[arg-type, misc]


def elapsed(a: datetime, b: datetime) -> timedelta:
    """Real time from a to b (Python subtracts two times of one zone by wall clock)."""
    return b.astimezone(UTC) - a.astimezone(UTC)


# == durations ====================================================================================


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("P3D", Duration(days=3), "P3D"),
        ("PT5M", Duration(minutes=5), "PT5M"),
        ("P1Y2M10DT2H30M", Duration(1, 2, 10, 2, 30), "P1Y2M10DT2H30M"),
        ("P2W", Duration(days=14), "P14D"),
        ("P1W2D", Duration(days=9), "P9D"),
        ("PT0.5S", Duration(seconds=Decimal("0.5")), "PT0.5S"),
        ("PT1,25S", Duration(seconds=Decimal("1.25")), "PT1.25S"),
        ("PT1.500S", Duration(seconds=Decimal("1.5")), "PT1.5S"),
        ("PT0S", Duration(), "PT0S"),
        ("P0D", Duration(), "PT0S"),
        ("PT36H", Duration(hours=36), "PT36H"),
        ("P1M", Duration(months=1), "P1M"),
        ("PT1M", Duration(minutes=1), "PT1M"),
        ("P1MT1M", Duration(months=1, minutes=1), "P1MT1M"),
        ("  PT5M\n", Duration(minutes=5), "PT5M"),
        ("pt5m", Duration(minutes=5), "PT5M"),
        ("+PT5M", Duration(minutes=5), "PT5M"),
    ],
)
def test_duration_forms(text: str, expected: Duration, canonical: str) -> None:
    duration = parse_duration(text)
    assert duration == expected
    assert str(duration) == canonical
    assert parse_duration(canonical) == duration


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "the timer duration is empty"),
        ("   ", 0, "the timer duration is empty"),
        ("P", 1, "expected a number after 'P'"),
        ("PT", 2, "expected a number after 'T'"),
        ("P1DT", 4, "expected a number after 'T'"),
        ("PD", 1, "expected a number after 'P'"),
        ("-P1D", 0, "timer duration must not be negative"),
        ("P-1D", 1, "timer duration must not be negative"),
        ("PT-5M", 2, "timer duration must not be negative"),
        ("P1", 2, "expected a unit (Y, M, W or D) after '1'"),
        ("PT1", 3, "expected a unit (H, M or S) after '1'"),
        ("P1D2Y", 4, "'Y' is out of order"),
        ("PT1S1M", 5, "'M' is out of order"),
        ("P1D1D", 4, "'D' appears twice"),
        ("PTT", 2, "'T' appears twice"),
        ("P1DT1HT", 6, "'T' appears twice"),
        ("PT1.5H", 2, "only seconds may have a fraction"),
        ("P1.5D", 1, "only seconds may have a fraction"),
        ("PT1.S", 4, "expected a digit after the decimal point"),
        ("P1H", 2, "'H' must come after 'T'"),
        ("PT1D", 3, "'D' must come before 'T'"),
        ("P1X", 2, "'X' is not a duration unit"),
        ("3D", 0, "a duration must start with 'P'"),
        ("P1D x", 3, "unexpected ' ' after 'D'"),
        ("P9999999999999Y", 1, "too large"),
    ],
)
def test_duration_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_duration(text)
    assert caught.value.text == text
    assert caught.value.position == position
    assert message in caught.value.message


def test_duration_error_names_text_and_position() -> None:
    with pytest.raises(ExpressionError, match=r"expression 'P' at position 1: expected a number"):
        parse_duration("P")


def test_duration_refuses_non_text() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        parse_duration(5)  # type: ignore[arg-type]


def test_duration_constructor_checks_fields() -> None:
    assert Duration(seconds=5) == Duration(seconds=Decimal(5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        Duration(days=-1)
    with pytest.raises(ValueError, match="negative"):
        Duration(seconds=Decimal("-0.5"))
    with pytest.raises(TypeError):
        Duration(days=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (sh(2026, 1, 31, 9), "P1M", sh(2026, 2, 28, 9)),  # clamped to the month end
        (sh(2028, 1, 31, 9), "P1M", sh(2028, 2, 29, 9)),  # leap year
        (sh(2028, 2, 29, 9), "P1Y", sh(2029, 2, 28, 9)),
        (sh(2028, 2, 29, 9), "P4Y", sh(2032, 2, 29, 9)),
        (sh(2026, 3, 31, 9), "P1M", sh(2026, 4, 30, 9)),
        (sh(2026, 1, 31, 9), "P1M1D", sh(2026, 3, 1, 9)),  # months first, then days
        (sh(2026, 11, 30, 9), "P3M", sh(2027, 2, 28, 9)),
        (sh(2026, 12, 31, 23), "PT1H", sh(2027, 1, 1, 0)),
        (sh(2026, 1, 1), "P1Y2M10DT2H30M", sh(2027, 3, 11, 2, 30)),
        (sh(2026, 1, 1), "PT0.5S", sh(2026, 1, 1, 0, 0, 0, 500_000)),
        (sh(2026, 1, 1), "PT0.0000004S", sh(2026, 1, 1)),  # rounded to the microsecond
        (sh(2026, 1, 1), "PT0.0000006S", sh(2026, 1, 1, 0, 0, 0, 1)),
        (sh(2026, 2, 27), "P2W", sh(2026, 3, 13)),
    ],
)
def test_add_to_is_calendar_correct(start: datetime, text: str, expected: datetime) -> None:
    result = parse_duration(text).add_to(start)
    assert result == expected
    assert result.tzinfo is SH


def test_days_keep_the_wall_clock_across_daylight_saving() -> None:
    before = datetime(2026, 3, 7, 9, tzinfo=NY)  # the clocks go forward on 8 March
    assert parse_duration("P1D").add_to(before) == datetime(2026, 3, 8, 9, tzinfo=NY)
    assert elapsed(before, parse_duration("P1D").add_to(before)) == timedelta(hours=23)
    # hours are elapsed time
    assert parse_duration("PT24H").add_to(before) == datetime(2026, 3, 8, 10, tzinfo=NY)
    # a wall-clock time in the gap moves forward by the gap
    gap = parse_duration("P1D").add_to(datetime(2026, 3, 7, 2, 30, tzinfo=NY))
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))
    autumn = datetime(2026, 10, 31, 9, tzinfo=NY)  # the clocks go back on 1 November
    assert elapsed(autumn, parse_duration("P1D").add_to(autumn)) == timedelta(hours=25)


def test_add_to_naive_and_fixed_offset() -> None:
    assert parse_duration("P1MT1H").add_to(datetime(2026, 1, 31, 9)) == datetime(2026, 2, 28, 10)
    plus8 = timezone(timedelta(hours=8))
    result = parse_duration("P1D").add_to(datetime(2026, 1, 1, tzinfo=plus8))
    assert result == datetime(2026, 1, 2, tzinfo=plus8) and result.tzinfo is plus8


def test_add_to_past_year_9999_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="past the year 9999"):
        parse_duration("P1M").add_to(sh(9999, 12, 1))
    with pytest.raises(ExpressionError, match="past the year 9999"):
        parse_duration("PT1H").add_to(datetime(9999, 12, 31, 23, tzinfo=UTC))


def test_as_timedelta() -> None:
    assert parse_duration("P2DT3H4M5.25S").as_timedelta() == timedelta(
        days=2, hours=3, minutes=4, seconds=5.25
    )
    assert parse_duration("P1W").as_timedelta() == timedelta(days=7)
    with pytest.raises(ExpressionError, match="no fixed length"):
        parse_duration("P1M").as_timedelta()
    with pytest.raises(ExpressionError, match="no fixed length"):
        parse_duration("P1Y").as_timedelta()


# == date-times ===================================================================================


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", sh(2026, 12, 1)),
        ("2026-12-01T09:30", sh(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:15", sh(2026, 12, 1, 9, 30, 15)),
        ("2026-12-01T09", sh(2026, 12, 1, 9)),
        ("2026-12-01 09:30", sh(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:15.25", sh(2026, 12, 1, 9, 30, 15, 250_000)),
        ("2026-12-01T09:30:15.1234567", sh(2026, 12, 1, 9, 30, 15, 123_456)),
        ("20261201T093015", sh(2026, 12, 1, 9, 30, 15)),
        ("2026-12-01T24:00:00", sh(2026, 12, 2)),
        ("2026-12-01T01:00:00Z", sh(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+08:00", sh(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+0800", sh(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+08", sh(2026, 12, 1, 9)),
        ("2026-12-01T03:00:00-05:00", sh(2026, 12, 1, 16)),
        ("2026-12-01T09:00:00[Asia/Shanghai]", sh(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+08:00[Asia/Shanghai]", sh(2026, 12, 1, 9)),
    ],
)
def test_time_date_forms(text: str, expected: datetime) -> None:
    result = parse_time_date(text, SH)
    assert result == expected
    assert result.utcoffset() is not None


def test_time_date_keeps_the_given_offset_or_zone() -> None:
    assert parse_time_date("2026-12-01T09:00:00", SH).tzinfo is SH
    assert parse_time_date("2026-12-01T09:00:00Z", SH).tzinfo is UTC
    assert parse_time_date("2026-12-01T09:00:00+05:30", SH).utcoffset() == timedelta(
        hours=5, minutes=30
    )
    assert parse_time_date("2026-12-01T09:00:00[America/New_York]", SH).tzinfo is NY
    assert parse_time_date("2026-12-01", NY) == datetime(2026, 12, 1, tzinfo=NY)


def test_time_date_in_daylight_saving_gap_and_overlap() -> None:
    gap = parse_time_date("2026-03-08T02:30:00", NY)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))
    first = parse_time_date("2026-11-01T01:30:00-04:00[America/New_York]", NY)
    second = parse_time_date("2026-11-01T01:30:00-05:00[America/New_York]", NY)
    assert (first.fold, second.fold) == (0, 1)
    assert elapsed(first, second) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "the timer date is empty"),
        ("26-01-01", 0, "expected a 4-digit year"),
        ("2026-1-01", 5, "expected a 2-digit month"),
        ("2026-01", 7, "expected '-' between the month and the day"),
        ("2026-13-01", 5, "there is no month 13"),
        ("2026-02-29", 8, "there is no day 29 in February 2026"),
        ("0000-01-01", 0, "the year must be between 0001 and 9999"),
        ("2026-12-01X", 10, "expected 'T' between the date and the time"),
        ("2026-12-01T", 11, "expected a 2-digit hour"),
        ("2026-12-01T25:00", 11, "the hour must be between 00 and 23"),
        ("2026-12-01T24:30", 11, "the hour must be between 00 and 23"),
        ("2026-12-01T10:60", 11, "the minutes must be between 00 and 59"),
        ("2026-12-01T10:00:60", 11, "leap seconds are not supported"),
        ("2026-12-01T10:00:61", 11, "the seconds must be between 00 and 59"),
        ("2026-12-01T10:00:00.", 20, "expected a digit after the decimal point"),
        ("2026-12-01T10:00+25:00", 20, "the offset must be less than 24 hours"),
        ("2026-12-01T10:00+8", 17, "expected a 2-digit hour offset"),
        ("2026-12-01T10:00Zx", 17, "unexpected 'x' after the date-time"),
        ("2026-12-01T10:00[Nowhere/City]", 17, "unknown time zone 'Nowhere/City'"),
        ("2026-12-01T10:00[../../etc/passwd]", 17, "unknown time zone"),
        ("2026-12-01T10:00[Asia/Shanghai", 16, "expected ']' after the time zone name"),
        ("2026-11-01T01:30-03:00[America/New_York]", 16, "does not match the time zone"),
    ],
)
def test_time_date_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_time_date(text, SH)
    assert caught.value.position == position
    assert message in caught.value.message


def test_format_datetime_round_trips_zone() -> None:
    for value in (
        sh(2026, 1, 1, 10),
        datetime(2026, 1, 1, 10, tzinfo=UTC),
        datetime(2026, 1, 1, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY),
    ):
        again = parse_time_date(format_datetime(value), SH)
        assert again == value
        assert again.utcoffset() == value.utcoffset()
        assert type(again.tzinfo) is type(value.tzinfo)
    assert format_datetime(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert format_datetime(sh(2026, 1, 1, 10)) == "2026-01-01T10:00:00+08:00[Asia/Shanghai]"


# == cycles =======================================================================================


def due_times(cycle: Cycle, armed_at: datetime, limit: int = 50) -> list[datetime]:
    """Every due time of a cycle armed at ``armed_at``, as the engine would walk them."""
    result: list[datetime] = []
    due = cycle.first_due(armed_at)
    while due is not None and len(result) < limit:
        result.append(due)
        due = cycle.next_due(due, len(result), armed_at=armed_at)
    return result


def test_cycle_with_count_fires_that_many_times() -> None:
    cycle = parse_cycle("R5/PT10M", SH)
    assert cycle == Cycle(Duration(minutes=10), 5)
    armed = sh(2026, 1, 1, 9)
    assert due_times(cycle, armed) == [armed + timedelta(minutes=10 * n) for n in range(1, 6)]
    # without armed_at the interval is added to the previous due time
    assert cycle.next_due(sh(2026, 1, 1, 9, 10), 1) == sh(2026, 1, 1, 9, 20)
    assert cycle.next_due(sh(2026, 1, 1, 9, 50), 5) is None


def test_unbounded_cycle() -> None:
    cycle = parse_cycle("R/PT1H", SH)
    assert cycle.repetitions is None
    times = due_times(cycle, sh(2026, 1, 1), limit=100)
    assert len(times) == 100
    assert times[-1] == sh(2026, 1, 5, 4)


def test_cycle_with_start_fires_at_the_start() -> None:
    cycle = parse_cycle("R3/2026-01-01T10:00:00+08:00/P1D", SH)
    assert cycle.start == sh(2026, 1, 1, 10)
    assert due_times(cycle, sh(2025, 12, 1)) == [sh(2026, 1, n, 10) for n in (1, 2, 3)]


def test_cycle_armed_after_its_start_skips_past_occurrences_and_counts_them() -> None:
    cycle = parse_cycle("R3/2026-01-01T10:00:00/P1D", SH)
    assert due_times(cycle, sh(2026, 1, 2, 12)) == [sh(2026, 1, 3, 10)]
    assert due_times(cycle, sh(2026, 1, 2, 10)) == [sh(2026, 1, 2, 10), sh(2026, 1, 3, 10)]
    assert cycle.first_due(sh(2026, 1, 3, 11)) is None
    unbounded = parse_cycle("R/2020-01-01T10:00:00/PT1M", SH)
    assert unbounded.first_due(sh(2026, 6, 1, 12, 0, 30)) == sh(2026, 6, 1, 12, 1)


def test_cycle_with_duration_and_end() -> None:
    cycle = parse_cycle("R/P1D/2026-01-04T09:00:00Z", SH)
    assert cycle.start is None and cycle.end == datetime(2026, 1, 4, 9, tzinfo=UTC)
    # 17:00 in Shanghai is 09:00 UTC: the end is inclusive
    assert due_times(cycle, sh(2026, 1, 1, 17)) == [sh(2026, 1, n, 17) for n in (2, 3, 4)]
    assert cycle.first_due(sh(2026, 1, 4, 17)) is None


def test_cycle_with_start_and_end_repeats_their_difference() -> None:
    cycle = parse_cycle("R5/2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", SH)
    assert cycle.interval == Duration(hours=24)
    assert cycle.repetitions == 5
    times = due_times(cycle, datetime(2025, 1, 1, tzinfo=UTC))
    assert times == [datetime(2026, 1, n, tzinfo=UTC) for n in range(1, 6)]


def test_cycle_end_as_constructor_argument_and_start_end_extension() -> None:
    cycle = Cycle(Duration(hours=1), end=sh(2026, 1, 1, 12))
    assert str(cycle) == "R/PT1H/2026-01-01T12:00:00+08:00[Asia/Shanghai]"
    assert due_times(cycle, sh(2026, 1, 1, 9)) == [sh(2026, 1, 1, h) for h in (10, 11, 12)]
    both = Cycle(Duration(days=1), 10, start=sh(2026, 1, 1, 9), end=sh(2026, 1, 3, 9))
    assert parse_cycle(str(both), SH) == both
    assert due_times(both, sh(2025, 1, 1)) == [sh(2026, 1, n, 9) for n in (1, 2, 3)]


def test_monthly_cycle_stays_on_the_last_day() -> None:
    cycle = parse_cycle("R4/2026-01-31T09:00:00/P1M", SH)
    assert due_times(cycle, sh(2026, 1, 1)) == [
        sh(2026, 1, 31, 9),
        sh(2026, 2, 28, 9),
        sh(2026, 3, 31, 9),
        sh(2026, 4, 30, 9),
    ]
    armed_relative = parse_cycle("R3/P1M", SH)
    armed = sh(2025, 12, 31, 9)
    assert due_times(armed_relative, armed) == [
        sh(2026, 1, 31, 9),
        sh(2026, 2, 28, 9),
        sh(2026, 3, 31, 9),
    ]
    # without armed_at the previous due time is the only anchor
    assert armed_relative.next_due(sh(2026, 2, 28, 9), 2) == sh(2026, 3, 28, 9)


def test_daily_cycle_keeps_wall_clock_across_daylight_saving() -> None:
    cycle = parse_cycle("R/2026-03-06T09:00:00/P1D", NY)
    times = due_times(cycle, datetime(2026, 3, 1, tzinfo=NY), limit=4)
    assert [(t.day, t.hour) for t in times] == [(6, 9), (7, 9), (8, 9), (9, 9)]


@pytest.mark.parametrize(
    "text",
    [
        "R5/PT10M",
        "R/PT1H",
        "R3/2026-01-01T10:00:00+08:00/P1D",
        "R/P1D/2026-12-31T00:00:00Z",
        "R/2026-01-01T09:00:00/P1M/2026-12-31T09:00:00",
        "R2/2026-01-01T09:00:00-05:00[America/New_York]/PT1H",
    ],
)
def test_cycle_text_round_trips(text: str) -> None:
    cycle = parse_cycle(text, SH)
    again = parse_cycle(str(cycle), SH)
    assert again == cycle
    assert str(again) == str(cycle)
    if cycle.start is not None:
        assert again.start is not None and again.start.tzinfo == cycle.start.tzinfo


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "the timer cycle is empty"),
        ("PT1H", 0, "a timer cycle must start with 'R'"),
        ("0 0/5 * * * ?", 0, "cron expressions are not supported"),
        ("R", 1, "expected a number or '/' after 'R'"),
        ("R5", 2, "expected '/' after 'R5'"),
        ("R5PT1H", 2, "expected '/' after 'R5'"),
        ("R0/PT1H", 1, "must repeat at least once"),
        ("R/", 2, "expected a duration or a date-time after '/'"),
        ("R/PT0S", 2, "must be at least a microsecond"),
        ("R/PT0.0000009S", 2, "must be at least a microsecond"),
        ("R/-PT1H", 2, "timer duration must not be negative"),
        ("R/PT1X", 5, "'X' is not a duration unit"),
        ("R/2026-01-01T00:00Z", 19, "expected '/' and an interval after the start"),
        ("R/P1D/P1D", 6, "expected a date-time here"),
        ("R/2026-02-30T00:00Z/P1D", 10, "there is no day 30 in February 2026"),
        ("R/2026-01-02T00:00Z/2026-01-01T00:00Z", 20, "must be after its start"),
        ("R/2026-01-02T00:00Z/P1D/2026-01-01T00:00Z", 24, "must not be before its start"),
        ("R/a/b/c/d", 7, "too many '/'"),
    ],
)
def test_cycle_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_cycle(text, SH)
    assert caught.value.text == text
    assert caught.value.position == position
    assert message in caught.value.message


def test_cycle_constructor_checks() -> None:
    with pytest.raises(ValueError, match="at least a microsecond"):
        Cycle(Duration())
    with pytest.raises(ValueError, match="at least once"):
        Cycle(Duration(days=1), 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        Cycle(Duration(days=1), start=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="before its start"):
        Cycle(Duration(days=1), start=sh(2026, 1, 2), end=sh(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Cycle(Duration(days=1)).first_due(datetime(2026, 1, 1))


# == the engine's entry point =====================================================================

ARMED = sh(2026, 1, 31, 9)


@pytest.mark.parametrize(
    ("timer_type", "value", "expected"),
    [
        ("timeDate", "2026-12-01T09:00:00", sh(2026, 12, 1, 9)),
        ("timeDate", "2026-12-01", sh(2026, 12, 1)),
        ("timeDate", datetime(2026, 12, 1, 9), sh(2026, 12, 1, 9)),
        ("timeDate", datetime(2026, 12, 1, 1, tzinfo=UTC), sh(2026, 12, 1, 9)),
        ("timeDate", date(2026, 12, 1), sh(2026, 12, 1)),
        ("timeDate", "2020-01-01T00:00:00Z", datetime(2020, 1, 1, tzinfo=UTC)),  # past: due now
        ("timeDuration", "P1M", sh(2026, 2, 28, 9)),
        ("timeDuration", " PT5M ", sh(2026, 1, 31, 9, 5)),
        ("timeDuration", Duration(days=1), sh(2026, 2, 1, 9)),
        ("timeDuration", timedelta(hours=2), sh(2026, 1, 31, 11)),
        ("timeDuration", YearsMonthsDuration(13), sh(2027, 2, 28, 9)),
        ("timeCycle", "R3/PT10M", sh(2026, 1, 31, 9, 10)),
        ("timeCycle", "R/2026-02-01T08:00:00/P1D", sh(2026, 2, 1, 8)),
        ("timeCycle", Cycle(Duration(hours=1)), sh(2026, 1, 31, 10)),
        ("timeCycle", timedelta(minutes=30), sh(2026, 1, 31, 9, 30)),
        ("timeCycle", Duration(days=1), sh(2026, 2, 1, 9)),
        ("timeCycle", YearsMonthsDuration(1), sh(2026, 2, 28, 9)),
    ],
)
def test_timer_due(timer_type: str, value: object, expected: datetime) -> None:
    due = timer_due(timer_type, value, ARMED, SH)
    assert due == expected
    assert due.utcoffset() is not None


def test_timer_due_applies_durations_in_the_organisation_zone() -> None:
    armed_utc = datetime(2026, 1, 31, 1, tzinfo=UTC)  # 09:00 in Shanghai
    due = timer_due("timeDuration", "P1M", armed_utc, SH)
    assert due == sh(2026, 2, 28, 9) and due.tzinfo is SH


@pytest.mark.parametrize(
    ("timer_type", "value", "message"),
    [
        ("timeDate", 5, "a timeDate must be a date-time, not a value of type 'int'"),
        ("timeDate", "tomorrow", "expected a 4-digit year"),
        ("timeDuration", "5 minutes", "a duration must start with 'P'"),
        ("timeDuration", 5, "a timeDuration must be a duration"),
        ("timeDuration", timedelta(seconds=-1), "must not be negative"),
        ("timeDuration", YearsMonthsDuration(-1), "must not be negative"),
        ("timeCycle", "PT5M", "a timer cycle must start with 'R'"),
        ("timeCycle", None, "a timeCycle must be a cycle"),
        ("timeCycle", timedelta(0), "at least a microsecond"),
        ("timeCycle", "R2/2026-01-01T00:00:00/P1D", "no occurrence left"),
        ("timeCycle", "R/PT1H/2026-01-01T00:00:00", "no occurrence left"),
    ],
)
def test_timer_due_errors(timer_type: str, value: object, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        timer_due(timer_type, value, ARMED, SH)


def test_timer_due_refuses_unknown_type_and_naive_now() -> None:
    with pytest.raises(ValueError, match="unknown timer type"):
        timer_due("timeSoon", "P1D", ARMED, SH)
    with pytest.raises(ValueError, match="timezone-aware"):
        timer_due("timeDuration", "P1D", datetime(2026, 1, 1), SH)


def test_parse_timer() -> None:
    assert parse_timer("timeDate", "2026-01-01", SH) == sh(2026, 1, 1)
    assert parse_timer("timeDuration", "P1D", SH) == Duration(days=1)
    assert parse_timer("timeCycle", "R/P1D", SH) == Cycle(Duration(days=1))
    with pytest.raises(ValueError, match="unknown timer type"):
        parse_timer("cron", "* * * * *", SH)


# == properties ===================================================================================

durations = st.builds(
    Duration,
    years=st.integers(0, 30),
    months=st.integers(0, 40),
    days=st.integers(0, 400),
    hours=st.integers(0, 100),
    minutes=st.integers(0, 200),
    seconds=st.decimals(min_value=0, max_value=10_000, places=3),
)
positive_durations = durations.filter(lambda d: not d.is_zero)
zones = st.sampled_from([SH, NY, UTC, ZoneInfo("Europe/London"), timezone(timedelta(hours=-3))])
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))


@given(durations)
def test_duration_text_round_trips(duration: Duration) -> None:
    text = str(duration)
    assert parse_duration(text) == duration
    assert str(parse_duration(text)) == text


@st.composite
def duration_texts(draw: st.DrawFn) -> str:
    """ISO duration text, including weeks, zeros, commas and lower case."""
    date_part = "".join(
        f"{draw(st.integers(0, 99))}{unit}" for unit in "YMWD" if draw(st.booleans())
    )
    time_part = "".join(f"{draw(st.integers(0, 99))}{unit}" for unit in "HM" if draw(st.booleans()))
    if draw(st.booleans()):
        sep = draw(st.sampled_from(".,"))
        time_part += f"{draw(st.integers(0, 99))}{sep}{draw(st.integers(0, 999)):03d}S"
    if not date_part and not time_part:
        date_part = "0D"
    text = "P" + date_part + ("T" + time_part if time_part else "")
    return text.lower() if draw(st.booleans()) else text


@given(duration_texts())
def test_any_duration_text_round_trips_through_canonical_form(text: str) -> None:
    duration = parse_duration(text)
    assert parse_duration(str(duration)) == duration


@given(moments, zones, durations)
def test_adding_a_duration_never_goes_back(moment: datetime, zone: timezone, d: Duration) -> None:
    start = moment.replace(tzinfo=zone)
    assert elapsed(start, d.add_to(start)) >= timedelta(0)


@given(moments, moments, st.sampled_from([SH, UTC]), durations)
def test_adding_a_duration_keeps_order(
    a: datetime, b: datetime, zone: ZoneInfo, d: Duration
) -> None:
    first, second = sorted([a.replace(tzinfo=zone), b.replace(tzinfo=zone)])
    assert elapsed(d.add_to(first), d.add_to(second)) >= timedelta(0)


@given(moments, zones, durations, durations)
def test_a_longer_duration_ends_later(
    moment: datetime, zone: timezone, d: Duration, extra: Duration
) -> None:
    longer = Duration(
        d.years + extra.years,
        d.months + extra.months,
        d.days + extra.days,
        d.hours + extra.hours,
        d.minutes + extra.minutes,
        d.seconds + extra.seconds,
    )
    start = moment.replace(tzinfo=zone)
    assert elapsed(d.add_to(start), longer.add_to(start)) >= timedelta(0)


@given(
    positive_durations,
    st.integers(1, 12),
    st.one_of(st.none(), moments),
    moments,
    zones,
)
def test_cycle_due_times_increase_and_stop_after_repetitions(
    interval: Duration,
    repetitions: int,
    start: datetime | None,
    armed: datetime,
    zone: timezone,
) -> None:
    cycle = Cycle(interval, repetitions, start.replace(tzinfo=zone) if start else None)
    armed_at = armed.replace(tzinfo=zone)
    times = due_times(cycle, armed_at, limit=repetitions + 5)
    assert all(elapsed(a, b) > timedelta(0) for a, b in pairwise(times))
    assert all(elapsed(armed_at, t) >= timedelta(0) for t in times)
    if cycle.start is None or cycle.start >= armed_at:
        assert len(times) == repetitions  # armed before the start: every repetition fires
    else:
        assert len(times) <= repetitions
    assert parse_cycle(str(cycle), SH) == cycle
