"""Run the DMN TCK (https://github.com/dmn-tck/tck) against Liucheng's DMN layer.

    .venv/bin/python tools/dmn_tck.py PATH [--level 2] [--level 3] [--only 0004] [-v] [--markdown]

PATH is a checkout of the TCK, its ``TestCases`` folder, an exported copy
(``git archive HEAD TestCases | tar -x -C /tmp/tck``), or the bare git repository itself, which
is exported to a temporary folder first.  The TCK's files are read where they are and never
copied into this repository.

Each ``*-test-*.xml`` file lists test cases: input values (``inputNode``) and, per decision,
the expected result (``resultNode``), typed by the TCK test-case schema (``xsi:type``
``xsd:decimal``/``string``/``boolean``/``date``/``dateTime``/``time``/``duration``,
``component`` for contexts, ``list``/``item`` for lists, ``xsi:nil`` for null).  A result node
passes when the decision's value equals the expected one — numbers equal, or within a relative
1e-12 for long decimals, since the TCK writes results with a double's precision — or, for
``errorResult="true"``, when evaluation fails or gives null.  A test case passes when all its
result nodes do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lxml import etree

from liucheng.dmn import DecisionModel, parse_dmn
from liucheng.errors import LiuchengError
from liucheng.expr.feel.registry import BUILTINS
from liucheng.expr.feel.values import FeelFunction, YearsMonthsDuration

TC = "{http://www.omg.org/spec/DMN/20160719/testcase}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_NUMBER_TYPES = ("decimal", "double", "float", "integer", "int", "long", "short", "byte")
_TEMPORAL = {"date": "date", "dateTime": "date and time", "time": "time", "duration": "duration"}


# -- reading the test-case files ---------------------------------------------------------------
def read_value(el: etree._Element) -> Any:
    """A ``valueType`` element (inputNode, expected, component, item) as a FEEL value."""
    for child in el:
        tag = child.tag
        if tag == TC + "value":
            return scalar(child)
        if tag == TC + "list":
            if child.get(XSI + "nil") == "true":
                return None
            return [read_value(item) for item in child if item.tag == TC + "item"]
        if tag == TC + "component":
            return {str(c.get("name")): read_value(c) for c in el if c.tag == TC + "component"}
    return None


def scalar(el: etree._Element) -> Any:
    if el.get(XSI + "nil") == "true":
        return None
    text = el.text or ""
    kind = (el.get(XSI + "type") or "").rpartition(":")[2]
    if kind in _NUMBER_TYPES:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return text
    if kind == "boolean":
        return text.strip() == "true"
    if kind in _TEMPORAL:
        return BUILTINS[_TEMPORAL[kind]].call(text.strip())
    return text


@dataclass
class ResultNode:
    name: str
    expected: Any
    error: bool


@dataclass
class Case:
    id: str
    kind: str
    invocable: str | None
    inputs: dict[str, Any]
    results: list[ResultNode] = field(default_factory=list)


def read_cases(path: Path) -> tuple[str | None, list[Case]]:
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    top = root.getroot()
    model = top.findtext(TC + "modelName")
    cases = []
    for n, tc in enumerate(top.iter(TC + "testCase"), 1):
        case = Case(
            id=str(tc.get("id") or n),
            kind=str(tc.get("type") or "decision"),
            invocable=tc.get("invocableName"),
            inputs={str(i.get("name")): read_value(i) for i in tc.iter(TC + "inputNode")},
        )
        for r in tc.iter(TC + "resultNode"):
            expected = r.find(TC + "expected")
            case.results.append(
                ResultNode(
                    name=str(r.get("name")),
                    expected=None if expected is None else read_value(expected),
                    error=r.get("errorResult") == "true",
                )
            )
        cases.append(case)
    return model, cases


# -- comparing ---------------------------------------------------------------------------------
def same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if type(expected) is Decimal:
        if type(actual) is not Decimal:
            return False
        if expected == actual:
            return True
        scale = max(abs(expected), Decimal(1))
        return abs(expected - actual) <= scale * Decimal("1e-12")
    if type(expected) is list:
        if type(actual) is not list or len(actual) != len(expected):
            return False
        return all(same(e, a) for e, a in zip(expected, actual, strict=True))
    if type(expected) is dict:
        if type(actual) is not dict or set(actual) != set(expected):
            return False
        return all(same(v, actual[k]) for k, v in expected.items())
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, dt.datetime) and _aware(expected) != _aware(actual):
        return False
    return bool(expected == actual)


def _aware(value: dt.datetime) -> bool:
    return value.utcoffset() is not None


def show(value: Any) -> str:
    if type(value) is YearsMonthsDuration:
        return str(value)
    if type(value) is FeelFunction:
        return f"function {value.name}"
    return repr(value)


# -- running -----------------------------------------------------------------------------------
@dataclass
class Outcome:
    folder: str
    file: str
    case: str
    ok: bool
    reason: str = ""


def run_file(test_file: Path, models: dict[Path, DecisionModel | str]) -> Iterator[Outcome]:
    folder = test_file.parent
    label = f"{folder.parent.name}/{folder.name}"
    try:
        model_name, cases = read_cases(test_file)
    except etree.XMLSyntaxError as exc:
        yield Outcome(label, test_file.name, "*", False, f"unreadable test file: {exc}")
        return
    dmn_files = sorted(folder.glob("*.dmn"))
    model_path = folder / model_name if model_name else (dmn_files[0] if dmn_files else None)
    if model_path is None or not model_path.exists():
        yield Outcome(label, test_file.name, "*", False, "model file not found")
        return
    if model_path not in models:
        try:
            models[model_path] = parse_dmn(model_path.read_bytes(), model_path.name)
        except LiuchengError as exc:
            models[model_path] = str(exc)
    model = models[model_path]
    for case in cases:
        if isinstance(model, str):
            yield Outcome(label, test_file.name, case.id, False, f"parse: {model}")
            continue
        yield run_case(label, test_file.name, case, model)


def run_case(label: str, file: str, case: Case, model: DecisionModel) -> Outcome:
    if case.kind not in ("decision", "decisionService"):
        return Outcome(label, file, case.id, False, f"test type {case.kind!r} not supported")
    for node in case.results:
        target = case.invocable if case.kind == "decisionService" and case.invocable else node.name
        try:
            actual = model.evaluate(target, case.inputs)
            service = model.services.get(target) or next(
                (s for s in model.services.values() if s.name == target), None
            )
            if service is not None and len(service.outputs) > 1 and type(actual) is dict:
                actual = actual.get(node.name)  # a result node names one output decision
        except LiuchengError as exc:
            if node.error:
                continue
            return Outcome(label, file, case.id, False, f"{node.name}: error: {exc}")
        except Exception as exc:  # a bug in our code: report it, keep running the suite
            return Outcome(
                label, file, case.id, False, f"{node.name}: CRASH {type(exc).__name__}: {exc}"
            )
        if node.error and actual is None:
            continue
        if node.error:
            return Outcome(
                label, file, case.id, False, f"{node.name}: expected an error, got {show(actual)}"
            )
        if not same(node.expected, actual):
            return Outcome(
                label,
                file,
                case.id,
                False,
                f"{node.name}: expected {show(node.expected)}, got {show(actual)}",
            )
    return Outcome(label, file, case.id, True)


def test_cases_dir(
    path: Path, levels: list[int]
) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    """The ``TestCases`` folder under ``path``, exporting it first from a bare repository."""
    for candidate in (path, path / "TestCases"):
        if (candidate / "compliance-level-2").is_dir():
            return candidate, None
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        tmp = tempfile.TemporaryDirectory(prefix="dmn-tck-")
        wanted = [f"TestCases/compliance-level-{n}" for n in levels]
        archive = subprocess.run(
            ["git", "-C", str(path), "archive", "--format=tar", "HEAD", *wanted],
            check=True,
            capture_output=True,
        ).stdout
        tar_path = Path(tmp.name) / "tck.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tar:
            tar.extractall(tmp.name, filter="data")
        return Path(tmp.name) / "TestCases", tmp
    raise SystemExit(f"{path}: no TestCases/compliance-level-2 here, and not a git repository")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="TCK checkout, TestCases folder or bare repo")
    parser.add_argument("--level", type=int, action="append", choices=(2, 3))
    parser.add_argument("--only", action="append", default=[], help="folder name contains")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per test case")
    parser.add_argument("--markdown", action="store_true", help="summary as a Markdown table")
    args = parser.parse_args(argv)
    levels = args.level or [2]
    root, tmp = test_cases_dir(args.path, levels)
    outcomes: list[Outcome] = []
    models: dict[Path, DecisionModel | str] = {}
    try:
        for level in levels:
            base = root / f"compliance-level-{level}"
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                if args.only and not any(o in folder.name for o in args.only):
                    continue
                for test_file in sorted(folder.glob("*-test-*.xml")):
                    outcomes.extend(run_file(test_file, models))
    finally:
        if tmp is not None:
            tmp.cleanup()
    report(outcomes, verbose=args.verbose, markdown=args.markdown)
    return 0


def report(outcomes: list[Outcome], *, verbose: bool, markdown: bool) -> None:
    folders: dict[str, list[Outcome]] = {}
    for o in outcomes:
        folders.setdefault(o.folder, []).append(o)
        if verbose:
            mark = "PASS" if o.ok else "FAIL"
            print(f"{mark}  {o.folder}  {o.file}  {o.case}  {o.reason}".rstrip())
    if markdown:
        print("| test | cases passed | first failure |")
        print("|---|---|---|")
    for folder, items in folders.items():
        passed = sum(o.ok for o in items)
        failure = next((o for o in items if not o.ok), None)
        why = f"{failure.case}: {failure.reason}" if failure else ""
        if markdown:
            why = why.replace("|", "\\|")
            print(f"| {folder} | {passed}/{len(items)} | {why[:160]} |")
        else:
            mark = "PASS" if passed == len(items) else "FAIL"
            print(f"{mark}  {folder}  {passed}/{len(items)}  {why[:200]}".rstrip())
    total = len(outcomes)
    passed = sum(o.ok for o in outcomes)
    full = sum(all(o.ok for o in items) for items in folders.values())
    print(f"\n{full}/{len(folders)} TCK folders pass completely; {passed}/{total} test cases pass")


if __name__ == "__main__":
    raise SystemExit(main())
