"""The BPMN MIWG reference models parse, round-trip and keep their diagrams (optional).

The models are not in this repository (their licence, and our rule that what goes in we wrote).
Point ``LIUCHENG_MIWG`` at a checkout of github.com/bpmn-miwg/bpmn-miwg-test-suite, or at its
bare git repository, to run these tests::

    LIUCHENG_MIWG=/path/to/bpmn-miwg-test-suite .venv/bin/pytest tests/bpmn/test_miwg.py

The checks are those of ``tools/miwg.py`` (see docs/miwg.md).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ENV = "LIUCHENG_MIWG"
TOOL = Path(__file__).resolve().parents[2] / "tools" / "miwg.py"

#: Structural validation issues the reference models are known to raise: they are descriptive
#: models (conditions written as flow names, collapsed subprocesses left empty).  Anything else
#: found on them would be a validation bug or a parsing one.
KNOWN_ISSUES = (
    re.compile(r"exclusive gateway '[^']*' has \d+ unconditional outgoing flows"),
    re.compile(r"subprocess '[^']*' has no none start event"),
)


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("miwg_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up by name)
    spec.loader.exec_module(module)
    return module


def _reference() -> tuple[ModuleType | None, Path | None, list[str], object]:
    where = os.environ.get(ENV)
    if not where:
        return None, None, [], None
    tool = _tool()
    root, tmp = tool.suite_dir(Path(where))  # a bare repository is exported to a temp folder
    names = sorted(p.name for p in (root / tool.REFERENCE).glob("*.bpmn"))
    return tool, root, names, tmp


TOOL_MODULE, ROOT, NAMES, _EXPORT = _reference()  # _EXPORT lives as long as this module

pytestmark = pytest.mark.skipif(
    TOOL_MODULE is None,
    reason=f"set {ENV} to a checkout (or the bare git repository) of "
    "github.com/bpmn-miwg/bpmn-miwg-test-suite to run the MIWG reference round trip",
)


@pytest.mark.parametrize("name", NAMES or ["(no MIWG checkout)"])
def test_reference_model(name: str) -> None:
    assert TOOL_MODULE is not None and ROOT is not None
    reference = TOOL_MODULE.REFERENCE
    result = TOOL_MODULE.check_file(reference, ROOT / reference / name, ROOT)
    assert result.error is None
    assert result.round_trip, result.model_diff
    assert result.stable
    assert result.di_problems == []
    assert result.shapes > 0
    assert [f"{d.kind} {d.where} {d.detail}" for d in result.lost] == []
    unexpected = [i for i in result.issues if not any(p.match(i) for p in KNOWN_ISSUES)]
    assert unexpected == []


def test_the_whole_reference_set_is_there() -> None:
    assert len(NAMES) >= 21  # A.1.0 … C.9.2 as of 2026
