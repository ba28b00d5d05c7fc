"""Parse and round-trip the BPMN MIWG reference models (github.com/bpmn-miwg/bpmn-miwg-test-suite).

    .venv/bin/python tools/miwg.py PATH [--vendors] [--only C.8] [-v] [--markdown]

PATH is a checkout of the test suite, an exported copy (``git archive HEAD | tar -x -C
/tmp/miwg``), or the bare git repository itself, which is exported to a temporary folder first.
The suite's files are read where they are and never copied into this repository.

Every ``Reference/*.bpmn`` (and, with ``--vendors``, every ``.bpmn`` in the other folders: the same
models as exported by modelling tools) goes through five checks:

1. **parse** with ``parse_bpmn`` (non-executable processes included: the parser is lossless and
   validation is a separate question);
2. **model round trip**: ``parse(write(model)) == model`` — the property our own fixtures are
   tested with — and ``write`` is stable (writing the re-read model gives the same bytes);
3. **XML fidelity**: the written file is compared with the original, element by element (children
   matched by id, else by name and position; attribute values that are QNames compared by
   namespace, not prefix).  A model comparison cannot see what the parser never read, so this is
   the check that finds silent losses.  Differences that the schema makes equivalent (an attribute
   left out that has that value as its XSD default, an empty ``extensionElements``, ``xsi:type``
   added to an expression, white space, comments, order) are counted as *normalised*, not lost;
4. **DI**: every ``BPMNShape`` and ``BPMNEdge`` of the original comes back with the same
   ``bpmnElement``, bounds, label bounds and waypoints (numbers compared as numbers);
5. **structural validation**: ``validate(defs, for_execution=False)``; its issues are listed.

Exit status is 0 when every reference file parses, round-trips and keeps its DI, else 1 (vendor
files never change the status: several are invalid BPMN).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lxml import etree

from liucheng.bpmn.model import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    XSI_NS,
    Definitions,
    FlowNode,
    Scope,
)
from liucheng.bpmn.parse import parse_bpmn
from liucheng.bpmn.validate import validate
from liucheng.bpmn.write import write_bpmn
from liucheng.bpmn.xml_safety import parse_xml
from liucheng.errors import LiuchengError

REFERENCE = "Reference"
_B = f"{{{BPMN_NS}}}"
_XSI_TYPE = f"{{{XSI_NS}}}type"
_QNAME = re.compile(r"^([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)$")
_EXPRESSIONS = frozenset(
    {
        "conditionExpression",
        "condition",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "completionCondition",
        "loopCardinality",
        "loopCondition",
        "activationCondition",
    }
)
#: (element, attribute, value) left out by the writer because the XSD gives it as the default.
_SCHEMA_DEFAULTS = frozenset(
    {
        ("subProcess", "triggeredByEvent", "false"),
        ("transaction", "triggeredByEvent", "false"),
        ("adHocSubProcess", "triggeredByEvent", "false"),
        ("boundaryEvent", "cancelActivity", "true"),
        ("startEvent", "isInterrupting", "true"),
    }
)


# -- results -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Difference:
    """One place where the written file differs from the original."""

    kind: str  # "lost", "added", "changed" or "normalised"
    where: str  # parent/child local names, e.g. "lane/extensionElements"
    detail: str = ""


@dataclass(slots=True)
class Result:
    group: str  # "Reference" or the vendor folder
    name: str  # file name inside the group
    exercises: list[str] = field(default_factory=list)
    error: str | None = None  # parse (or write) failure
    round_trip: bool = False
    stable: bool = False
    model_diff: list[str] = field(default_factory=list)  # first model differences
    differences: list[Difference] = field(default_factory=list)
    shapes: int = 0
    edges: int = 0
    di_problems: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return self.error is None

    @property
    def lost(self) -> list[Difference]:
        return [d for d in self.differences if d.kind != "normalised"]

    @property
    def ok(self) -> bool:
        return self.parsed and self.round_trip and self.stable and not self.di_problems


# -- locating the files -------------------------------------------------------------------------


def suite_dir(
    path: Path, *, vendors: bool = False
) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    """The folder holding ``Reference``, exporting the bare repository first when given one
    (only ``Reference`` unless ``vendors``)."""
    for candidate in (path, path.parent):
        if (candidate / REFERENCE).is_dir():
            return candidate, None
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        tmp = tempfile.TemporaryDirectory(prefix="miwg-")
        archive = subprocess.run(
            ["git", "-C", str(path), "archive", "--format=tar", "HEAD"]
            + ([] if vendors else [REFERENCE]),
            check=True,
            capture_output=True,
        ).stdout
        tar_path = Path(tmp.name) / "suite.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tar:
            tar.extractall(Path(tmp.name) / "suite", filter="data")
        tar_path.unlink()
        return Path(tmp.name) / "suite", tmp
    raise SystemExit(f"{path}: no {REFERENCE} folder here, and not a bare git repository")


def model_files(root: Path, *, vendors: bool) -> Iterator[tuple[str, Path]]:
    """(group, path) of every model to check: the reference set first, then each vendor folder."""
    for path in sorted((root / REFERENCE).glob("*.bpmn")):
        yield REFERENCE, path
    if not vendors:
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != REFERENCE):
        if folder.name.startswith("."):
            continue
        for path in sorted(folder.rglob("*.bpmn")):
            yield folder.name, path


# -- the checks ---------------------------------------------------------------------------------


def check_file(group: str, path: Path, base: Path) -> Result:
    result = Result(group, str(path.relative_to(base)))
    data = path.read_bytes()
    try:
        defs = parse_bpmn(data, source=path.name)
    except LiuchengError as exc:
        result.error = str(exc)
        return result
    result.exercises = exercises(defs)
    try:
        written = write_bpmn(defs)
        again = parse_bpmn(written, source=f"{path.name} (written)")
    except LiuchengError as exc:
        result.error = f"written file unreadable: {exc}"
        return result
    result.round_trip = again == defs
    if not result.round_trip:
        result.model_diff = model_differences(defs, again)[:5]
    result.stable = write_bpmn(again) == written
    original_root = parse_xml(data, source=path.name)
    written_root = parse_xml(written, source=f"{path.name} (written)")
    result.differences = xml_differences(original_root, written_root)
    result.shapes, result.edges, result.di_problems = di_check(original_root, written_root)
    result.issues = [i.message for i in validate(defs, for_execution=False)]
    return result


def model_differences(a: Any, b: Any, path: str = "defs") -> list[str]:
    """Where two models differ (compared fields only), as ``path: a != b`` lines."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if dataclasses.is_dataclass(a):
        out: list[str] = []
        for f in dataclasses.fields(a):
            if f.compare:
                out += model_differences(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
        return out
    if isinstance(a, dict):
        out = [f"{path}[{k!r}] missing on one side" for k in a.keys() ^ b.keys()]
        for k in a.keys() & b.keys():
            out += model_differences(a[k], b[k], f"{path}[{k!r}]")
        if not out and list(a) != list(b):
            out.append(f"{path}: order differs")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            x
            for i, (p, q) in enumerate(zip(a, b, strict=True))
            for x in model_differences(p, q, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {_short(a)} != {_short(b)}"]


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2]


def _name(qname: str) -> str:
    """``bpmn:tFormalExpression`` or ``{uri}tFormalExpression`` → ``tFormalExpression``."""
    return qname.rpartition("}")[2].rpartition(":")[2]


def _value(el: etree._Element, value: str) -> str | float:
    """An attribute value as compared: a ``prefix:name`` QName as ``{uri}name``, a DI number
    as a number (``"100.0"`` and ``"100"`` are the same coordinate)."""
    m = _QNAME.match(value.strip())
    if m is not None and m.group(1) in el.nsmap:
        return f"{{{el.nsmap[m.group(1)]}}}{m.group(2)}"
    if str(el.tag).startswith((f"{{{DC_NS}}}", f"{{{DI_NS}}}")):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def _key(el: etree._Element, index: int) -> tuple[str, str]:
    ident = el.get("id")
    return (str(el.tag), ident) if ident else (str(el.tag), f"#{index}")


def _children(el: etree._Element) -> dict[tuple[str, str], etree._Element]:
    out: dict[tuple[str, str], etree._Element] = {}
    seen: Counter[str] = Counter()
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        index = seen[str(child.tag)] if not child.get("id") else 0
        if not child.get("id"):
            seen[str(child.tag)] += 1
        out.setdefault(_key(child, index), child)
    return out


def xml_differences(a: etree._Element, b: etree._Element) -> list[Difference]:
    """What the written tree ``b`` lost, added or changed compared with the original ``a``."""
    out: list[Difference] = []
    _compare(a, b, out)
    return out


def _compare(a: etree._Element, b: etree._Element, out: list[Difference]) -> None:
    tag = _local(a.tag)
    parent = a.getparent()
    where = f"{_local(parent.tag)}/{tag}" if parent is not None else tag
    for key in sorted({str(k) for k in (*a.attrib, *b.attrib)}):
        name = _local(key)
        va, vb = a.get(key), b.get(key)
        if va is not None and vb is not None:
            if _value(a, va) != _value(b, vb):
                # a tFormalExpression written with a prefix the file did not bind is now bound
                formal = key == _XSI_TYPE and _name(va) == _name(vb) == "tFormalExpression"
                kind = "normalised" if formal else "changed"
                out.append(Difference(kind, f"{where}@{name}", f"{va!r} -> {vb!r}"))
        elif vb is None:
            assert va is not None
            default = (tag, name, va.strip()) in _SCHEMA_DEFAULTS
            # xsi:type="dc:Point" on a waypoint names the type it has anyway
            point = key == _XSI_TYPE and _value(a, va) == f"{{{DC_NS}}}Point"
            kind = "normalised" if default or point else "lost"
            out.append(Difference(kind, f"{where}@{name}", repr(va)))
        else:
            kind = "normalised" if key == _XSI_TYPE and tag in _EXPRESSIONS else "added"
            out.append(Difference(kind, f"{where}@{name}", repr(vb)))
    if (a.text or "").strip() != (b.text or "").strip():
        out.append(Difference("changed", f"{where}#text", _short((a.text or "").strip(), 60)))
    ca, cb = _children(a), _children(b)
    for (child_tag, ident), child in ca.items():
        other = cb.get((child_tag, ident))
        if other is not None:
            _compare(child, other, out)
            continue
        child_where = f"{tag}/{_local(child_tag)}"
        empty = len(child) == 0 and not (child.text or "").strip() and not child.attrib
        if empty and _local(child_tag) in ("extensionElements", "laneSet"):
            out.append(Difference("normalised", child_where, "empty"))
        else:
            out.append(Difference("lost", child_where, "" if ident.startswith("#") else ident))
    listed = {_local(c.tag) for c in ca.values()}
    for child_tag, ident in cb:
        if (child_tag, ident) not in ca:
            local = _local(child_tag)
            # incoming/outgoing derived from the flows, where the file listed none
            derived = local in ("incoming", "outgoing") and local not in listed
            kind = "normalised" if derived else "added"
            out.append(Difference(kind, f"{tag}/{local}", ident))


_SHAPE = f"{{{BPMNDI_NS}}}BPMNShape"
_EDGE = f"{{{BPMNDI_NS}}}BPMNEdge"
_LABEL = f"{{{BPMNDI_NS}}}BPMNLabel"
_BOUNDS = f"{{{DC_NS}}}Bounds"
_WAYPOINT = f"{{{DI_NS}}}waypoint"


def _numbers(el: etree._Element | None, names: Iterable[str]) -> tuple[float, ...] | None:
    if el is None:
        return None
    try:
        return tuple(float(el.get(n, "nan")) for n in names)
    except ValueError:
        return tuple(float("nan") for _ in names)


def _di(root: etree._Element) -> tuple[dict[str, Any], dict[str, Any]]:
    shapes: dict[str, Any] = {}
    edges: dict[str, Any] = {}
    bounds = ("x", "y", "width", "height")
    for i, s in enumerate(root.iter(_SHAPE)):
        label = s.find(_LABEL)
        shapes[s.get("id") or f"#{i}"] = (
            s.get("bpmnElement"),
            _numbers(s.find(_BOUNDS), bounds),
            _numbers(label.find(_BOUNDS) if label is not None else None, bounds),
        )
    for i, e in enumerate(root.iter(_EDGE)):
        label = e.find(_LABEL)
        edges[e.get("id") or f"#{i}"] = (
            e.get("bpmnElement"),
            [_numbers(w, ("x", "y")) for w in e.iter(_WAYPOINT)],
            _numbers(label.find(_BOUNDS) if label is not None else None, bounds),
        )
    return shapes, edges


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (a missing number stays missing)."""
    return repr(a) == repr(b)


def di_check(a: etree._Element, b: etree._Element) -> tuple[int, int, list[str]]:
    """Shape and edge counts of the original, and what did not come back unchanged."""
    sa, ea = _di(a)
    sb, eb = _di(b)
    problems: list[str] = []
    for kind, xa, xb in (("shape", sa, sb), ("edge", ea, eb)):
        for ident, value in xa.items():
            if ident not in xb:
                problems.append(f"{kind} {ident} lost")
            elif not _same(value, xb[ident]):
                problems.append(f"{kind} {ident}: {_short(value, 80)} -> {_short(xb[ident], 80)}")
        problems += [f"{kind} {ident} added" for ident in xb.keys() - xa.keys()]
    return len(sa), len(ea), problems


def _walk(scope: Scope) -> Iterator[FlowNode]:
    for node in scope.nodes.values():
        yield node
        if node.body is not None:
            yield from _walk(node.body)


def _node_kind(node: FlowNode) -> str:
    details: list[str] = [d.kind for d in node.event_definitions]
    if len(details) > 1:
        details = ["multiple" if node.attrs.get("parallelMultiple") != "true" else "parallel"]
    if node.tag == "boundaryEvent" and not node.cancel_activity:
        details.append("non-interrupting")
    if node.tag == "startEvent" and not node.is_interrupting:
        details.append("non-interrupting")
    if node.triggered_by_event:
        details.append("event")
    if node.attrs.get("isForCompensation") == "true":
        details.append("compensation")
    if node.attrs.get("instantiate") == "true" or node.attrs.get("eventGatewayType") == "Parallel":
        details.append("instantiating")
    kind = node.tag + (f"({', '.join(details)})" if details else "")
    if node.loop is not None:
        loop = "multi-instance" if node.loop.kind == "multiInstance" else "loop"
        kind += f" [{loop}{', sequential' if node.loop.is_sequential else ''}]"
    return kind


def exercises(defs: Definitions) -> list[str]:
    """The BPMN constructs a file uses, e.g. ``boundaryEvent(timer, non-interrupting)``."""
    kinds: set[str] = set()
    for process in defs.processes.values():
        if process.lanes:
            kinds.add("lane")
        for node in _walk(process.body):
            kinds.add(_node_kind(node))
            kinds.update(string_tag(x) for x in node.other_xml if _is_data_assoc(x))
        scopes = [process.body, *(n.body for n in _walk(process.body) if n.body is not None)]
        for scope in scopes:
            kinds.update(string_tag(x) for x in scope.artifacts_xml)
    for collab in defs.collaborations:
        if collab.participants:
            kinds.add("participant")
        if collab.message_flows:
            kinds.add("messageFlow")
        kinds.update(string_tag(x) for x in collab.other_xml)
    kinds.update(string_tag(x) for x in defs.other_roots_xml)
    kinds.discard("extensionElements")
    kinds.discard("documentation")
    return sorted(kinds, key=str.lower)


def string_tag(text: str) -> str:
    """The local name of a verbatim fragment's element (from its start tag)."""
    m = re.match(r"<([^\s/>]+)", text)
    return m.group(1).rpartition(":")[2] if m else "?"


def _is_data_assoc(text: str) -> bool:
    return string_tag(text) in ("dataInputAssociation", "dataOutputAssociation")


# -- reporting ----------------------------------------------------------------------------------


def _status(r: Result) -> str:
    if not r.parsed:
        return "PARSE FAILED"
    if not r.round_trip:
        return "ROUND TRIP FAILED"
    if not r.stable:
        return "UNSTABLE"
    if r.di_problems:
        return "DI CHANGED"
    return "ok"


def _fidelity(r: Result) -> str:
    if not r.parsed:
        return "-"
    lost = Counter(f"{d.kind} {d.where}" for d in r.lost)
    if not lost:
        return "nothing lost"
    return ", ".join(f"{k}" + (f" ×{n}" if n > 1 else "") for k, n in lost.most_common())


def _anonymous(message: str) -> str:
    """A validation message without its ids, to count messages by kind."""
    return re.sub(r"'[^']*'", "'…'", message)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(results: list[Result], *, verbose: bool, markdown: bool) -> None:
    reference = [r for r in results if r.group == REFERENCE]
    vendors = [r for r in results if r.group != REFERENCE]
    if markdown:
        print("| file | exercises | parse | round trip | DI | XML differences | validation |")
        print("|---|---|---|---|---|---|---|")
    for r in reference if not verbose else results:
        if markdown:
            kinds = Counter(_anonymous(m) for m in r.issues)
            issues = "; ".join(f"{n}× {k}" for k, n in kinds.most_common()) or "none"
            print(
                f"| {r.name} | {_md(', '.join(r.exercises))} | "
                f"{'yes' if r.parsed else _md(r.error or '')} | "
                f"{'yes' if r.ok else _md(_status(r) + ' ' + '; '.join(r.model_diff))} | "
                f"{r.shapes} shapes, {r.edges} edges{'' if not r.di_problems else ' CHANGED'} | "
                f"{_md(_fidelity(r))} | {_md(issues)} |"
            )
            continue
        print(f"{_status(r):18} {r.group}/{Path(r.name).name}")
        if r.error:
            print(f"    {r.error}")
        for line in r.model_diff + r.di_problems[:5]:
            print(f"    {line}")
        if r.parsed:
            print(f"    DI: {r.shapes} shapes, {r.edges} edges; XML: {_fidelity(r)}")
            for issue in r.issues if verbose or r.group == REFERENCE else []:
                print(f"    validation: {issue}")
    print()
    summarise(REFERENCE, reference)
    if vendors:
        print()
        by_group: dict[str, list[Result]] = {}
        for r in vendors:
            by_group.setdefault(r.group, []).append(r)
        if markdown:
            print("| tool folder | files | parse | round trip + DI | nothing lost |")
            print("|---|---|---|---|---|")
        for group, items in by_group.items():
            parsed = sum(r.parsed for r in items)
            ok = sum(r.ok for r in items)
            clean = sum(r.ok and not r.lost for r in items)
            if markdown:
                print(f"| {_md(group)} | {len(items)} | {parsed} | {ok} | {clean} |")
            else:
                print(f"{group:55} {len(items):3} files  {parsed:3} parse  {ok:3} round-trip")
        print()
        summarise("vendor folders", vendors)
        for r in vendors:
            if not r.ok:
                why = r.error or "; ".join(r.model_diff + r.di_problems[:2]) or _status(r)
                print(f"  {_status(r)}: {r.name}: {_short(why, 240)}")


def summarise(label: str, results: list[Result]) -> None:
    parsed = sum(r.parsed for r in results)
    round_trip = sum(r.parsed and r.round_trip and r.stable for r in results)
    di = sum(r.parsed and not r.di_problems for r in results)
    clean = sum(r.ok and not r.lost for r in results)
    issues = sum(len(r.issues) for r in results)
    print(
        f"{label}: {len(results)} files; {parsed} parse, {round_trip} round-trip "
        f"(model equal, writing stable), {di} keep their DI, {clean} lose nothing in the XML; "
        f"{issues} structural validation issues"
    )
    kinds = Counter(f"{d.kind} {d.where}" for r in results for d in r.lost)
    if kinds:
        print("  XML differences still left, by place (count):")
        for where, n in kinds.most_common(25):
            print(f"    {n:5}  {where}")
    normalised = Counter(d.where for r in results for d in r.differences if d.kind == "normalised")
    if normalised:
        shown = ", ".join(f"{w} ×{n}" for w, n in normalised.most_common(8))
        print(f"  normalised (equivalent by the schema): {shown}")
    messages = Counter(_anonymous(m) for r in results for m in r.issues)
    if messages:
        print("  validation issues by kind:")
        for message, n in messages.most_common(10):
            print(f"    {n:5}  {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="suite checkout, exported copy or bare repo")
    parser.add_argument("--vendors", action="store_true", help="also every tool's folder")
    parser.add_argument("--only", action="append", default=[], help="file path contains")
    parser.add_argument("-v", "--verbose", action="store_true", help="every file, every issue")
    parser.add_argument("--markdown", action="store_true", help="tables in Markdown")
    args = parser.parse_args(argv)
    root, tmp = suite_dir(args.path, vendors=args.vendors)
    results: list[Result] = []
    try:
        for group, path in model_files(root, vendors=args.vendors):
            if args.only and not any(o in str(path.relative_to(root)) for o in args.only):
                continue
            results.append(check_file(group, path, root))
    finally:
        if tmp is not None:
            tmp.cleanup()
    report(results, verbose=args.verbose, markdown=args.markdown)
    return 0 if all(r.ok for r in results if r.group == REFERENCE) else 1


if __name__ == "__main__":
    raise SystemExit(main())
