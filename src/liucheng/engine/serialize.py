"""One case's state as JSON, and back.

The format is versioned (``"format": 1``).  When the stored shape changes, bump the version and
add a function to ``_MIGRATIONS`` that upgrades the previous version's dict, with a docstring
saying what changed, so cases saved by older releases still load.

Format 1: the first stored shape (tokens, scopes, tasks, subscriptions, incidents, history).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, NoReturn

from liucheng.engine.codec import PLAIN_TYPES as _PLAIN
from liucheng.engine.codec import parse, plain_json, revive, to_jsonable
from liucheng.engine.state import (
    Changes,
    Compensable,
    CompensationStep,
    ExternalTask,
    HistoryKind,
    Incident,
    Instance,
    InstanceState,
    RawEvent,
    ScopeState,
    Subscription,
    SubscriptionKind,
    Token,
    TokenState,
    UserTask,
    changes_dict,
)
from liucheng.errors import LiuchengError

FORMAT = 1
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class _TimeTable:
    """Each distinct time of a case is written once; events refer to it by index.

    A case's history holds dozens of events and all events of one step share one time, so
    this makes the stored text smaller and the round trip faster.  Times in UTC (everything
    the engine's clock produces) are stored as plain ISO text; any other zone goes through the
    codec, which keeps a zone's name and not just its offset.
    """

    __slots__ = ("index", "last", "last_ref", "values")

    def __init__(self) -> None:
        self.index: dict[tuple[datetime, Any], int] = {}
        self.values: list[Any] = []
        self.last: datetime | None = None
        self.last_ref = 0

    def ref(self, value: datetime | None) -> int | None:
        if value is self.last:  # the events of one step share one time object
            return self.last_ref if value is not None else None
        if value is None:
            return None
        key = (value, value.tzinfo)  # equal instants in different zones stay apart
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.values)
            self.values.append(
                value.isoformat() if value.tzinfo is UTC else to_jsonable(value, "time")
            )
        self.last, self.last_ref = value, found
        return found


def _read_times(stored: Any) -> list[datetime]:
    if not isinstance(stored, list):
        raise ValueError("the time table must be a list")
    times = []
    for item in stored:
        value = datetime.fromisoformat(item) if isinstance(item, str) else revive(item)
        if not isinstance(value, datetime):
            raise ValueError(f"expected a stored date-time, found {item!r}")
        if value.tzinfo is None:
            raise ValueError(f"stored times must carry a zone: {item!r}")
        times.append(value)
    return times


def _at(times: list[datetime], ref: Any) -> datetime | None:
    if ref is None:
        return None
    if type(ref) is not int or not 0 <= ref < len(times):
        raise ValueError(f"time reference {ref!r} is not in the time table")
    return times[ref]


def _when(times: list[datetime], ref: Any) -> datetime:
    """A time that must be present."""
    result = _at(times, ref)
    if result is None:
        raise ValueError("a required time is missing")
    return result


_KIND_TEXT = {k.value: k.value for k in HistoryKind}
_TIME_OF = itemgetter(1)
_flat = chain.from_iterable  # ``flat_changes`` inlined, once per stored event with changes


def _history_rows(history: list[RawEvent], ref: Callable[[datetime | None], int | None]) -> Any:
    """The events as JSON rows, each time as its index in the time table (``ref`` answers at
    once for the time of the event before, which the events of one step share)."""
    return [
        [seq, ref(time), kind, element, token, _changes_to_json(variables), detail]
        for seq, time, kind, element, token, variables, detail in history
    ]


def _changes_to_json(variables: Changes | None) -> Any:
    if variables is None:
        return None
    changed = changes_dict(variables)
    if _PLAIN.issuperset(map(type, changed.values())):
        return changed  # a fresh dict of plain values: nothing to encode
    return to_jsonable(changed)


def instance_to_dict(inst: Instance, *, include_history: bool = True) -> dict[str, Any]:
    """The case as a JSON-ready dict.

    Without history (``include_history=False``, for stores that keep events as rows of their
    own) the dict says how many events precede the next one, so sequence numbers go on.
    """
    times = _TimeTable()
    t = times.ref
    data = {
        "format": FORMAT,
        "id": inst.id,
        "process_id": inst.process_id,
        "version": inst.version,
        "business_key": inst.business_key,
        "started": t(inst.started),
        "state": inst.state.value,
        "ended": t(inst.ended),
        "next_id": inst.next_id,
        "tokens": [
            [k.id, k.node, k.scope, k.state.value, k.via, k.local] for k in inst.tokens.values()
        ],
        "scopes": [
            [s.id, s.parent, s.node, s.token, to_jsonable(s.variables)]
            for s in inst.scopes.values()
        ],
        "tasks": [
            {
                "id": k.id,
                "token": k.token,
                "node": k.node,
                "name": k.name,
                "created": t(k.created),
                "assignee": k.assignee,
                "candidate_groups": k.candidate_groups,
                "candidate_users": k.candidate_users,
                "form_key": k.form_key,
                "due": t(k.due),
                "priority": k.priority,
            }
            for k in inst.tasks.values()
        ],
        "externals": [
            [k.id, k.token, k.node, k.topic, t(k.created), k.retries, k.error, t(k.available)]
            for k in inst.externals.values()
        ],
        "subscriptions": [
            [
                s.id,
                s.kind.value,
                s.node,
                s.token,
                s.message,
                s.key,
                t(s.due),
                s.cycle,
                s.fired,
                t(s.armed),
            ]
            for s in inst.subscriptions.values()
        ],
        "incidents": [
            [i.id, i.token, i.node, i.kind, i.message, t(i.created), i.leaving]
            for i in inst.incidents.values()
        ],
        "history": _history_rows(inst.history, t) if include_history else [],
        "history_base": inst.history_base + (0 if include_history else len(inst.history)),
    }
    if inst.parent is not None:  # only cases started by a call activity have a parent
        data["parent"] = [inst.parent, inst.parent_token]
    if inst.compensables:  # only cases whose model has compensation handlers
        data["compensables"] = [_compensable_to_list(c) for c in inst.compensables]
    if inst.compensating:
        data["compensating"] = [
            [c.thrower, c.handler, c.scope, _jsonable_or_none(c.variables)]
            for c in inst.compensating
        ]
    data["times"] = times.values
    return data


def instance_to_json(inst: Instance, *, include_history: bool = True) -> str:
    return plain_json(instance_to_dict(inst, include_history=include_history))


def instance_from_dict(data: dict[str, Any]) -> Instance:
    """A case from its stored dict as ``codec.parse`` reads it: the typed values of variables
    are decoded here (``codec.revive``), only where variables are stored.

    The dict's containers become the case's own: pass a freshly parsed one.
    """
    version = data.get("format")
    if not isinstance(version, int) or version > FORMAT or version < 1:
        raise LiuchengError(f"unknown stored case format {version!r}")
    while version < FORMAT:
        data = _MIGRATIONS[version](data)
        version += 1
    times = _read_times(data["times"])
    inst = Instance(
        id=data["id"],
        process_id=data["process_id"],
        version=data["version"],
        business_key=data["business_key"],
        started=_when(times, data["started"]),
        state=InstanceState(data["state"]),
        ended=_at(times, data["ended"]),
        next_id=data["next_id"],
        history_base=data.get("history_base", 0),
    )
    parent = data.get("parent")
    if parent is not None:
        if not (isinstance(parent, list) and len(parent) == 2 and isinstance(parent[0], str)):
            raise ValueError(f"parent must be [case id, token], not {parent!r}")
        inst.parent, inst.parent_token = parent[0], parent[1]
    inst.compensables = [_compensable_from(item) for item in data.get("compensables", ())]
    for thrower, handler, scope, variables in data.get("compensating", ()):
        step = CompensationStep(thrower, handler, scope, _object(variables))
        inst.compensating.append(step)
    for tid, node, scope, state, via, local in data["tokens"]:
        inst.tokens[tid] = Token(tid, node, scope, TokenState(state), via, local)
    for sid, parent, node, token, variables in data["scopes"]:
        inst.scopes[sid] = ScopeState(sid, parent, node, token, revive(variables))
    for t in data["tasks"]:
        inst.tasks[t["id"]] = UserTask(
            id=t["id"],
            instance_id=inst.id,
            token=t["token"],
            node=t["node"],
            name=t["name"],
            created=_when(times, t["created"]),
            assignee=t["assignee"],
            candidate_groups=tuple(t["candidate_groups"]),
            candidate_users=tuple(t["candidate_users"]),
            form_key=t["form_key"],
            due=_at(times, t["due"]),
            priority=t["priority"],
            process_id=inst.process_id,
            business_key=inst.business_key,
        )
    for sid, kind, node, token, message, key, due, cycle, fired, armed in data["subscriptions"]:
        inst.subscriptions[sid] = Subscription(
            sid,
            SubscriptionKind(kind),
            node,
            token,
            message,
            key,
            _at(times, due),
            cycle,
            fired,
            _at(times, armed),
        )
    for xid, token, node, topic, created, retries, error, available in data.get("externals", []):
        inst.externals[xid] = ExternalTask(
            xid,
            inst.id,
            token,
            node,
            topic,
            _when(times, created),
            retries,
            error,
            _at(times, available),
            inst.process_id,
            inst.business_key,
        )
    for iid, token, node, kind, message, created, leaving in data["incidents"]:
        when = _when(times, created)
        inst.incidents[iid] = Incident(iid, token, node, kind, message, when, leaving)
    inst.history = _history_from(data["history"], times)
    _check_references(inst)
    return inst


def _history_from(rows: Any, times: list[datetime]) -> list[RawEvent]:
    """The stored events (``_history_rows``) as the engine's tuples.

    Read in one comprehension, each kind as the canonical text shared by every event; a row
    that does not fit makes ``_history_checked`` find it and say what is wrong with it.
    """
    kinds = _KIND_TEXT
    try:
        history = [
            (
                seq,
                times[time],
                kinds[kind],
                element,
                token,
                None if variables is None else tuple(_flat(revive(variables).items())),
                detail,
            )
            for seq, time, kind, element, token, variables, detail in rows
        ]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return _history_checked(rows, times)
    # What the comprehension lets through: a time index that is negative or not an integer
    # (only JSON objects have ``items``).
    refs = set(map(_TIME_OF, rows))
    if not refs.issubset(range(len(times))) or not _INT.issuperset(map(type, refs)):
        return _history_checked(rows, times)
    return history


_INT = frozenset({int})


def _history_checked(rows: Any, times: list[datetime]) -> NoReturn:
    """Say which stored event does not fit (``_history_from`` found that one does not)."""
    if not isinstance(rows, list):
        raise ValueError("the history must be a list")
    for row in rows:
        if not isinstance(row, list) or len(row) != 7:
            raise ValueError(f"a history event is a list of 7 fields, not {row!r}")
        _seq, time, kind, _element, _token, variables, _detail = row
        if not isinstance(kind, str) or kind not in _KIND_TEXT:
            raise ValueError(f"unknown history event kind {kind!r}")
        if type(time) is not int or not 0 <= time < len(times):
            raise ValueError(f"time reference {time!r} is not in the time table")
        if variables is not None and type(variables) is not dict:
            raise ValueError(f"history variables must be an object, not {type(variables).__name__}")
    raise ValueError("the history is malformed")


def _jsonable_or_none(variables: dict[str, Any] | None) -> Any:
    return to_jsonable(variables) if variables is not None else None


def _compensable_to_list(c: Compensable) -> list[Any]:
    inner = [_compensable_to_list(i) for i in c.inner]
    return [c.id, c.node, c.scope, _jsonable_or_none(c.variables), inner]


def _compensable_from(item: Any) -> Compensable:
    if not isinstance(item, list) or len(item) != 5:
        raise ValueError(f"a compensable activity is [id, node, scope, variables, inner]: {item!r}")
    cid, node, scope, variables, inner = item
    if type(cid) is not int or not isinstance(node, str) or type(scope) is not int:
        raise ValueError(f"a compensable activity has a bad id, node or scope: {item!r}")
    if not isinstance(inner, list):
        raise ValueError(f"the inner activities of {node!r} must be a list")
    return Compensable(cid, node, scope, _object(variables), [_compensable_from(i) for i in inner])


def _object(variables: Any) -> dict[str, Any] | None:
    """Stored variables (tags decoded here), or None."""
    if variables is None:
        return None
    if type(variables) is not dict:
        raise ValueError(f"stored variables must be an object, not {type(variables).__name__}")
    revived: dict[str, Any] = revive(variables)
    return revived


def _check_references(inst: Instance) -> None:
    """Refuse a stored case whose parts do not fit together (hand-edited or truncated JSON)."""
    if not all(isinstance(v, str) for v in (inst.id, inst.process_id)):
        raise ValueError("the case id and process id must be text")
    if not all(type(n) is int for n in (inst.version, inst.next_id, inst.history_base)):
        raise ValueError("the version and next id must be integers")
    root = inst.scopes.get(0)
    if root is None or root.parent is not None:
        raise ValueError("the process scope (0) is missing")
    for scope in inst.scopes.values():
        if not isinstance(scope.variables, dict):
            raise ValueError(f"scope {scope.id}: variables must be an object")
        if scope.parent is not None and scope.parent not in inst.scopes:
            raise ValueError(f"scope {scope.id}: its parent scope {scope.parent} is missing")
    for tok in inst.tokens.values():
        if tok.scope not in inst.scopes or not isinstance(tok.node, str):
            raise ValueError(f"token {tok.id} is in no known scope")
    for c in inst.compensables:
        if c.scope not in inst.scopes:
            raise ValueError(f"compensable activity {c.node!r} is in no known scope")
    for step in inst.compensating:
        if step.thrower not in inst.tokens or step.scope not in inst.scopes:
            raise ValueError(f"compensation handler {step.handler!r} waits for a missing token")
    for owner, token in (
        *((f"task {t.id}", t.token) for t in inst.tasks.values()),
        *((f"external task {t.id}", t.token) for t in inst.externals.values()),
        # token 0: the case itself, for the start events of its event subprocesses
        *((f"subscription {s.id}", s.token) for s in inst.subscriptions.values() if s.token),
        *((f"incident {i.id}", i.token) for i in inst.incidents.values()),
    ):
        if token not in inst.tokens:
            raise ValueError(f"{owner} belongs to a missing token {token}")


def instance_from_json(text: str) -> Instance:
    """A case from ``instance_to_json``'s text; anything else is refused with a
    ``LiuchengError`` saying what is wrong."""
    try:
        data = parse(text)
    except json.JSONDecodeError as exc:
        raise LiuchengError(f"stored case is not valid JSON: {exc}") from exc
    except RecursionError:  # hostile nesting: refuse it rather than crash
        raise LiuchengError("stored case is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise LiuchengError("stored case must be a JSON object")
    try:
        return instance_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise LiuchengError(f"stored case is malformed: {exc!r}") from exc
    except LiuchengError as exc:  # a tagged value that cannot be read, an unknown format
        raise LiuchengError(f"stored case is malformed: {exc}") from exc
    except RecursionError:
        raise LiuchengError("stored case is nested too deeply to read") from None
