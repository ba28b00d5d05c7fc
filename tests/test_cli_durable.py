"""The durable command line, as an operator uses it: every command is a separate run on one
SQLite file, so nothing survives between them except what the database holds."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.cli_values import parse_assignments, parse_value
from liucheng.errors import LiuchengError
from liucheng.library import model_path
from liucheng.runtime import SqlStore

MODEL = str(model_path("pass_application.bpmn"))


def cli(db: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    return result.output


def fails(db: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1, result.output
    return result.output


def task_id(output: str, node_name: str) -> str:
    for line in output.splitlines():
        if node_name in line:
            found = re.search(r"[0-9a-f]{24}\.\d+", line)
            if found:
                return found.group(0)
    raise AssertionError(f"no task {node_name!r} in:\n{output}")


def test_a_case_survives_from_one_command_to_the_next(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    assert "database is up to date" in cli(db, "db", "upgrade")
    assert "pass_application v1  new version" in cli(db, "deploy", MODEL)
    assert "pass_application v1  unchanged" in cli(db, "deploy", MODEL)
    assert "pass_application" in cli(db, "processes")

    out = cli(
        db,
        "start",
        "pass_application",
        "--key",
        "PASS-7",
        "--var",
        "applicant_type=employee",
        "--var",
        "renewal=false",
        "--var",
        "plate=沪B·1",
    )
    case_id = out.splitlines()[0].strip()
    assert "issue_contact_letter" in out

    assert "PASS-7" in cli(db, "tasks", "--where", "plate=沪B·1", "--where", "renewal=false")
    assert "PASS-7" not in cli(db, "tasks", "--where", "plate=沪B·2")
    letter = task_id(cli(db, "tasks", "--group", "sponsoring_department"), "Sponsoring")
    cli(db, "complete", letter, "--var", "reason=commute")
    review = task_id(cli(db, "tasks", "--process", "pass_application"), "Security")
    # The issue_pass handler is not registered on the command line: approving raises an
    # incident at the service task, which an operator sees and the case keeps.
    cli(db, "complete", review, "--var", "approved=true")
    assert "issue_pass" in cli(db, "incidents")
    shown = cli(db, "show", case_id)
    assert "▶" in shown and "issue_pass" in shown and "security_review" in shown
    assert "'plate': '沪B·1'" in shown or "沪B·1" in shown
    assert "PASS-7" in cli(db, "instances", "--state", "active")

    # A completed task cannot be completed twice; an unknown one is refused.
    assert "already completed" in fails(db, "complete", letter)
    assert "no open task" in fails(db, "complete", "nonsense.1")


def test_export_and_import_move_everything_to_another_database(tmp_path: Path) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    cli(source, "deploy", MODEL)
    case_id = (
        cli(
            source,
            "start",
            "pass_application",
            "--var",
            "applicant_type=external",
            "--var",
            "renewal=false",
            "--key",
            "K-1",
        )
        .splitlines()[0]
        .strip()
    )
    export = tmp_path / "dump.jsonl"
    assert "records written" in cli(source, "export", str(export))
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines] == ["liucheng-export", "deployment", "case"]

    assert "2 records imported" in cli(target, "import", str(export))
    moved = cli(target, "show", case_id)
    assert "K-1" in moved and "issue_contact_letter" in moved
    letter = task_id(cli(target, "tasks"), "Sponsoring")
    cli(target, "complete", letter, "--var", "reason=deliveries", "--var", "valid_to=2027-06-30")
    assert "collect_deposit" in cli(target, "show", case_id)


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert "no process 'missing'" in fails(db, "start", "missing")
    assert "name=value" in fails(db, "start", "missing", "--var", "oops")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not-bpmn/>")
    assert "bad.bpmn" in fails(db, "deploy", str(bad))
    not_export = tmp_path / "n.jsonl"
    not_export.write_text('{"type": "case"}\n')
    assert "not a Liucheng export" in fails(db, "import", str(not_export))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("42", 42),
        ("50.00", __import__("decimal").Decimal("50.00")),
        ("2027-06-30", __import__("datetime").date(2027, 6, 30)),
        ("沪A·12345", "沪A·12345"),
        ('"007"', "007"),
        ('["a", 1.5]', ["a", __import__("decimal").Decimal("1.5")]),
    ],
)
def test_var_values_are_typed(text: str, value: object) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_var_names_are_checked() -> None:
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": 1, "b": "x=y"}
    with pytest.raises(LiuchengError, match="name=value"):
        parse_assignments(["=1"])
    with pytest.raises(LiuchengError, match="looks like JSON"):
        parse_value("[1,")


def test_calendars_come_from_the_file_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LIUCHENG_CALENDARS`` names the organisation's calendars; a model naming another
    calendar is refused, and a broken file is one clear error line."""
    model = Path(__file__).parent / "engine" / "models" / "test_working_time_timers.bpmn"
    db = tmp_path / "office.db"
    calendars = tmp_path / "calendars.json"
    calendars.write_text(
        json.dumps(
            {
                "default": "park-office",
                "calendars": [{"name": "park-office"}, {"name": "licence-office"}],
            }
        )
    )
    monkeypatch.setenv("LIUCHENG_CALENDARS", str(calendars))
    assert "licence v1  new version" in cli(db, "deploy", str(model))

    calendars.write_text(json.dumps({"calendars": [{"name": "park-office"}]}))
    out = fails(tmp_path / "other.db", "deploy", str(model))
    assert "five_days" in out and "no business calendar is named 'licence-office'" in out

    calendars.write_text("{not json")
    assert "the calendars are not valid JSON" in fails(db, "processes")
    calendars.write_text(json.dumps({"calendars": [{"name": "x", "timezone": "Mars/Base"}]}))
    assert "timezone" in fails(db, "processes")


def test_a_dmn_file_is_deployed_and_decided(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    out = cli(db, "deploy", str(model_path("pass_deposit.dmn")))
    assert "pass_deposit v1  new version" in out
    out = cli(
        db, "decide", "pass_deposit", "--var", "applicant_type=external", "--var", "renewal=false"
    )
    assert json.loads(out) == {"deposit": "50", "colour": "yellow", "expires": True}
    assert "allowed input values" in fails(
        db, "decide", "pass_deposit", "--var", "applicant_type=x"
    )


def test_a_signal_is_broadcast_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    model = Path(__file__).parent / "engine" / "models" / "test_signals.bpmn"
    cli(db, "deploy", str(model))
    cli(db, "start", "application")
    assert "signal gates_closed reached 2 cases" in cli(db, "signal", "gates_closed")


def test_an_operator_moves_and_migrates_a_case(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    models = Path(__file__).parent / "engine" / "models"
    cli(db, "deploy", str(models / "test_modify_v1.bpmn"))
    case_id = cli(db, "start", "licence").split()[0]
    assert "at: approve" in cli(db, "move", case_id, "review", "approve", "--reason", "paper")
    cli(db, "move", case_id, "approve", "review")
    cli(db, "deploy", str(models / "test_modify_v2.bpmn"))
    assert "has no 'review'" in fails(db, "migrate", case_id, "--version", "2")
    assert "--map takes old=new" in fails(db, "migrate", case_id, "--version", "2", "--map", "x")
    out = cli(db, "migrate", case_id, "--version", "2", "--map", "review=document_review")
    assert "is on version 2" in out and "at: document_review" in out


def test_comments_are_shown_and_survive_export_and_import(tmp_path: Path) -> None:
    db = tmp_path / "office.db"
    models = Path(__file__).parent / "engine" / "models"
    cli(db, "deploy", str(models / "test_modify_v1.bpmn"))
    cli(db, "deploy", str(model_path("pass_deposit.dmn")))
    case_id = cli(db, "start", "licence").split()[0]
    assert "written" in cli(db, "comment", case_id, "plate checked", "--author", "li")
    assert "must be non-empty text" in fails(db, "comment", case_id, " ", "--author", "li")
    assert "comment by li" in cli(db, "show", case_id)
    backup = tmp_path / "backup.jsonl"
    cli(db, "export", str(backup))
    moved = tmp_path / "moved.db"
    cli(moved, "import", str(backup))
    assert "plate checked" in cli(moved, "show", case_id)
    out = cli(moved, "decide", "pass_deposit", "--var", "applicant_type=guest")
    assert json.loads(out)["deposit"] == "0"


def test_jobs_lists_what_the_worker_will_run(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    models = Path(__file__).parent / "engine" / "models"
    cli(db, "deploy", str(models / "test_async_jobs.bpmn"))
    case_id = cli(db, "start", "send_sms").splitlines()[0]
    out = cli(db, "jobs")
    assert re.search(rf"{case_id} +│ send_sms +│ sms +│ enter the element +│ +│", out), out

    cli(db, "worker", "--once")  # no SMS handler in a bare command line: the attempt fails
    assert re.search(r"│ sms +│ try the element again +│ 1 of 3 failed +│", cli(db, "jobs"))

    cli(db, "deploy", str(models / "test_timer_start_cycle.bpmn"))
    out = cli(db, "jobs", "--limit", "1")
    assert "try the element again" in out and "every_hour" not in out
    assert "only the first 1: see more with --limit" in out
    out = cli(db, "jobs")
    assert re.search(r"\(a new case\) +│ hourly_check +│ every_hour +│ start a case, then", out)
    assert "every R3/PT1H" in out and "only the first" not in out


def test_a_worker_reports_an_undone_round_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liucheng import api
    from liucheng.store import ClaimExpiredError

    db = tmp_path / "worker.db"
    cli(db, "db", "upgrade")
    rounds: list[dict[str, object]] = []

    def run_due_jobs(self: api.Engine, **claims: object) -> int:
        rounds.append(claims)
        if len(rounds) == 1:
            raise ClaimExpiredError("the claim expired")
        return 2

    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(api.Engine, "run_due_jobs", run_due_jobs)
    monkeypatch.setattr("liucheng.cli.time.sleep", sleep)
    out = cli(db, "worker", "--lock-for", "30", "--interval", "0.5")
    assert out.splitlines() == [
        "round undone: the claim expired",
        "2 timer(s) fired",
        "worker stopped",
    ]
    assert rounds == [{"lock_for": timedelta(seconds=30)}] * 2 and sleeps == [0.5, 0.5]

    rounds.clear()
    assert "the claim expired" in fails(db, "worker", "--once")  # one round: its error is the news
    assert rounds == [{}]  # no --lock-for: the engine's own


def test_the_worker_help_names_the_engine_s_claim_expiry(tmp_path: Path) -> None:
    from liucheng.api import JOB_LOCK

    out = CliRunner().invoke(app, ["worker", "--help"], env={"COLUMNS": "200"}).output
    assert f"default: the engine's, {JOB_LOCK.total_seconds():.0f}" in out


def test_a_worker_names_itself_to_postgresql(
    postgresql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which worker holds which claim: its connections say, in ``pg_stat_activity``."""
    from sqlalchemy import text

    from liucheng import api

    url = postgresql_store.engine.url.render_as_string(hide_password=False)
    seen: list[str] = []

    def run_due_jobs(self: api.Engine, **claims: object) -> int:
        store = self.store
        assert isinstance(store, SqlStore)
        with store.engine.connect() as conn:
            seen.append(conn.execute(text("SHOW application_name")).scalar_one())
        return 0

    monkeypatch.setattr(api.Engine, "run_due_jobs", run_due_jobs)
    result = CliRunner().invoke(app, ["worker", "--once", "--db", url])
    assert result.exit_code == 0, result.output
    assert seen == [f"liucheng worker {socket.gethostname()}:{os.getpid()}"]
