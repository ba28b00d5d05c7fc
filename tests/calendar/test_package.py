"""``liucheng.calendar`` must not hide the standard library's ``calendar`` module."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import liucheng.calendar
from liucheng.engine.timers import parse_duration

PACKAGE = Path(liucheng.calendar.__file__).parent
REPO = PACKAGE.parents[2]


def test_the_stdlib_calendar_is_still_the_stdlib_one() -> None:
    import calendar

    assert calendar is not liucheng.calendar
    assert Path(calendar.__file__).parent != PACKAGE
    assert calendar.monthrange(2024, 2) == (3, 29)
    # The timer arithmetic relies on it for month ends.
    assert parse_duration("P1M").add_to(datetime(2024, 1, 31)) == datetime(2024, 2, 29)


def test_no_module_of_the_package_imports_calendar_by_a_bare_name() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                assert all(alias.name != "calendar" for alias in node.names), path.name
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module != "calendar", path.name


@pytest.mark.parametrize("where", [".", "src"])
def test_a_fresh_interpreter_finds_the_stdlib_calendar(where: str) -> None:
    if not (REPO / "src" / "liucheng").is_dir():
        pytest.skip("liucheng is not installed from a source checkout")
    code = (
        "import liucheng.calendar, liucheng.engine.timers, calendar; "
        "print(calendar.__file__); print(calendar.monthrange(2026, 2)[1])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO / where,
        capture_output=True,
        text=True,
        check=True,
    )
    path, days = result.stdout.split()
    assert Path(path).parent != PACKAGE
    assert days == "28"
