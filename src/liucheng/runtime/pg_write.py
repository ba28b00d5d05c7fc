"""PostgreSQL: a whole ``SqlStore.save`` (or ``insert``) as one statement, written per shape.

Each statement costs psycopg some 40–80 µs of Python and system time and the server a parse
and an execution, and a step used to write six to ten of them.  So the case row is written first
(``u``: the revision-checked UPDATE, or the INSERT … ON CONFLICT DO NOTHING) and every index
row and event comes as JSON that the server unpacks (``json_populate_recordset``).  Every other
part runs only ``WHERE EXISTS (SELECT 1 FROM u)``: when the revision check fails (or the case
exists) nothing at all is written.  Reading ``u`` makes the server run the UPDATE (and take, or
wait for, the case row's lock) before any index row is written, so the lock order described in
``sql_store`` holds.  A task's candidate rows may refer to a task inserted by the same
statement: foreign keys are checked at the statement's end.

A save fails by itself when it loses the race, and an insert when its case id or business
key is taken: the last part is ``liucheng_conflict`` (migration 0009), which raises SQLSTATE
40001 with the last parameter as its message, so the store need not wait for the answer and
can send the statement alone, as a transaction by itself (see ``SqlStore.insert``).

**Only the parts a step needs, each with a JSON parameter of its own.**  The first version sent
all rows in one JSON document and unpacked each kind with ``d->'tasks'``, ``d->'history'``, …:
PostgreSQL's ``json`` type is text, so each of the nine ``->`` parsed the whole document
again, and every part — empty or not — was planned, initialised and run on every save.
Profiled on the server (``perf``, the access-pass benchmark, PostgreSQL 15), parsing JSON was a
fifth of the backend's CPU time and starting the executor for the nine-part plan another
seventh.  Now a statement has a part only for the kinds of rows this step writes, and each
part's rows are their own parameter, parsed once.  A completion typically writes four kinds
(the task that went, the next task and its candidates, the events), so the statements are few
distinct texts; each is written once (``statement``) and psycopg prepares it on the server after
a few uses.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

# The kinds of rows a save writes, in the order of their parts.  The ``gone_*`` parameters are
# JSON arrays of keys, the others JSON arrays of objects keyed by column name.
PARTS = (
    "gone_tasks",
    "gone_subs",
    "gone_vars",
    "tasks",
    "candidates",
    "subs",
    "vars",
    "history",
)

COLUMNS = {
    "tasks": (
        "id",
        "instance_id",
        "token",
        "position",
        "node",
        "name",
        "assignee",
        "form_key",
        "due",
        "priority",
        "process_id",
        "business_key",
        "created",
    ),
    "candidates": ("task_id", "kind", "position", "name"),
    "subs": ("instance_id", "sub_id", "kind", "message", "key", "due"),
    "vars": ("instance_id", "name", "text_value", "number_value", "bool_value", "json"),
    "history": ("instance_id", "first_seq", "last_seq", "time", "events"),
}

_CTE = {
    "gone_tasks": "DELETE FROM tasks WHERE id IN (SELECT json_array_elements_text(%s::json))"
    " AND EXISTS (SELECT 1 FROM u)",
    "gone_subs": "DELETE FROM subscriptions s USING u WHERE s.instance_id = u.id"
    " AND s.sub_id IN (SELECT json_array_elements_text(%s::json)::int)",
    "gone_vars": "DELETE FROM variables v USING u WHERE v.instance_id = u.id AND v.scope = 0"
    " AND v.name IN (SELECT json_array_elements_text(%s::json))",
    "tasks": "INSERT INTO tasks (id, instance_id, token, position, node, name, assignee,"
    " form_key, due, priority, process_id, business_key, created)"
    " SELECT r.id, r.instance_id, r.token, r.position, r.node, r.name, r.assignee, r.form_key,"
    " r.due, r.priority, r.process_id, r.business_key, r.created"
    " FROM json_populate_recordset(NULL::tasks, %s::json) r WHERE EXISTS (SELECT 1 FROM u)",
    "candidates": "INSERT INTO task_candidates (task_id, kind, position, name)"
    " SELECT r.task_id, r.kind, r.position, r.name"
    " FROM json_populate_recordset(NULL::task_candidates, %s::json) r"
    " WHERE EXISTS (SELECT 1 FROM u)",
    "subs": "INSERT INTO subscriptions (instance_id, sub_id, kind, message, key, due)"
    " SELECT r.instance_id, r.sub_id, r.kind, r.message, r.key, r.due"
    " FROM json_populate_recordset(NULL::subscriptions, %s::json) r"
    " WHERE EXISTS (SELECT 1 FROM u)"
    " ON CONFLICT (instance_id, sub_id) DO UPDATE SET kind = excluded.kind,"
    " message = excluded.message, key = excluded.key, due = excluded.due",
    "vars": "INSERT INTO variables (instance_id, scope, name, text_value, number_value,"
    " bool_value, json)"
    " SELECT r.instance_id, 0, r.name, r.text_value, r.number_value, r.bool_value, r.json"
    " FROM json_populate_recordset(NULL::variables, %s::json) r"
    " WHERE EXISTS (SELECT 1 FROM u)"
    " ON CONFLICT (instance_id, scope, name) DO UPDATE SET text_value = excluded.text_value,"
    " number_value = excluded.number_value, bool_value = excluded.bool_value,"
    " json = excluded.json",
    "history": "INSERT INTO history (instance_id, first_seq, last_seq, time, events)"
    " SELECT r.instance_id, r.first_seq, r.last_seq, r.time, r.events"
    " FROM json_populate_recordset(NULL::history, %s::json) r WHERE EXISTS (SELECT 1 FROM u)",
}

# The case row: parameters (state, ended, data, id, loaded rev) for a save; (id, process_id,
# version, business_key, state, started, ended, data) for an insert.
_HEADS = {
    "save": "UPDATE instances SET state = %s, ended = %s, data = %s, rev = rev + 1"
    " WHERE id = %s AND rev = %s RETURNING id",
    "insert": "INSERT INTO instances"
    " (id, process_id, version, business_key, state, started, ended, rev, data)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s) ON CONFLICT DO NOTHING RETURNING id",
}
# The answer of either: 1, or the error of a lost race or a taken id or business key
# (parameter: its message).
_TAIL = "SELECT CASE WHEN (SELECT count(*) FROM u) = 1 THEN 1 ELSE liucheng_conflict(%s) END"


@functools.lru_cache(maxsize=512)
def statement(kind: str, parts: tuple[str, ...]) -> str:
    """The text of a save (``kind`` "save") or insert ("insert") writing ``parts`` (names from
    ``PARTS``, in that order).  Parameters: the case row's (see ``_HEADS``), then one JSON text
    per part, then the message of the error raised when the case row was not written."""
    ctes = [f"u AS ({_HEADS[kind]})"]
    ctes.extend(f"{part} AS ({_CTE[part]})" for part in parts)
    return f"WITH {', '.join(ctes)} {_TAIL}"


def shape(documents: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The part names of ``documents`` ((part, JSON text) pairs, in ``PARTS`` order)."""
    return tuple(part for part, _ in documents)
