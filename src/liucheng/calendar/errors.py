"""The errors a business calendar raises.

They live here rather than in :mod:`liucheng.errors` so that the calendar package stands alone;
each is a :class:`~liucheng.errors.LiuchengError` (the product refused an input) and also a
``ValueError``, because the engine already turns a ``ValueError`` met while arming a timer into an
incident on the case instead of a crash.  A bad working-time duration text raises
:class:`~liucheng.errors.ExpressionError`, as a bad ISO 8601 timer text does.
"""

from __future__ import annotations

from liucheng.errors import LiuchengError


class CalendarError(LiuchengError, ValueError):
    """A calendar refused a value or an operation, with the reason."""


class CalendarSpecError(CalendarError):
    """A calendar spec is invalid; ``field`` is the path of the bad field, e.g. ``closed_days[2]``.

    ``calendar`` is the calendar's name when it was readable, so that an error in a set of many
    calendars says which one is wrong.
    """

    def __init__(
        self, message: str, *, field: str | None = None, calendar: str | None = None
    ) -> None:
        self.message = message
        self.field = field
        self.calendar = calendar
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.calendar is not None:
            where.append(f"calendar {self.calendar!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class CalendarRangeError(CalendarError):
    """The calendar has no holiday data for ``year`` and its spec says to refuse such years.

    Counting Monday to Friday instead would silently give wrong deadlines around the Spring
    Festival, so by default the engine gets this error (and the case an incident) instead.
    """

    def __init__(self, message: str, *, year: int, known: range) -> None:
        self.year = year
        self.known = known
        super().__init__(message)


class NaiveDatetimeError(CalendarError):
    """A datetime without a time zone was given; a calendar cannot tell which day it is."""
