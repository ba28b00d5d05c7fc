"""The one clock every expression language reads for "now".

FEEL's ``now()``/``today()`` and the Python dialect's ``datetime.now()`` both read ``CLOCK``, a
context variable, so the engine sets it once per operation (``with_clock``) and two engines in
one process, or two threads, each see their own time.  The default is the machine's UTC time.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

ClockFunction = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


CLOCK: ContextVar[ClockFunction] = ContextVar("liucheng_expression_clock", default=utc_now)
