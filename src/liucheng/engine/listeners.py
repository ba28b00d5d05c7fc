"""Execution and task listeners, as Camunda 7, Flowable and Camunda 8 models declare them.

A listener is code that runs when something happens to an element: a token enters it
(``start``) or leaves it (``end``), a sequence flow is taken (``take``), a user task is created,
assigned, completed or deleted; on the process, the case starts or ends.  Camunda 7 and Flowable
files name Java code; Liucheng runs Python instead, resolved the way service tasks are:

* ``class="com.acme.AuditListener"`` and ``delegateExpression="${auditListener}"`` name a
  handler registered with ``Engine.register_service`` (the class name, or the name inside
  ``${…}``); Camunda 8's ``zeebe:executionListener type="audit"`` names one by its job type.
  The handler receives a copy of the visible variables plus ``listener_event`` and
  ``listener_element``, and may return a mapping of variables to set.
* ``<camunda:script scriptFormat="python">`` runs a script in the Python dialect, as a script
  task does.
* ``expression="${…}"`` is evaluated for its effect — which, in Liucheng's method-free JUEL,
  is none; such a listener is refused at deployment rather than silently doing nothing, unless
  it is a plain ``${name}`` (then it names a handler, as Camunda's delegate shorthand does).

A listener that fails raises an incident on its element (kind ``listener``); a retry runs it
again.  A task's ``complete`` listener runs before anything of the completion is kept, so its
failure refuses the completion (the caller gets the error, the task stays open), and a
process's ``start`` listener refuses the start the same way.  Events Liucheng does not raise
(a task's ``update``, ``timeout`` and ``delete``; a process's ``end``, for which an ``end``
listener on its end events is the way) are refused by name at deployment, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from liucheng.bpmn.model import ACTIVITI_NS, CAMUNDA_NS, FLOWABLE_NS, ZEEBE_NS
from liucheng.bpmn.xml_safety import fragments_mentioning
from liucheng.errors import ExpressionError
from liucheng.expr import PYTHON, Script, compile_script

#: The events an element's execution listeners may name, and a user task's task listeners.
EXECUTION_EVENTS = frozenset({"start", "end", "take"})
TASK_EVENTS = frozenset({"create", "assignment", "complete"})
_VENDORS = (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS)
#: Camunda 8 names task listener events by what is about to happen.
_ZEEBE_TASK_EVENTS = {
    "creating": "create",
    "assigning": "assignment",
    "completing": "complete",
}
_NAME = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][\w.]*)\s*\}\s*$")


@dataclass(frozen=True, slots=True)
class Listener:
    """One listener: on ``event``, call the handler ``handler`` or run ``script``."""

    event: str  # start, end, take; task:create, task:assignment, task:complete
    handler: str | None = None
    script: Script | None = None
    written: str = ""  # how the model wrote it, for messages


Listeners = dict[str, tuple[Listener, ...]]
"""Event -> its listeners in document order; an element without listeners has None instead."""


def read_listeners(xml: Iterable[str], issue: Callable[[str], None]) -> Listeners | None:
    """The listeners among an element's extension elements (verbatim XML fragments)."""
    found: dict[str, list[Listener]] = {}
    for el in fragments_mentioning(xml, "istener"):
        tag = str(el.tag)
        ns, _, local = tag[1:].partition("}")
        if ns in _VENDORS and local in ("executionListener", "taskListener"):
            listener = _vendor_listener(el, local == "taskListener", issue)
            if listener is not None:
                found.setdefault(listener.event, []).append(listener)
        elif ns == ZEEBE_NS and local in ("executionListeners", "taskListeners"):
            task = local == "taskListeners"
            for child in el:
                if not isinstance(child.tag, str):
                    continue
                listener = _zeebe_listener(child, task, issue)
                if listener is not None:
                    found.setdefault(listener.event, []).append(listener)
    return {event: tuple(items) for event, items in found.items()} or None


def _vendor_listener(
    el: etree._Element, task: bool, issue: Callable[[str], None]
) -> Listener | None:
    kind = "task listener" if task else "execution listener"
    event = (el.get("event") or "").strip()
    allowed = TASK_EVENTS if task else EXECUTION_EVENTS
    if event not in allowed:
        issue(f"{kind} event {event!r} is not supported (use {', '.join(sorted(allowed))})")
        return None
    key = f"task:{event}" if task else event
    cls, delegate, expression = el.get("class"), el.get("delegateExpression"), el.get("expression")
    script_el = next(
        (c for c in el if isinstance(c.tag, str) and str(c.tag).endswith("}script")), None
    )
    if cls:
        return Listener(key, handler=cls.strip(), written=f"class {cls.strip()!r}")
    for text in (delegate, expression):
        if text:
            named = _NAME.match(text)
            if named is None:
                issue(
                    f"{kind} {text!r}: only a handler's name (${{name}}) can run here; "
                    "Liucheng's JUEL calls no methods — register a Python handler and name it"
                )
                return None
            return Listener(key, handler=named.group(1), written=text.strip())
    if script_el is not None:
        fmt = (script_el.get("scriptFormat") or "").strip().lower()
        language = PYTHON if fmt in ("python", "python3", "text/x-python") else fmt or "?"
        try:
            script = compile_script(script_el.text or "", language)
        except ExpressionError as exc:
            issue(f"{kind} script: {exc}")
            return None
        return Listener(key, script=script, written=f"{fmt} script")
    issue(f"{kind} on {event!r} names no class, delegateExpression, expression or script")
    return None


def _zeebe_listener(
    el: etree._Element, task: bool, issue: Callable[[str], None]
) -> Listener | None:
    written = (el.get("eventType") or "").strip()
    event = _ZEEBE_TASK_EVENTS.get(written, written) if task else written
    allowed = TASK_EVENTS if task else EXECUTION_EVENTS - {"take"}
    if event not in allowed:
        kind = "task listener" if task else "execution listener"
        issue(f"zeebe {kind} eventType {written!r} is not supported")
        return None
    job_type = (el.get("type") or "").strip()
    if not job_type:
        issue("a zeebe listener needs a job type")
        return None
    key = f"task:{event}" if task else event
    return Listener(key, handler=job_type, written=f"type {job_type!r}")
