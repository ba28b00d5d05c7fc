"""Vendor extensions → vendor-neutral ``FlowNode.properties`` / ``inputs`` / ``outputs``.

Each dialect has one small reader below, so a reader knows where a Camunda (or Zeebe, Flowable,
Activiti, SpiffWorkflow) setting is handled without searching.  Readers only *read*: the original
attributes and extension elements stay verbatim in the model, and the writer uses these same
readers to decide which normalised values are already carried by the verbatim XML.

Dialects and what they supply:

* **Camunda 7** (``camunda:`` attributes): assignee, candidateGroups, candidateUsers, formKey,
  dueDate, priority, class / delegateExpression / expression / type="external" + topic,
  resultVariable, decisionRef, initiator; ``camunda:inputOutput`` input/output parameters.
* **Flowable** and **Activiti** (``flowable:`` / ``activiti:`` attributes): the same attribute names
  as Camunda 7; ``flowable:type="external-worker"`` + ``flowable:topic`` is an external worker.
* **Camunda 8 / Zeebe** (``zeebe:`` extension elements): assignmentDefinition, formDefinition
  (formKey or formId), taskDefinition type (→ ``service``), ioMapping, calledDecision, script,
  subscription correlationKey, taskSchedule dueDate, priorityDefinition.  Zeebe puts a message's
  ``zeebe:subscription`` inside the ``bpmn:message``; events and receive tasks referring to that
  message get its ``correlation_key``.
* **SpiffWorkflow** (``spiffworkflow:`` extension elements): serviceTaskOperator id (→ ``service``),
  calledDecisionId (→ ``decision_ref``), preScript / postScript (→ ``pre_script`` /
  ``post_script``).  Its parameters, properties and instructionsForEndUser stay verbatim only.

Precedence when one element carries several dialects (rare: a file converted between tools): the
first dialect that supplies a key wins, in the order **Camunda 7, Zeebe, Flowable, Activiti,
SpiffWorkflow**.  ``service`` and ``service_type`` always come from the same dialect, and ``inputs``
/ ``outputs`` each come whole from the first dialect that has any.  Camunda 7 comes first because
it is the most common dialect and because the writer records a value set from Python as a
``camunda:`` attribute: an edit made in Python therefore wins when the file is read back.

Camunda input/output parameters whose value is a nested ``camunda:list`` / ``camunda:map`` /
``camunda:script`` are kept verbatim and normalised with ``source=None``; validation reports them
as not supported yet (see ``validate.unsupported_io_mappings``), so the engine never silently runs
them as "set to null".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lxml import etree

from liucheng.bpmn.model import (
    ACTIVITI_NS,
    CAMUNDA_NS,
    FLOWABLE_NS,
    SPIFF_NS,
    ZEEBE_NS,
    IoMapping,
)

#: Vendor-neutral process properties (``Process.properties``).
PROCESS_PROPERTY_KEYS = ("candidate_starter_groups", "candidate_starter_users", "version_tag")

# Camunda 7 / Flowable / Activiti attribute (local name) → neutral key.  The service attributes
# (class, delegateExpression, type, topic) are handled separately because they form one pair.
_C7_ATTRS = {
    "assignee": "assignee",
    "candidateGroups": "candidate_groups",
    "candidateUsers": "candidate_users",
    "formKey": "form_key",
    "dueDate": "due_date",
    "priority": "priority",
    "resultVariable": "result_variable",
    "decisionRef": "decision_ref",
    "mapDecisionResult": "map_decision_result",
    "initiator": "initiator",
    "expression": "expression",
}
_C7_PROCESS_ATTRS = {
    "candidateStarterGroups": "candidate_starter_groups",
    "candidateStarterUsers": "candidate_starter_users",
    "versionTag": "version_tag",
}

#: Neutral key → Camunda 7 attribute, used by the writer for values set from Python.
CAMUNDA_ATTR_FOR = {key: attr for attr, key in _C7_ATTRS.items()}
CAMUNDA_PROCESS_ATTR_FOR = {key: attr for attr, key in _C7_PROCESS_ATTRS.items()}

_ATTR_DIALECTS = (CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS)

Normalised = tuple[dict[str, str], list[IoMapping], list[IoMapping]]


def _local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


def _ns(el: etree._Element) -> str | None:
    tag = str(el.tag)
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def _attr_dialect(ns: str, attrs: Mapping[str, str]) -> dict[str, str]:
    """Camunda-7-style attributes in namespace ``ns`` (Camunda 7, Flowable and Activiti agree)."""
    props: dict[str, str] = {}
    prefix = f"{{{ns}}}"
    values = {k[len(prefix) :]: v for k, v in attrs.items() if k.startswith(prefix)}
    if not values:
        return props  # the common case: this dialect is not used on the element
    for attr, value in values.items():
        key = _C7_ATTRS.get(attr)
        if key is not None:
            props[key] = value
    topic, cls, delegate = (
        values.get("topic"),
        values.get("class"),
        values.get("delegateExpression"),
    )
    if topic is not None:  # camunda:type="external", flowable:type="external-worker"
        props["service"], props["service_type"] = topic, "external"
    elif cls is not None:
        props["service"], props["service_type"] = cls, "class"
    elif delegate is not None:
        props["service"], props["service_type"] = delegate, "delegate"
    return props


def _camunda_io(extensions: Iterable[etree._Element]) -> tuple[list[IoMapping], list[IoMapping]]:
    inputs: list[IoMapping] = []
    outputs: list[IoMapping] = []
    for ext in extensions:
        if ext.tag != f"{{{CAMUNDA_NS}}}inputOutput":
            continue
        for param in ext:
            if not isinstance(param.tag, str):
                continue
            local = _local(param)
            if local not in ("inputParameter", "outputParameter"):
                continue
            # A nested list/map/script has no plain-text source: see the module docstring.
            nested = any(isinstance(child.tag, str) for child in param)
            text = None if nested else (param.text or "").strip() or None
            mapping = IoMapping(target=param.get("name", ""), source=text)
            (inputs if local == "inputParameter" else outputs).append(mapping)
    return inputs, outputs


def _zeebe(extensions: Iterable[etree._Element]) -> Normalised:
    props: dict[str, str] = {}
    inputs: list[IoMapping] = []
    outputs: list[IoMapping] = []

    def take(el: etree._Element, attr: str, key: str) -> None:
        value = el.get(attr)
        if value is not None and key not in props:
            props[key] = value

    for ext in extensions:
        if _ns(ext) != ZEEBE_NS:
            continue
        local = _local(ext)
        if local == "taskDefinition" and ext.get("type") is not None:
            props.setdefault("service", ext.get("type", ""))
            props.setdefault("service_type", "zeebe")
        elif local == "assignmentDefinition":
            take(ext, "assignee", "assignee")
            take(ext, "candidateGroups", "candidate_groups")
            take(ext, "candidateUsers", "candidate_users")
        elif local == "formDefinition":
            take(ext, "formKey", "form_key")
            take(ext, "formId", "form_key")
        elif local == "calledDecision":
            take(ext, "decisionId", "decision_ref")
            take(ext, "resultVariable", "result_variable")
            props.setdefault("map_decision_result", "value")  # Zeebe stores the result as is
        elif local == "script":
            take(ext, "expression", "expression")
            take(ext, "resultVariable", "result_variable")
        elif local == "subscription":
            take(ext, "correlationKey", "correlation_key")
        elif local == "taskSchedule":
            take(ext, "dueDate", "due_date")
        elif local == "priorityDefinition":
            take(ext, "priority", "priority")
        elif local == "ioMapping":
            for m in ext:
                if not isinstance(m.tag, str) or _local(m) not in ("input", "output"):
                    continue
                mapping = IoMapping(target=m.get("target", ""), source=m.get("source"))
                (inputs if _local(m) == "input" else outputs).append(mapping)
    return props, inputs, outputs


def _spiff(extensions: Iterable[etree._Element]) -> dict[str, str]:
    props: dict[str, str] = {}
    for ext in extensions:
        if _ns(ext) != SPIFF_NS:
            continue
        local = _local(ext)
        if local == "serviceTaskOperator" and ext.get("id") is not None:
            props.setdefault("service", ext.get("id", ""))
            props.setdefault("service_type", "spiff")
        elif local == "calledDecisionId":
            props.setdefault("decision_ref", (ext.text or "").strip())
        elif local == "preScript":
            props.setdefault("pre_script", ext.text or "")
        elif local == "postScript":
            props.setdefault("post_script", ext.text or "")
    return props


def node_properties(
    attrs: Mapping[str, str],
    extensions: list[etree._Element],
    message_extensions: list[etree._Element] | None = None,
) -> Normalised:
    """Normalise one flow node's vendor settings, applying the documented precedence.

    ``attrs`` are the node's attributes by Clark name, ``extensions`` the children of its
    ``extensionElements``; ``message_extensions`` are those of the message the node refers to (for
    Zeebe's correlation key).
    """
    zeebe_props, zeebe_in, zeebe_out = _zeebe(extensions)
    layers = [
        _attr_dialect(CAMUNDA_NS, attrs),
        zeebe_props,
        _attr_dialect(FLOWABLE_NS, attrs),
        _attr_dialect(ACTIVITI_NS, attrs),
        _spiff(extensions),
    ]
    props: dict[str, str] = {}
    for layer in layers:
        if "service" in props:  # service and service_type come from one dialect together
            layer = {k: v for k, v in layer.items() if k not in ("service", "service_type")}
        for key, value in layer.items():
            props.setdefault(key, value)
    if "correlation_key" not in props and message_extensions:
        correlation = _zeebe(message_extensions)[0].get("correlation_key")
        if correlation is not None:
            props["correlation_key"] = correlation
    cam_in, cam_out = _camunda_io(extensions)
    return props, cam_in or zeebe_in, cam_out or zeebe_out


def process_properties(
    attrs: Mapping[str, str], extensions: list[etree._Element]
) -> dict[str, str]:
    """Normalise a process's vendor settings (same precedence as for nodes)."""
    props: dict[str, str] = {}
    for ns in _ATTR_DIALECTS[:1]:
        for attr, key in _C7_PROCESS_ATTRS.items():
            value = attrs.get(f"{{{ns}}}{attr}")
            if value is not None:
                props.setdefault(key, value)
    for ext in extensions:
        if ext.tag == f"{{{ZEEBE_NS}}}versionTag" and ext.get("value") is not None:
            props.setdefault("version_tag", ext.get("value", ""))
    for ns in _ATTR_DIALECTS[1:]:
        for attr, key in _C7_PROCESS_ATTRS.items():
            value = attrs.get(f"{{{ns}}}{attr}")
            if value is not None:
                props.setdefault(key, value)
    return props
