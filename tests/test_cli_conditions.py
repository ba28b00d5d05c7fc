"""``liucheng conditions``: start the cases whose conditional start events hold."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from liucheng.cli import app

MODEL = Path(__file__).parent / "engine" / "models" / "test_conditional_start.bpmn"


def _cli(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, [*args, "--db", f"sqlite:///{db}"])
    assert result.exit_code == code, result.output
    return result.output


def test_conditions_start_cases_and_say_which(tmp_path: Path) -> None:
    db = tmp_path / "faults.db"
    _cli(db, "deploy", str(MODEL))
    assert "costly" in _cli(db, "processes")  # a conditional start shows how it starts
    out = _cli(db, "conditions", "--var", "cost=6000", "--var", "kind=water", "--key", "F-7")
    assert "conditions started 1 cases" in out
    assert "major_repair" in out and "gas_inspection" not in out
    assert "0 cases" in _cli(db, "conditions", "--var", "cost=10")
    refused = _cli(db, "conditions", "--var", "cost=9000", "--key", "F-7", code=1)
    assert "already has a case with business key 'F-7'" in refused
    out = _cli(db, "conditions", "--var", "kind=gas", "--process", "gas_inspection")
    assert "gas_inspection" in out
