"""DMN 1.1–1.5 XML → :class:`DecisionModel`, every expression compiled, every reference checked.

The XML is read with the same hardening as BPMN files (``bpmn.xml_safety``: no DTD, no
entities, no network, no XInclude, a size limit).  Then, in order: item definitions; input
data; business knowledge models; decisions; decision services; references (``href="#id"``)
resolved; cycles among required decisions refused.

Refused at deployment, each with file, line and element: anything that is not DMN; an unknown
element in the DMN namespace (a misspelt element would otherwise vanish); imports, Java/PMML
functions, non-FEEL expression languages, ``importedValues``; a duplicate id or decision name;
an expression that does not compile; a reference to nothing; a cycle of required decisions.

Passed over, because they carry no logic: diagrams (DMNDI), descriptions, extension elements,
text annotations, associations, groups, knowledge sources, authority requirements, and the
documentary children of a decision (question, decision maker, ...).
"""

from __future__ import annotations

import os
from typing import Final

from lxml import etree

from liucheng.bpmn.xml_safety import DEFAULT_MAX_BYTES, parse_xml
from liucheng.errors import BpmnParseError

from . import compile as c
from .boxed import BOXED, Boxed
from .errors import DmnParseError, Where
from .model import Decision, DecisionModel, DecisionService, InputData, KnowledgeModel
from .table import DecisionTable, read_table
from .types import TypeTable, is_single
from .xml_read import DMN_NAMESPACES, Reader, local, namespace

#: Children of ``definitions`` that hold no logic.
_DEFINITIONS_IGNORED: Final = frozenset(
    {
        "textAnnotation",
        "association",
        "group",
        "knowledgeSource",
        "elementCollection",
        "performanceIndicator",
        "organizationUnit",
    }
)
_DEFINITIONS_READ: Final = frozenset(
    {"itemDefinition", "inputData", "businessKnowledgeModel", "decision", "decisionService"}
)
#: Children of ``decision`` that document it and hold no logic.
_DECISION_DOCS: Final = frozenset(
    {
        "question",
        "allowedAnswers",
        "authorityRequirement",
        "supportedObjective",
        "impactedPerformanceIndicator",
        "decisionMaker",
        "decisionOwner",
        "usingProcess",
        "usingTask",
    }
)


def parse_dmn(
    data: bytes | str | os.PathLike[str],
    filename: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DecisionModel:
    """Parse DMN XML and compile it.

    ``data`` is the XML as ``bytes`` or ``str``, or a path (``pathlib.Path``) to read;
    ``filename`` names the file in error messages (default: the path, if one was given).
    Raises DmnParseError, naming file, line and element, for anything that cannot run.
    """
    if isinstance(data, os.PathLike):
        return parse_dmn_file(data, filename, max_bytes=max_bytes)
    if isinstance(data, str) and not data.lstrip("\ufeff \t\r\n").startswith("<"):
        raise DmnParseError(
            "this is not XML; to read a file, pass a pathlib.Path or call parse_dmn_file",
            Where(filename),
        )
    try:
        root = parse_xml(data, source=filename, max_bytes=max_bytes)
    except BpmnParseError as exc:
        raise DmnParseError(exc.message, Where(filename, exc.line)) from None
    return _definitions(root, filename)


def parse_dmn_file(
    path: str | os.PathLike[str],
    filename: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DecisionModel:
    """Parse a DMN file; its size is checked before it is read."""
    name = filename or os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise DmnParseError(
                f"file is too large ({size} bytes; the limit is {max_bytes} bytes)", Where(name)
            )
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise DmnParseError(f"cannot read the file: {exc.strerror}", Where(name)) from None
    return parse_dmn(data, name, max_bytes=max_bytes)


def _definitions(root: etree._Element, source: str | None) -> DecisionModel:
    ns = namespace(root)
    where = Where(source, root.sourceline if isinstance(root.sourceline, int) else None)
    if local(root) != "definitions" or ns not in DMN_NAMESPACES:
        raise DmnParseError(
            f"not a DMN file: the root element is <{local(root)}> in namespace "
            f"{ns or '(none)'!r}, expected <definitions> of DMN 1.1 to 1.5",
            where,
        )
    reader = Reader(ns, source, root.get("namespace"))
    top = Where(source)
    for el in reader.children(root):
        name = local(el)
        if name == "import":
            raise DmnParseError("imports are not supported", top.at("import", el))
        if name not in _DEFINITIONS_READ | _DEFINITIONS_IGNORED and name not in {
            "description",
            "extensionElements",
        }:
            raise DmnParseError(f"unexpected element <{name}> in definitions", top.at(None, el))
    language = root.get("expressionLanguage")
    types = TypeTable()
    types.read(reader, root, top)
    builder = _Builder(reader, language, types, top)
    builder.read(root)
    return DecisionModel(
        id=root.get("id"),
        name=root.get("name"),
        namespace=root.get("namespace"),
        source=source,
        version=DMN_NAMESPACES[ns],
        decisions=builder.decisions,
        input_data=builder.input_data,
        knowledge_models=builder.knowledge,
        services=builder.services,
        types=types.types,
    )


class _Builder:
    """Reads the DRG elements of one ``definitions`` and checks their references."""

    def __init__(self, reader: Reader, language: str | None, types: TypeTable, top: Where):
        self.reader = reader
        self.types = types
        self.top = top
        self.boxed = Boxed(reader, language, types)
        self.decisions: dict[str, Decision] = {}
        self.input_data: dict[str, InputData] = {}
        self.knowledge: dict[str, KnowledgeModel] = {}
        self.services: dict[str, DecisionService] = {}
        self.lines: dict[str, Where] = {}

    def read(self, root: etree._Element) -> None:
        r = self.reader
        for el in r.children(root, "inputData"):
            self._input_data(el)
        for el in r.children(root, "businessKnowledgeModel"):
            self._bkm(el)
        for el in r.children(root, "decision"):
            self._decision(el)
        for el in r.children(root, "decisionService"):
            self._service(el)
        self._check_references()
        self._check_cycles()
        self._check_names()

    # -- elements ------------------------------------------------------------------------------
    def _register(self, el: etree._Element, kind: str) -> tuple[str, str, Where]:
        """Id, name and address of a DRG element; refuses a missing or duplicate id."""
        name = " ".join(str(el.get("name") or "").split())
        ident = str(el.get("id") or "").strip()
        where = self.top.at(f"{kind} '{ident or name or '?'}'", el)
        if not ident:
            if not name:
                raise DmnParseError(f"{kind} without an id or a name", where)
            ident = name
        if ident in self.lines:
            first = self.lines[ident]
            raise DmnParseError(f"duplicate id '{ident}' (first used at line {first.line})", where)
        self.lines[ident] = where
        return ident, name or ident, where

    def _variable(self, el: etree._Element, name: str, where: Where) -> str:
        var = self.reader.child(el, "variable")
        if var is None:
            return name
        self.types.resolve(var.get("typeRef"), where.at("variable", var))
        return " ".join(str(var.get("name") or name).split())

    def _input_data(self, el: etree._Element) -> None:
        ident, name, where = self._register(el, "input data")
        self.reader.check_children(el, ("variable",), where, "input data")
        variable = self._variable(el, name, where)
        var = self.reader.child(el, "variable")
        item = self.types.resolve(var.get("typeRef") if var is not None else None, where)
        self.input_data[ident] = InputData(ident, variable, item, where)

    def _bkm(self, el: etree._Element) -> None:
        ident, name, where = self._register(el, "business knowledge model")
        r = self.reader
        r.check_children(
            el,
            ("variable", "encapsulatedLogic", "knowledgeRequirement", "authorityRequirement"),
            where,
            "a business knowledge model",
        )
        variable = self._variable(el, name, where)
        logic = r.child(el, "encapsulatedLogic")
        params: tuple[str, ...] = ()
        body = None
        if logic is not None:
            here = where.at("encapsulated logic", logic)
            r.check_children(logic, ("formalParameter", *BOXED), here, "encapsulated logic")
            kind = (logic.get("kind") or "FEEL").strip()
            if kind != "FEEL":
                raise DmnParseError(f"functions of kind {kind!r} are not supported", here)
            params = tuple(
                " ".join(str(p.get("name") or "").split())
                for p in r.children(logic, "formalParameter")
            )
            if "" in params:
                raise DmnParseError("a formal parameter without a name", here)
            for p in r.children(logic, "formalParameter"):
                self.types.resolve(p.get("typeRef"), here)
            body_el = self.boxed.find(logic, here)
            if body_el is not None:
                body = self.boxed.compile(body_el, here.at(None, body_el), variable)
        knowledge = self._refs(el, "knowledgeRequirement", "requiredKnowledge", where)
        self.knowledge[ident] = KnowledgeModel(
            ident, name, variable, params, body, knowledge, where
        )

    def _decision(self, el: etree._Element) -> None:
        ident, name, where = self._register(el, "decision")
        r = self.reader
        allowed = {"variable", "informationRequirement", "knowledgeRequirement"}
        r.check_children(el, allowed | _DECISION_DOCS | BOXED, where, "a decision")
        variable = self._variable(el, name, where)
        var = r.child(el, "variable")
        type_ref = var.get("typeRef") if var is not None else None
        item = self.types.resolve(type_ref, where)
        required_decisions: list[str] = []
        required_inputs: list[str] = []
        for req in r.children(el, "informationRequirement"):
            here = where.at("information requirement", req)
            r.check_children(req, ("requiredDecision", "requiredInput"), here, "a requirement")
            for target in r.children(req):
                ref = r.ref_id(target.get("href"), here)
                if local(target) == "requiredDecision":
                    required_decisions.append(ref)
                else:
                    required_inputs.append(ref)
        knowledge = self._refs(el, "knowledgeRequirement", "requiredKnowledge", where)
        logic_el = self.boxed.find(el, where)
        logic: DecisionTable | c.Expr | None = None
        kind = "none"
        if logic_el is not None:
            kind = local(logic_el)
            here = where.at(None, logic_el)
            if kind == "decisionTable":
                logic = read_table(r, logic_el, here, variable, self.boxed.language, self.types)
            else:
                logic = self.boxed.compile(logic_el, here, variable)
        self.decisions[ident] = Decision(
            id=ident,
            name=name,
            variable=variable,
            required_decisions=tuple(dict.fromkeys(required_decisions)),
            required_inputs=tuple(dict.fromkeys(required_inputs)),
            knowledge=knowledge,
            logic=logic,
            kind=kind,
            type=item,
            where=where,
            single=is_single(type_ref, item),
        )

    def _service(self, el: etree._Element) -> None:
        ident, name, where = self._register(el, "decision service")
        r = self.reader
        parts = ("outputDecision", "encapsulatedDecision", "inputDecision", "inputData")
        r.check_children(el, ("variable", *parts), where, "a decision service")
        variable = self._variable(el, name, where)
        refs = {
            p: tuple(
                self.reader.ref_id(x.get("href"), where.at(None, x)) for x in r.children(el, p)
            )
            for p in parts
        }
        self.services[ident] = DecisionService(
            id=ident,
            name=name,
            variable=variable,
            outputs=refs["outputDecision"],
            input_decisions=refs["inputDecision"],
            input_data=refs["inputData"],
            params=(),
            where=where,
        )

    def _refs(self, el: etree._Element, req: str, target: str, where: Where) -> tuple[str, ...]:
        out: list[str] = []
        for x in self.reader.children(el, req):
            here = where.at(None, x)
            self.reader.check_children(x, (target,), here, f"a {req}")
            out.extend(
                self.reader.ref_id(t.get("href"), here) for t in self.reader.children(x, target)
            )
        return tuple(dict.fromkeys(out))

    # -- checks --------------------------------------------------------------------------------
    def _check_references(self) -> None:
        for d in self.decisions.values():
            for ref in d.required_decisions:
                if ref not in self.decisions:
                    raise DmnParseError(f"requires decision '{ref}', which does not exist", d.where)
            for ref in d.required_inputs:
                if ref not in self.input_data:
                    raise DmnParseError(
                        f"requires input data '{ref}', which does not exist", d.where
                    )
        owners: list[Decision | KnowledgeModel] = [
            *self.decisions.values(),
            *self.knowledge.values(),
        ]
        for owner in owners:
            for ref in owner.knowledge:
                if ref not in self.knowledge and ref not in self.services:
                    raise DmnParseError(
                        f"requires knowledge '{ref}', which is no business knowledge model "
                        "or decision service",
                        owner.where,
                    )
        for ident, s in list(self.services.items()):
            for ref in (*s.outputs, *s.input_decisions):
                if ref not in self.decisions:
                    raise DmnParseError(f"names decision '{ref}', which does not exist", s.where)
            for ref in s.input_data:
                if ref not in self.input_data:
                    raise DmnParseError(f"names input data '{ref}', which does not exist", s.where)
            if not s.outputs:
                raise DmnParseError("a decision service needs an output decision", s.where)
            params = tuple(self.input_data[i].name for i in s.input_data) + tuple(
                self.decisions[d].variable for d in s.input_decisions
            )
            self.services[ident] = DecisionService(
                s.id,
                s.name,
                s.variable,
                s.outputs,
                s.input_decisions,
                s.input_data,
                params,
                s.where,
            )

    def _check_cycles(self) -> None:
        """Refuse a decision that requires itself, directly or through others."""
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in self.decisions:
            if start in state:
                continue
            path: list[str] = []
            stack: list[tuple[str, int]] = [(start, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0:
                    state[node] = 1
                    path.append(node)
                reqs = self.decisions[node].required_decisions
                if i < len(reqs):
                    stack.append((node, i + 1))
                    nxt = reqs[i]
                    if state.get(nxt) == 1:
                        cycle = [*path[path.index(nxt) :], nxt]
                        raise DmnParseError(
                            "required decisions form a cycle: "
                            + " → ".join(f"'{x}'" for x in cycle),
                            self.decisions[nxt].where,
                        )
                    if nxt not in state:
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    path.pop()

    def _check_names(self) -> None:
        seen: dict[str, str] = {}
        for d in self.decisions.values():
            if d.name in seen:
                raise DmnParseError(
                    f"two decisions are named '{d.name}' ('{seen[d.name]}' and '{d.id}')", d.where
                )
            seen[d.name] = d.id
