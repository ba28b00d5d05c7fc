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


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


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
        "tokens": [[t.id, t.node, t.scope, t.state.value, t.via, t.local] for t in inst.tokens.values()],
        "scopes": [
            [s.id, s.parent, s.node, s.token, to_jsonable(s.variables)] for s in inst.scopes.values()
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
    return json.dumps(instance_to_dict(inst), ensure_ascii=False, separators=(",", ":"))


def instance_from_dict(data: dict[str, Any]) -> Instance:
    version = data.get("format")
    if not isinstance(version, int) or version > FORMAT or version < 1:
        raise LiuchengError(f"unknown stored case format {version!r}")
    while version < FORMAT:
        data = _MIGRATIONS[version](data)
        version += 1
    started = _dt(data["started"])
    assert started is not None
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
        created = _dt(t["created"])
        assert created is not None
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
        when = _dt(created)
        assert when is not None
        inst.incidents[iid] = Incident(iid, token, node, kind, message, when, leaving)
    for seq, time, kind, element, token, variables, detail in data["history"]:
        when = _dt(time)
        assert when is not None
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
    return inst


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
