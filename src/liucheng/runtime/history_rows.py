"""A case's history as stored: one row per engine step, its events packed as one JSON text.

A step (a start, a completion, a timer, …) appends several events at once — on the
access-pass benchmark 10 to 15.  Stored one row per event, each of them cost a B-tree entry
(on SQLite a page the commit writes; history was 12 of the 52 pages a case wrote) and, on
PostgreSQL, a foreign-key query on the server.  Stored as one row per step (migration 0011),
a step writes one row, one key and one foreign-key check, whatever its number of events.

A row holds the step's events ``first_seq`` to ``last_seq``, the ``time`` of its first event,
and ``events``: a JSON array with one array per event, ``[kind, element, token, variables,
detail]`` — ``variables`` the codec JSON text of the changed variables, as the per-event
column held it — with trailing nulls left out.  The events of one step share one time; an
event whose time differs has a sixth element, its distance from the row's ``time`` in
microseconds, so no event's time is lost.

Reading unpacks the rows into exactly the events that were written, in ``seq`` order; this
module is the one place that knows the layout (``sql_store`` writes and reads through it, and
the tests check rows through it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from liucheng.engine.codec import plain_json
from liucheng.errors import LiuchengError

_MICROSECOND = timedelta(microseconds=1)

# One stored event, unpacked: (seq, time, kind, element, token, variables as codec JSON
# text or None, detail).
StoredEvent = tuple[int, datetime, str, str | None, int | None, str | None, str | None]


def pack(events: Sequence[Sequence[Any]], encode_changes: Callable[[Any], str]) -> str:
    """The ``events`` column for ``events`` (the engine's ``RawEvent`` tuples of one step,
    numbered without gaps); ``encode_changes`` turns an event's changed variables into text."""
    first_time = events[0][1]
    packed: list[list[Any]] = []
    for _seq, time, kind, element, token, changed, detail in events:
        entry: list[Any] = [
            kind,
            element,
            token,
            encode_changes(changed) if changed is not None else None,
            detail,
        ]
        if time is not first_time and time != first_time:
            entry.append((time - first_time) // _MICROSECOND)
        else:
            while entry[-1] is None:
                entry.pop()
        packed.append(entry)
    return plain_json(packed)


def unpack(
    instance_id: str, first_seq: int, last_seq: int, time: datetime, events: str
) -> list[StoredEvent]:
    """The events of one stored row; a row whose events do not match its numbering is an
    error naming the case and the row (the table was written by something else)."""
    entries = json.loads(events)
    if not isinstance(entries, list) or len(entries) != last_seq - first_seq + 1:
        raise LiuchengError(
            f"case '{instance_id}': history row {first_seq}..{last_seq} holds "
            f"{len(entries) if isinstance(entries, list) else 'no list of'} events"
        )
    found: list[StoredEvent] = []
    for seq, entry in enumerate(entries, first_seq):
        kind, element, token, changed, detail, offset = (*entry, None, None, None, None, None)[:6]
        at = time if offset is None else time + timedelta(microseconds=offset)
        found.append((seq, at, kind, element, token, changed, detail))
    return found
