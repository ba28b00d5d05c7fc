"""One case's state as JSON, and back.

The format is versioned (``"format": 1``).  When the stored shape changes, bump the version and
add a function to ``_MIGRATIONS`` that upgrades the previous version's dict, with a docstring
saying what changed, so cases saved by older releases still load.

Format 1: the first stored shape (tokens, scopes, tasks, subscriptions, incidents, history).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from liucheng.engine.codec import from_jsonable, to_jsonable
from liucheng.engine.state import (
    HistoryEvent,
    HistoryKind,
    Incident,
    Instance,
    InstanceState,
    ScopeState,
    Subscription,
    SubscriptionKind,
    Token,
    TokenState,
    UserTask,
)
from liucheng.errors import LiuchengError

FORMAT = 1
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _t(value: datetime | None) -> Any:
    """Times go through the codec, which keeps a zone's name and not just its offset."""
    return to_jsonable(value) if value is not None else None


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    result = from_jsonable(value)
    if not isinstance(result, datetime):
        raise ValueError(f"expected a stored date-time, found {value!r}")
    return result


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _when(value: Any) -> datetime:
    """A time that must be present."""
    result = _dt(value)
    if result is None:
        raise ValueError("a required time is missing")
    return result


def instance_to_dict(inst: Instance) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "id": inst.id,
        "process_id": inst.process_id,
        "version": inst.version,
        "business_key": inst.business_key,
        "started": _t(inst.started),
        "state": inst.state.value,
        "ended": _t(inst.ended),
        "next_id": inst.next_id,
        "tokens": [
            [t.id, t.node, t.scope, t.state.value, t.via, t.local] for t in inst.tokens.values()
        ],
        "scopes": [
            [s.id, s.parent, s.node, s.token, to_jsonable(s.variables)]
            for s in inst.scopes.values()
        ],
        "tasks": [
            {
                "id": t.id,
                "token": t.token,
                "node": t.node,
                "name": t.name,
                "created": _t(t.created),
                "assignee": t.assignee,
                "candidate_groups": t.candidate_groups,
                "candidate_users": t.candidate_users,
                "form_key": t.form_key,
                "due": _t(t.due),
                "priority": t.priority,
            }
            for t in inst.tasks.values()
        ],
        "subscriptions": [
            [s.id, s.kind.value, s.node, s.token, s.message, s.key, _t(s.due), s.cycle, s.fired]
            for s in inst.subscriptions.values()
        ],
        "incidents": [
            [i.id, i.token, i.node, i.kind, i.message, _t(i.created), i.leaving]
            for i in inst.incidents.values()
        ],
        "history": [
            [
                e.seq,
                _t(e.time),
                e.kind.value,
                e.element,
                e.token,
                to_jsonable(e.variables) if e.variables is not None else None,
                e.detail,
            ]
            for e in inst.history
        ],
    }


def instance_to_json(inst: Instance) -> str:
    return _ENCODER.encode(instance_to_dict(inst))


def instance_from_dict(data: dict[str, Any]) -> Instance:
    version = data.get("format")
    if not isinstance(version, int) or version > FORMAT or version < 1:
        raise LiuchengError(f"unknown stored case format {version!r}")
    while version < FORMAT:
        data = _MIGRATIONS[version](data)
        version += 1
    started = _when(data["started"])
    inst = Instance(
        id=data["id"],
        process_id=data["process_id"],
        version=data["version"],
        business_key=data["business_key"],
        started=started,
        state=InstanceState(data["state"]),
        ended=_dt(data["ended"]),
        next_id=data["next_id"],
    )
    for tid, node, scope, state, via, local in data["tokens"]:
        inst.tokens[tid] = Token(tid, node, scope, TokenState(state), via, local)
    for sid, parent, node, token, variables in data["scopes"]:
        inst.scopes[sid] = ScopeState(sid, parent, node, token, from_jsonable(variables))
    for t in data["tasks"]:
        created = _when(t["created"])
        inst.tasks[t["id"]] = UserTask(
            id=t["id"],
            instance_id=inst.id,
            token=t["token"],
            node=t["node"],
            name=t["name"],
            created=created,
            assignee=t["assignee"],
            candidate_groups=list(t["candidate_groups"]),
            candidate_users=list(t["candidate_users"]),
            form_key=t["form_key"],
            due=_dt(t["due"]),
            priority=t["priority"],
            process_id=inst.process_id,
            business_key=inst.business_key,
        )
    for sid, kind, node, token, message, key, due, cycle, fired in data["subscriptions"]:
        inst.subscriptions[sid] = Subscription(
            sid, SubscriptionKind(kind), node, token, message, key, _dt(due), cycle, fired
        )
    for iid, token, node, kind, message, created, leaving in data["incidents"]:
        when = _when(created)
        inst.incidents[iid] = Incident(iid, token, node, kind, message, when, leaving)
    for seq, time, kind, element, token, variables, detail in data["history"]:
        when = _when(time)
        inst.history.append(
            HistoryEvent(
                seq,
                when,
                HistoryKind(kind),
                element,
                token,
                from_jsonable(variables) if variables is not None else None,
                detail,
            )
        )
    _check_references(inst)
    return inst


def _check_references(inst: Instance) -> None:
    """Refuse a stored case whose parts do not fit together (hand-edited or truncated JSON)."""
    if not all(isinstance(v, str) for v in (inst.id, inst.process_id)):
        raise ValueError("the case id and process id must be text")
    if type(inst.version) is not int or type(inst.next_id) is not int:
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
    for owner, token in (
        *((f"task {t.id}", t.token) for t in inst.tasks.values()),
        *((f"subscription {s.id}", s.token) for s in inst.subscriptions.values()),
        *((f"incident {i.id}", i.token) for i in inst.incidents.values()),
    ):
        if token not in inst.tokens:
            raise ValueError(f"{owner} belongs to a missing token {token}")


def instance_from_json(text: str) -> Instance:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LiuchengError(f"stored case is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LiuchengError("stored case must be a JSON object")
    try:
        return instance_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise LiuchengError(f"stored case is malformed: {exc!r}") from exc
