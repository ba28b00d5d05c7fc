"""Working-time durations in timer and due-date texts: ``P3WD``, ``PT1WH``, ``P1WDT4WH``.

BPMN timers and due dates are ISO 8601 texts, and ISO 8601 has no notion of working time, so
Liucheng extends it in the least surprising way: a ``W`` before the unit letter makes the unit a
working one.

========== ================================= ==========================================
text       meaning                           counted how
========== ================================= ==========================================
``P3WD``   3 working days                    :meth:`BusinessCalendar.add_working_days`
``PT1WH``  1 working hour                    :meth:`BusinessCalendar.add_working_hours`
``PT30WM`` 30 working minutes                the same
``P1WDT4WH`` 1 working day, then 4 hours     days first, then hours
========== ================================= ==========================================

A text without a working unit is plain ISO 8601 and keeps its calendar meaning (``P3D`` is three
days of the calendar, ``P2W`` two weeks): :func:`parse_working_duration` returns None for it and
the engine reads it as before.  ``W`` followed by ``D``, ``H`` or ``M`` cannot be read as ISO
weeks (``P2W`` is never followed by a unit letter without a number), so old texts do not change
meaning.  Letters may be lower case, as in ISO texts.

Rules: the units are written in the order days, ``T``, hours, minutes; each at most once; whole
numbers only (``PT90WM``, not ``PT1.5WH``); never negative; calendar units may not be mixed in
(``P1DT2WH`` is refused: "one calendar day then two working hours" is rarely meant, and when it
is, two timers say it plainly).  Every refusal raises :class:`~liucheng.errors.ExpressionError`
naming the text and the 0-based position where reading stopped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from liucheng.errors import ExpressionError

__all__ = ["WorkingDuration", "parse_working_duration"]

# A digit, then W and a unit letter: the mark of a working unit (an ISO week is "2W" alone).
_WORKING_UNIT = re.compile(r"[0-9][Ww][DdHhMm]")
_MAX_DIGITS = 9  # a billion working days is a typing mistake, not a deadline


@dataclass(frozen=True)
class WorkingDuration:
    """An amount of working time: whole working days, then working hours and minutes."""

    days: int = 0
    hours: int = 0
    minutes: int = 0

    def __post_init__(self) -> None:
        for name in ("days", "hours", "minutes"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(
                    f"WorkingDuration.{name} must be an int, not {type(value).__name__}"
                )
            if value < 0:
                raise ValueError(f"WorkingDuration.{name} must not be negative")

    @property
    def working_time(self) -> timedelta:
        """The hours and minutes part, to add with ``add_working_hours`` after the days."""
        return timedelta(hours=self.hours, minutes=self.minutes)

    @property
    def is_zero(self) -> bool:
        return not (self.days or self.hours or self.minutes)

    def __str__(self) -> str:
        """Canonical text that :func:`parse_working_duration` reads back to an equal value."""
        date_part = f"{self.days}WD" if self.days else ""
        time_part = "".join(
            f"{n}{unit}" for n, unit in ((self.hours, "WH"), (self.minutes, "WM")) if n
        )
        if not date_part and not time_part:
            return "P0WD"
        return "P" + date_part + ("T" + time_part if time_part else "")


def parse_working_duration(text: object) -> WorkingDuration | None:
    """Read a working-time duration such as ``P3WD`` or ``PT1WH``.

    Returns None when ``text`` is not text or has no working unit, so that the caller reads it
    as a plain ISO 8601 duration instead.  A text with a working unit that is otherwise wrong
    raises :class:`~liucheng.errors.ExpressionError`.
    """
    if not isinstance(text, str):
        return None
    return _parse(text)


@functools.lru_cache(maxsize=1024)
def _parse(text: str) -> WorkingDuration | None:
    # Cached: the engine reads the same few timer texts again and again.
    if _WORKING_UNIT.search(text) is None:
        return None
    return _Reader(text).read()


class _Reader:
    """Reads one text from left to right; ``i`` is the position of the next character."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = len(text) - len(text.lstrip())
        self.end = len(text.rstrip())

    def fail(self, message: str, position: int | None = None) -> NoReturn:
        at = self.i if position is None else position
        raise ExpressionError(message, text=self.text, position=at)

    def peek(self) -> str:
        return self.text[self.i].upper() if self.i < self.end else ""

    def read(self) -> WorkingDuration:
        if self.peek() == "-":
            self.fail("a working-time duration must not be negative")
        if self.peek() == "+":
            self.i += 1
        if self.peek() != "P":
            self.fail("a duration must start with 'P' (for example P3WD or PT1WH)")
        self.i += 1
        values: dict[str, int] = {}
        if self.peek() != "T":
            self.unit(values, allowed="D", part="before 'T'")
        if self.peek() == "T":
            self.i += 1
            if self.i >= self.end:
                self.fail("expected a number after 'T' (for example PT1WH)")
            while self.i < self.end:
                if self.text[self.i] not in "0123456789-":
                    self.fail(f"unexpected {self.text[self.i]!r}")
                self.unit(values, allowed="HM", part="after 'T'")
        if self.i < self.end:
            self.fail(f"unexpected {self.text[self.i]!r}")
        return WorkingDuration(values.get("D", 0), values.get("H", 0), values.get("M", 0))

    def unit(self, values: dict[str, int], *, allowed: str, part: str) -> None:
        """Read one ``<number>W<unit>`` and store it in ``values``."""
        if self.peek() == "-":
            self.fail("a working-time duration must not be negative")
        start = self.i
        while self.i < self.end and self.text[self.i] in "0123456789":
            self.i += 1
        if self.i == start:
            self.fail("expected a number (for example P3WD or PT1WH)")
        if self.i - start > _MAX_DIGITS:
            self.fail("this number is too large for a duration", start)
        if self.peek() in (".", ","):
            self.fail("only whole numbers are allowed; write PT90WM, not PT1.5WH", start)
        number = int(self.text[start : self.i])
        if self.peek() != "W":
            found = self.peek()
            if found in "YMWDHS" and found:
                self.fail(
                    f"'{found}' is a calendar unit; a working-time duration uses only working "
                    "units (WD, and WH or WM after 'T'), so write W before the unit"
                )
            self.fail("expected a working unit: WD, and WH or WM after 'T'")
        self.i += 1
        unit = self.peek()
        if unit not in "DHM" or not unit:
            self.fail(
                "'W' alone means weeks, a calendar unit; a working-time duration uses only "
                "working units (WD, and WH or WM after 'T')",
                self.i - 1,
            )
        if unit not in allowed:
            where = "WD goes before 'T'" if unit == "D" else "WH and WM go after 'T'"
            self.fail(f"'W{unit}' is {part}, where it does not belong: {where}")
        if unit in values:
            self.fail(f"'W{unit}' appears twice")
        if unit == "H" and "M" in values:
            self.fail("'WH' must come before 'WM'")
        values[unit] = number
        self.i += 1
