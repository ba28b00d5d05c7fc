"""The engine's only source of time.

The engine never calls ``datetime.now()`` itself: every step reads this clock once, so tests and
simulations can move time forward (``engine.clock.advance(days=3)``) and every event of one step
carries the same timestamp.  By default the clock follows the system time, shifted by whatever
has been advanced; ``Clock.frozen(t)`` stands still until advanced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """System time plus an offset, or a frozen instant; always timezone-aware (UTC)."""

    __slots__ = ("_fixed", "_offset", "follows_system")

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._fixed: datetime | None = None
        # True until the clock is frozen, set or advanced: ``now`` is the system's time, which
        # is also what expressions read by default (so an engine need not hand them its clock).
        self.follows_system = True

    @classmethod
    def frozen(cls, at: datetime) -> Clock:
        if at.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware datetime")
        clock = cls()
        clock._fixed = at.astimezone(UTC)
        clock.follows_system = False
        return clock

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        if self._offset:
            return datetime.now(UTC) + self._offset
        return datetime.now(UTC)

    def advance(
        self,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move time forward (never back) and return the new now."""
        step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        if self._fixed is not None:
            self._fixed += step
        else:
            self._offset += step
        if step:
            self.follows_system = False
        return self.now()

    def set(self, at: datetime) -> None:
        """Freeze the clock at ``at`` (tests and simulations)."""
        if at.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware datetime")
        self._fixed = at.astimezone(UTC)
        self.follows_system = False
