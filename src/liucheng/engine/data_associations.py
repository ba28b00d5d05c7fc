"""BPMN data input and output associations of a call activity: which values pass to the called
case and back, in the standard's own form rather than a vendor extension.

A call activity declares what the called process takes and gives in its ``ioSpecification``
(``dataInput`` / ``dataOutput``, each with a name).  A ``dataInputAssociation`` fills a data
input from the caller: from its ``sourceRef`` (a data object, a data object reference or a
property — read as the variable of that name), through a ``transformation`` expression if it
has one, or from an ``assignment``'s ``from`` expression.  The called case receives it as a
variable named after the data input.  A ``dataOutputAssociation`` does the reverse when the
called case ends: the called case's variable named after the data output (or its
``transformation``, evaluated over the called case's variables) lands in the caller's variable
its ``targetRef`` names.

Inside one case a data object already *is* a variable every element of its scope reads and
writes (engine/data.py), so associations on other activities move nothing; a called case has
variables of its own, which is why call activities need them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from liucheng.bpmn.model import BPMN_NS, FlowNode, Process, Scope
from liucheng.bpmn.xml_safety import fragments_mentioning
from liucheng.engine.data import variable_name

_B = f"{{{BPMN_NS}}}"


@dataclass(frozen=True, slots=True)
class Passing:
    """One value passed: into ``target`` (a variable of the receiving case), from the variable
    ``source`` of the giving case, or from ``expression`` (text, language) evaluated there."""

    target: str
    source: str | None = None
    expression: tuple[str, str | None] | None = None


def variables_by_element(process: Process) -> dict[str, str]:
    """Element id -> variable name, for every data object and data object reference of the
    process and its subprocesses (a reference reads its data object's variable)."""
    names: dict[str, str] = {}
    references: dict[str, str] = {}
    scopes: list[Scope] = [process.body]
    while scopes:
        scope = scopes.pop()
        scopes.extend(fn.body for fn in scope.nodes.values() if fn.body is not None)
        for obj in scope.data_objects.values():
            names[obj.id] = variable_name(obj)
        for el in fragments_mentioning(scope.artifacts_xml, "dataObjectReference"):
            if el.tag == f"{_B}dataObjectReference":
                ref = (el.get("dataObjectRef") or "").strip()
                if el.get("id") and ref:
                    references[el.get("id", "")] = ref
    for ref_id, object_id in references.items():
        names[ref_id] = names.get(object_id, object_id)
    return names


def call_passings(
    fn: FlowNode, names: dict[str, str]
) -> tuple[list[Passing], list[Passing], list[str]]:
    """The data input and output associations of a call activity, and what is wrong with them."""
    inputs: dict[str, str] = {}
    outputs: dict[str, str] = {}
    associations: list[etree._Element] = []
    for el in fragments_mentioning(fn.other_xml, ""):
        if el.tag == f"{_B}ioSpecification":
            for child in el:
                if child.tag in (f"{_B}dataInput", f"{_B}dataOutput") and child.get("id"):
                    side = inputs if child.tag == f"{_B}dataInput" else outputs
                    ident = child.get("id") or ""
                    side[ident] = (child.get("name") or ident).strip()
        elif el.tag in (f"{_B}dataInputAssociation", f"{_B}dataOutputAssociation"):
            associations.append(el)
    ins: list[Passing] = []
    outs: list[Passing] = []
    problems: list[str] = []
    for el in associations:
        incoming = el.tag == f"{_B}dataInputAssociation"
        sources = [(s.text or "").strip() for s in el.findall(f"{_B}sourceRef")]
        target = (el.findtext(f"{_B}targetRef") or "").strip()
        transformation = _expression(el.find(f"{_B}transformation"))
        assignments = el.findall(f"{_B}assignment")
        kind = "data input" if incoming else "data output"
        if len(sources) > 1:
            problems.append(f"a {kind} association with several sources is not supported")
            continue
        source = sources[0] if sources else None
        if incoming:
            if target not in inputs:
                problems.append(f"data input association targets '{target}', no data input")
                continue
            into = inputs[target]
            if assignments:
                for assignment in assignments:
                    expression = _expression(assignment.find(f"{_B}from"))
                    if expression is None:
                        problems.append("an assignment needs a from expression")
                    else:
                        ins.append(Passing(into, expression=expression))
            elif transformation is not None:
                ins.append(Passing(into, expression=transformation))
            elif source is not None:
                ins.append(Passing(into, source=names.get(source, source)))
            else:
                problems.append(f"data input association into '{target}' has no source")
        else:
            if source not in outputs:
                problems.append(f"data output association reads '{source}', no data output")
                continue
            if not target:
                problems.append(f"data output association from '{source}' has no target")
                continue
            into = names.get(target, target)
            if transformation is not None:
                outs.append(Passing(into, expression=transformation))
            else:
                outs.append(Passing(into, source=outputs[source]))
    return ins, outs, problems


def _expression(el: etree._Element | None) -> tuple[str, str | None] | None:
    if el is None or not (el.text or "").strip():
        return None
    return (el.text or "").strip(), el.get("language")
