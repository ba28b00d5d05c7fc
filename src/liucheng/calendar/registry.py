"""An organisation's calendars by name, with a default.

One organisation often keeps more than one calendar: the park office works Chinese office hours,
the security office every weekday round the clock, the clinic desk its own hours.  A process model
names the calendar its deadlines count in (proposed BPMN extension attribute
``liucheng:calendar="park-office"`` on a timer event definition, a user task or the process);
where it names none, the set's default applies.  As data::

    {"default": "park-office", "calendars": [{"name": "park-office", ...}, ...]}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from liucheng.calendar.business import BusinessCalendar
from liucheng.calendar.errors import CalendarError, CalendarSpecError
from liucheng.calendar.spec import CalendarSpec

__all__ = ["STANDARD_NAME", "CalendarSet"]

#: The name of the calendar in :meth:`CalendarSet.standard`.
STANDARD_NAME = "cn"


class CalendarSet(Mapping[str, BusinessCalendar]):
    """Calendars by name (a read-only mapping) and the default for models that name none."""

    __slots__ = ("_by_name", "_default")

    def __init__(
        self, calendars: Iterable[BusinessCalendar], *, default: str | None = None
    ) -> None:
        by_name: dict[str, BusinessCalendar] = {}
        for calendar in calendars:
            if not isinstance(calendar, BusinessCalendar):
                raise TypeError(
                    f"a CalendarSet holds BusinessCalendar values, not {type(calendar).__name__!r}"
                )
            if calendar.name in by_name:
                raise CalendarError(f"two calendars are named {calendar.name!r}")
            by_name[calendar.name] = calendar
        if not by_name:
            raise CalendarError("a calendar set needs at least one calendar")
        if default is None:
            if len(by_name) > 1:
                raise CalendarError(
                    f"name the default calendar; the set holds {', '.join(map(repr, by_name))}"
                )
            default = next(iter(by_name))
        if default not in by_name:
            raise CalendarError(
                f"the default calendar {default!r} is not in the set, which holds "
                f"{', '.join(map(repr, by_name))}"
            )
        self._by_name = by_name
        self._default = default

    @classmethod
    def standard(cls) -> CalendarSet:
        """One calendar named ``"cn"``: Chinese working days, 09:00–12:00 and 13:30–17:30, Shanghai.

        What an engine uses when the organisation has configured no calendar of its own.
        """
        return cls([BusinessCalendar(CalendarSpec(STANDARD_NAME))])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalendarSet:
        """Read ``{"default": name, "calendars": [spec, ...]}``; errors name the field's path."""
        if not isinstance(data, Mapping):
            raise CalendarSpecError(
                f"a calendar set must be an object, not a value of type {type(data).__name__!r}"
            )
        for key in data:
            if key not in ("default", "calendars"):
                raise CalendarSpecError(
                    "unknown field; the fields are default, calendars", field=str(key)
                )
        specs = data.get("calendars")
        if not isinstance(specs, list | tuple) or not specs:
            raise CalendarSpecError("must be a non-empty list of calendars", field="calendars")
        default = data.get("default")
        if default is not None and not isinstance(default, str):
            raise CalendarSpecError(f"must be a calendar's name, not {default!r}", field="default")
        calendars = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(specs):
            try:
                calendar = BusinessCalendar.from_dict(spec)
            except CalendarSpecError as exc:
                inner = f".{exc.field}" if exc.field else ""
                raise CalendarSpecError(
                    exc.message, field=f"calendars[{i}]{inner}", calendar=exc.calendar
                ) from None
            if calendar.name in seen:
                raise CalendarSpecError(
                    f"{calendar.name!r} is also the name of calendars[{seen[calendar.name]}]",
                    field=f"calendars[{i}].name",
                )
            seen[calendar.name] = i
            calendars.append(calendar)
        if default is not None and default not in seen:
            raise CalendarSpecError(
                f"{default!r} is not the name of any calendar in the set", field="default"
            )
        try:
            return cls(calendars, default=default)
        except CalendarError as exc:
            raise CalendarSpecError(str(exc), field="default") from None

    def to_dict(self) -> dict[str, Any]:
        """The set as plain JSON-able data; :meth:`from_dict` reads it back."""
        return {
            "default": self._default,
            "calendars": [calendar.to_dict() for calendar in self._by_name.values()],
        }

    @property
    def default(self) -> BusinessCalendar:
        return self._by_name[self._default]

    def resolve(self, name: str | None) -> BusinessCalendar:
        """The calendar called ``name``, or the default when ``name`` is None or empty.

        An unknown name is an error rather than a fall-back to the default: a model that names a
        calendar the organisation does not have would otherwise get wrong deadlines silently.
        """
        if not name:
            return self.default
        calendar = self._by_name.get(name)
        if calendar is None:
            raise CalendarError(
                f"no calendar is named {name!r}; the calendars are "
                f"{', '.join(map(repr, self._by_name))}"
            )
        return calendar

    def __getitem__(self, name: str) -> BusinessCalendar:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CalendarSet):
            return NotImplemented
        return self._default == other._default and self._by_name == other._by_name

    def __repr__(self) -> str:
        return f"CalendarSet({list(self._by_name)!r}, default={self._default!r})"
