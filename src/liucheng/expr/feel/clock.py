"""The clock behind ``now()`` and ``today()``, replaceable so engines and tests control time.

The engine injects its own clock (timers, business calendars and tests must agree on "now").  It
is a context variable, so two engines in one process, or two threads, each see their own.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextvars import ContextVar, Token

from liucheng.expr.clock import CLOCK, utc_now

_clock: ContextVar[Callable[[], dt.datetime]] = CLOCK  # shared: see liucheng/expr/clock.py
_local = threading.local()


def set_clock(clock: Callable[[], dt.datetime] | None) -> Token[Callable[[], dt.datetime]]:
    """Make ``now()``/``today()`` read ``clock`` (must return an aware datetime); None resets.

    Returns a token for ``reset_clock``, to undo the change.
    """
    return _clock.set(clock or utc_now)


def reset_clock(token: Token[Callable[[], dt.datetime]]) -> None:
    _clock.reset(token)


def now() -> dt.datetime:
    value = _clock.get()()
    if value.tzinfo is None:
        raise ValueError("the FEEL clock must return a timezone-aware datetime")
    return value


class Budget:
    """Work done by the current evaluation, so nested loops cannot run for hours.

    Kept per thread because compiled expressions are shared between threads while each
    evaluation runs on one.  Evaluations nest — a DMN decision calls a knowledge model, itself a
    compiled expression, once per loop iteration — so only the outermost ``enter`` starts a
    fresh count; otherwise each inner call would reset the outer loop's count and the limit
    would bound nothing.
    """

    LIMIT = 5_000_000

    @staticmethod
    def reset() -> None:
        _local.used = 0

    @staticmethod
    def enter() -> None:
        """Begin an evaluation: the count starts at 0 unless one is already running."""
        depth = getattr(_local, "depth", 0)
        if depth == 0:
            _local.used = 0
        _local.depth = depth + 1

    @staticmethod
    def exit() -> None:
        """End the evaluation begun by the matching ``enter``."""
        _local.depth = max(getattr(_local, "depth", 1) - 1, 0)

    @staticmethod
    def charge(units: int) -> None:
        used = getattr(_local, "used", 0) + units
        _local.used = used
        if used > Budget.LIMIT:
            from liucheng.errors import ExpressionError

            raise ExpressionError(
                f"result too large: evaluation exceeded {Budget.LIMIT:,} iterations"
            )
