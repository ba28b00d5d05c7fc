"""``liucheng …``: the command line.

Errors the product raises on purpose (``LiuchengError``) print as one clear line and exit with
status 1; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from liucheng.errors import LiuchengError
from liucheng.i18n import _, set_language

app = typer.Typer(
    name="liucheng",
    help="Liucheng (流程): run service processes as executable BPMN 2.0.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

LangOption = Annotated[str | None, typer.Option("--lang", help="en or zh-CN")]


def _fail(exc: LiuchengError) -> None:
    errors.print(f"[red]error:[/red] {exc}", markup=True, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def demo(lang: LangOption = None) -> None:
    """Run the park access-pass process (P1) end to end, printing every step."""
    from liucheng.demo import run_demo

    set_language(lang)
    try:
        run_demo(console)
    except LiuchengError as exc:
        _fail(exc)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="BPMN files to check")],
    lang: LangOption = None,
) -> None:
    """Check BPMN files: parse, validate and compile them, listing every problem found."""
    from liucheng.api import Engine

    set_language(lang)
    failed = False
    for path in files:
        try:
            deployments = Engine().deploy(path)
        except LiuchengError as exc:
            failed = True
            errors.print(str(exc), soft_wrap=True)
            continue
        names = ", ".join(d.process_id for d in deployments)
        console.print(_("{file}: OK ({processes})", file=str(path), processes=names))
    if failed:
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    from liucheng import __version__

    console.print(f"liucheng {__version__}")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
