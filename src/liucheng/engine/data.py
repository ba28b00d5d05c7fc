"""Data objects as variables, and the declared types of a process's variables.

**A data object is a variable of the scope that declares it.**  When a case starts, each data
object of the process becomes a process variable; when a subprocess (or an event subprocess)
starts, each data object of its body becomes a variable of that subprocess's scope, local to it
as an input mapping's variable is.  It starts with its default (``<flowable:value>`` …, read as
its declared type) or, without one, as None — it exists, so a task inside the subprocess that
sets it sets the local one.  A variable of that name already in the new scope (an input mapping
of the subprocess, a variable given to ``Engine.start``) wins over the default.  The creation is
one ``variables_changed`` history event of the scope's element (None for the process).

**Its variable name** is the data object's ``name`` when that is a usable name (a Python
identifier, which covers ``申请人`` and ``order_total`` but not a label such as "Order data"),
else its ``id`` — Flowable's rule, with a fall-back for the labels modelers draw.

**Its type** comes from ``itemSubjectRef``: the ``structureRef`` of the item definition it
names, or the reference itself when it names a type directly as Flowable writes it
(``itemSubjectRef="xsd:int"``); ``isCollection`` on the data object or its item definition
makes it a list.  A structure of the model's own (``structureRef="Order"``) declares no type.
``<liucheng:variables>`` declares types of process variables that are not data objects.  One
name has one type in a process: two declarations that disagree are refused at deployment, as
are unknown type names and defaults that are not values of their type.

**Data associations** (``dataInputAssociation`` / ``dataOutputAssociation`` between a task and
a data object reference) move nothing: the data object is a variable every element in its
scope reads and writes already.  They stay in the model for the diagram.  On a call activity
they do pass values to and from the called case (engine/data_associations.py).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from liucheng.bpmn.data import item_definitions, variable_declarations
from liucheng.bpmn.model import DataObject, Definitions, ItemDefinition, Process, Scope
from liucheng.engine.vartypes import TYPE_NAMES, VarType, type_named, type_of_structure

#: Reports a problem: (message, element id, line).
Issue = Callable[[str, str | None, int | None], None]


@dataclass(frozen=True, slots=True)
class DataSpec:
    """One data object as the executor creates it."""

    element: str  # the data object's id
    variable: str
    type: VarType | None  # None: any value
    default: str | None  # the default as written; parsed when a scope starts

    def initial(self, tz: tzinfo) -> Any:
        """The value the variable starts with (a new list or dict for each scope)."""
        if self.default is None:
            return None
        if self.type is None:
            return self.default
        return self.type.parse_default(self.default, tz)


DataObjects = tuple[DataSpec, ...]


@dataclass(slots=True)
class DataPlan:
    """What a process declares: data objects per scope and the type of each typed variable."""

    process: DataObjects = ()  # the process's own data objects
    subprocesses: dict[str, DataObjects] = field(default_factory=dict)  # by subprocess id
    types: dict[str, VarType] = field(default_factory=dict)


def initial_values(
    specs: DataObjects, variables: MutableMapping[str, Any], tz: tzinfo
) -> dict[str, Any]:
    """Create the data objects of a scope that just began in its ``variables`` (a variable of
    that name already there wins); return what was created."""
    created: dict[str, Any] = {}
    for spec in specs:
        if spec.variable not in variables:
            variables[spec.variable] = created[spec.variable] = spec.initial(tz)
    return created


def variable_name(obj: DataObject) -> str:
    """The variable a data object is: its name when usable as one, else its id."""
    name = (obj.name or "").strip()
    return name if name.isidentifier() else obj.id


def plan_data(defs: Definitions, process: Process, issue: Issue) -> DataPlan:
    """Read the data objects and declared types of ``process``; report what cannot run."""
    planner = _Planner(item_definitions(defs), issue)
    for decl in variable_declarations(process):
        where = f"variable declaration '{decl.name}' of process '{process.id}'"
        if not decl.name.isidentifier():
            issue(f"a liucheng:variable needs a name (found {decl.name!r})", process.id, None)
            continue
        name = type_named(decl.type)
        if name is None:
            known = ", ".join(TYPE_NAMES)
            issue(f"{where}: unknown type {decl.type!r} (known: {known})", process.id, None)
            continue
        planner.declare(decl.name, VarType(name, decl.collection), where, process.id, None)
    plan = DataPlan()
    plan.process = planner.scope(process.body)
    planner.nested(process.body, plan)
    plan.types = planner.types
    return plan


class _Planner:
    def __init__(self, items: dict[str, ItemDefinition], issue: Issue) -> None:
        self.items = items
        self.issue = issue
        self.types: dict[str, VarType] = {}
        self.declared_by: dict[str, str] = {}

    def declare(
        self, name: str, declared: VarType, where: str, element: str, line: int | None
    ) -> None:
        known = self.types.get(name)
        if known is not None and known != declared:
            self.issue(
                f"{where} declares variable '{name}' as {declared.describe()}, but "
                f"{self.declared_by[name]} declares it as {known.describe()}",
                element,
                line,
            )
            return
        self.types[name] = declared
        self.declared_by.setdefault(name, where)

    def nested(self, scope: Scope, plan: DataPlan) -> None:
        for node in scope.nodes.values():
            if node.body is not None:
                specs = self.scope(node.body)
                if specs:
                    plan.subprocesses[node.id] = specs
                self.nested(node.body, plan)

    def scope(self, scope: Scope) -> DataObjects:
        specs: list[DataSpec] = []
        names: dict[str, str] = {}
        for obj in scope.data_objects.values():
            variable = variable_name(obj)
            where = f"data object '{obj.id}'"
            if variable in names:
                self.issue(
                    f"{where} and data object '{names[variable]}' are both variable "
                    f"'{variable}' in one scope",
                    obj.id,
                    obj.line,
                )
                continue
            names[variable] = obj.id
            declared = self.type_of(obj)
            if declared is not None:
                self.declare(variable, declared, where, obj.id, obj.line)
                if obj.value is not None:
                    try:
                        declared.parse_default(obj.value, UTC)
                    except ValueError as exc:
                        self.issue(
                            f"{where}: default {obj.value!r} is not {declared.describe()}: {exc}",
                            obj.id,
                            obj.line,
                        )
                        continue
            specs.append(DataSpec(obj.id, variable, declared, obj.value))
        return tuple(specs)

    def type_of(self, obj: DataObject) -> VarType | None:
        ref = (obj.item_subject_ref or "").strip()
        if not ref:
            return None
        item = self.items.get(ref) or self.items.get(ref.rpartition(":")[2])
        if item is not None:
            name = type_of_structure(item.structure_ref)
            collection = obj.is_collection or item.is_collection
        else:
            name = type_of_structure(ref)
            collection = obj.is_collection
        return VarType(name, collection) if name is not None else None
