"""The quick-start demo and the command line, run as a user would run them."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.demo import run_demo
from liucheng.i18n import set_language
from liucheng.library import model_path


def _demo_output(lang: str) -> str:
    set_language(lang)
    try:
        console = Console(record=True, width=160, force_terminal=False)
        run_demo(console)
        return console.export_text()
    finally:
        set_language(None)


def test_demo_runs_three_cases_to_their_ends() -> None:
    out = _demo_output("en")
    # Case 1: external vehicle, deposit held, yellow pass valid until the letter's date.
    assert "TX-2026-00001" in out and "yellow" in out and "2027-06-30" in out
    # Case 2: employee, no deposit, light green, no expiry.
    assert "TX-2026-00002" in out and "light green" in out and "no expiry" in out
    # Case 3: rejected after paying: the deposit was refunded, nothing is held.
    assert "¥0.00" in out
    assert "1 timer(s) fired" in out
    assert out.count("case ended: completed") == 3


def test_demo_speaks_chinese() -> None:
    out = _demo_output("zh-CN")
    assert "保卫部审核" in out and "黄色" in out and "浅绿色" in out and "无期限" in out


def test_validate_command_accepts_the_library_model() -> None:
    result = CliRunner().invoke(app, ["validate", str(model_path("pass_application.bpmn"))])
    assert result.exit_code == 0, result.output
    assert "pass_application" in result.output


def test_validate_command_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        'targetNamespace="x"><process id="p" isExecutable="true">'
        '<startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="missing"/>'
        "</process></definitions>"
    )
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.bpmn" in result.output and "missing" in result.output
