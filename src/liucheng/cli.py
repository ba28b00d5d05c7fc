"""``liucheng …``: the command line.

Errors the product raises on purpose (``LiuchengError``) print as one clear line and exit with
status 1; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from liucheng.cli_values import parse_assignments
from liucheng.engine.state import InstanceState
from liucheng.errors import ConflictError, LiuchengError
from liucheng.i18n import _, set_language
from liucheng.store import TaskCursor
from liucheng.transfer import read_export, write_export
from liucheng.where import render_position

if TYPE_CHECKING:
    from liucheng.api import Engine, Job

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
            deployments = Engine(calendars=_calendars()).deploy(path)
        except LiuchengError as exc:
            failed = True
            errors.print(str(exc), soft_wrap=True)
            continue
        names = ", ".join(d.process_id for d in deployments)
        console.print(_("{file}: OK ({processes})", file=str(path), processes=names))
    if failed:
        raise typer.Exit(1)


# == durable commands: each opens the database, does one thing, and exits ==========================

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="LIUCHENG_DATABASE_URL",
        help="Database URL (default: sqlite:///liucheng.db in this folder)",
    ),
]
VarOption = Annotated[
    list[str] | None,
    typer.Option("--var", "-v", help="name=value; numbers, true/false, dates and JSON are typed"),
]

db_app = typer.Typer(help="The database: create or upgrade its tables.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _calendars() -> dict[str, Any] | None:
    """The organisation's business calendars: the JSON file named by ``LIUCHENG_CALENDARS``
    (``{"default": name, "calendars": [...]}``, see docs/calendar.md), or None for the
    standard Chinese working-day calendar."""
    path = os.environ.get("LIUCHENG_CALENDARS")
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LiuchengError(
            _("{path}: cannot read the calendars: {reason}", path=path, reason=exc.strerror)
        ) from exc
    except ValueError as exc:
        raise LiuchengError(
            _("{path}: the calendars are not valid JSON: {reason}", path=path, reason=str(exc))
        ) from exc
    if not isinstance(data, dict):
        raise LiuchengError(_("{path}: the calendars must be a JSON object", path=path))
    return data


def _engine(db: str | None, *, name: str | None = None) -> Engine:
    """An engine on the database, its tables created or upgraded first; on PostgreSQL its
    connections carry ``name`` as their ``application_name`` (what ``pg_stat_activity`` shows)."""
    from liucheng.api import Engine
    from liucheng.runtime.database import connect, default_url, upgrade
    from liucheng.runtime.sql_store import SqlStore

    calendars = _calendars()
    url = db or default_url()
    options: dict[str, Any] = {}
    if name is not None and not url.startswith("sqlite"):
        options["connect_args"] = {"application_name": name[:63]}  # PostgreSQL keeps 63 bytes
    database = connect(url, **options)
    upgrade(database)
    return Engine(store=SqlStore(database), calendars=calendars)


def _id_column(header: str) -> Column:
    """Ids are what people copy into the next command: never wrapped or cut short."""
    return Column(header, no_wrap=True, min_width=26)


def _show(table: Table) -> None:
    if console.is_terminal:
        console.print(table)
    else:
        # Piped or captured output has no width of its own; Rich would squeeze tables into 80
        # columns and cut the names.
        Console(highlight=False, width=160).print(table)


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except LiuchengError as exc:
        _fail(exc)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the tables, or bring them up to this version's schema."""

    def action() -> None:
        from liucheng.runtime.database import upgrade

        upgrade(db)
        console.print(_("database is up to date"))

    _run(action)


@app.command()
def deploy(
    files: Annotated[list[Path], typer.Argument(help="BPMN files")],
    db: DbOption = None,
    language: Annotated[
        str | None, typer.Option("--language", help="default expression language: feel or python")
    ] = None,
) -> None:
    """Deploy BPMN files: each changed process becomes a new version."""

    def action() -> None:
        engine = _engine(db)
        for path in files:
            for d in engine.deploy(path, expression_language=language):
                state = _("new version") if d.new else _("unchanged")
                console.print(f"{d.process_id} v{d.version}  {state}")

    _run(action)


@app.command()
def processes(db: DbOption = None) -> None:
    """List deployed processes (latest versions)."""

    def action() -> None:
        table = Table(_("process"), _("version"), _("name"), _("starts with"))
        for proc in _engine(db).processes():
            starts = ", ".join(
                filter(
                    None,
                    [
                        "none" if proc.start else "",
                        *proc.message_starts,
                        *proc.timer_starts,
                        *proc.conditional_starts,
                    ],
                )
            )
            table.add_row(proc.id, str(proc.version), proc.name or "", starts)
        _show(table)

    _run(action)


@app.command()
def start(
    process: Annotated[str, typer.Argument(help="process id")],
    var: VarOption = None,
    key: Annotated[str | None, typer.Option("--key", help="business key")] = None,
    version: Annotated[int | None, typer.Option("--version", help="a fixed version")] = None,
    db: DbOption = None,
) -> None:
    """Start a case."""

    def action() -> None:
        case = _engine(db).start(process, parse_assignments(var), business_key=key, version=version)
        console.print(case.id)
        _print_where(case.active, case.state.value)

    _run(action)


@app.command()
def decide(
    decision: Annotated[str, typer.Argument(help="decision id (from a deployed DMN file)")],
    var: VarOption = None,
    db: DbOption = None,
) -> None:
    """Evaluate a deployed DMN decision and print its result as JSON."""

    def action() -> None:
        result = _engine(db).decide(decision, parse_assignments(var))
        # Decimals and dates as their text: what an operator reads, not the storage codec.
        console.print_json(json.dumps(result, ensure_ascii=False, default=str))

    _run(action)


@app.command()
def signal(
    name: Annotated[str, typer.Argument(help="signal name")],
    var: VarOption = None,
    db: DbOption = None,
) -> None:
    """Broadcast a signal to every case waiting for it (and start cases it starts)."""

    def action() -> None:
        reached = _engine(db).signal(name, parse_assignments(var))
        console.print(_("signal {name} reached {n} cases", name=name, n=reached))

    _run(action)


@app.command()
def conditions(
    var: VarOption = None,
    key: Annotated[str | None, typer.Option("--key", help="business key of the cases")] = None,
    process: Annotated[str | None, typer.Option("--process", help="ask only this process")] = None,
    db: DbOption = None,
) -> None:
    """Start a case of every process whose conditional start event holds for the variables."""

    def action() -> None:
        started = _engine(db).evaluate_conditions(parse_assignments(var), key=key, process=process)
        console.print(_("conditions started {n} cases", n=len(started)))
        for case in started:
            console.print(f"{case.id}  {case.process_id}")

    _run(action)


@app.command()
def move(
    instance: Annotated[str, typer.Argument(help="case id")],
    from_element: Annotated[str, typer.Argument(help="the element whose token is cancelled")],
    to_element: Annotated[str, typer.Argument(help="the element a token starts before")],
    reason: Annotated[str, typer.Option("--reason", help="kept in the history")] = "",
    db: DbOption = None,
) -> None:
    """Move a case's token from one element to another (an operator's correction)."""

    def action() -> None:
        case = _engine(db).move(instance, from_element, to_element, reason=reason)
        _print_where(case.active, case.state.value)

    _run(action)


@app.command()
def migrate(
    instance: Annotated[str, typer.Argument(help="case id")],
    version: Annotated[int, typer.Option("--version", help="the version to move the case to")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="old=new: an element renamed in the new version"),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="kept in the history")] = "",
    db: DbOption = None,
) -> None:
    """Move a running case to another version of its process."""

    def action() -> None:
        mapping = {}
        for pair in map_ or []:
            old, sep, new = pair.partition("=")
            if not sep or not old or not new:
                raise LiuchengError(_("--map takes old=new, not {pair!r}", pair=pair))
            mapping[old] = new
        case = _engine(db).migrate(instance, version, mapping, reason=reason)
        console.print(_("case {id} is on version {version}", id=case.id, version=case.version))
        _print_where(case.active, case.state.value)

    _run(action)


def _print_where(active: tuple[str, ...], state: str) -> None:
    where = ", ".join(active) if active else "-"
    console.print(_("state: {state}; at: {where}", state=_(state), where=where))


@app.command()
def tasks(
    group: Annotated[str | None, typer.Option("--group", help="candidate group")] = None,
    user: Annotated[str | None, typer.Option("--user", help="assignee or candidate user")] = None,
    process: Annotated[str | None, typer.Option("--process")] = None,
    instance: Annotated[str | None, typer.Option("--instance")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="name=value: only cases whose variable has this value"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="at most this many tasks (a page)")
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="the next page: the cursor printed under the page before"),
    ] = None,
    db: DbOption = None,
) -> None:
    """List open user tasks, oldest first."""

    def action() -> None:
        table = Table(_id_column(_("task")), _("name"), _("process"), _("key"), _("for"), _("due"))
        found = _engine(db).tasks(
            group=group,
            user=user,
            process=process,
            instance=instance,
            variables=parse_assignments(where),
            limit=limit,
            after=after,
        )
        for t in found:
            offered = ", ".join([*([t.assignee] if t.assignee else []), *t.candidate_groups])
            due = t.due.isoformat(timespec="minutes") if t.due else ""
            table.add_row(t.id, t.name or t.node, t.process_id, t.business_key or "", offered, due)
        _show(table)
        if limit is not None and len(found) == limit:
            # A full page: there may be more.  The cursor is the last task's inbox key.
            cursor = TaskCursor.of(found[-1]).text
            console.print(_("next page: --after {cursor}", cursor=cursor), soft_wrap=True)

    _run(action)


@app.command()
def complete(
    task: Annotated[str, typer.Argument(help="task id")],
    var: VarOption = None,
    db: DbOption = None,
) -> None:
    """Complete a user task, setting variables."""

    def action() -> None:
        case = _engine(db).complete(task, parse_assignments(var))
        _print_where(case.active, case.state.value)

    _run(action)


@app.command()
def correlate(
    message: Annotated[str, typer.Argument(help="message name")],
    key: Annotated[str | None, typer.Option("--key", help="correlation key")] = None,
    var: VarOption = None,
    buffer: Annotated[
        float | None,
        typer.Option("--buffer", help="if no case waits yet, keep the message this many seconds"),
    ] = None,
    db: DbOption = None,
) -> None:
    """Deliver a message to the case waiting for it (or start one by message)."""

    def action() -> None:
        engine = _engine(db)
        variables = parse_assignments(var)
        if buffer is None:
            case = engine.correlate(message, key=key, variables=variables)
        else:
            ttl = timedelta(seconds=buffer)
            found = engine.publish(message, key=key, variables=variables, ttl=ttl)
            if found is None:
                console.print(_("no case waits yet: message kept for {s} s", s=buffer))
                return
            case = found
        console.print(case.id)
        _print_where(case.active, case.state.value)

    _run(action)


@app.command()
def instances(
    process: Annotated[str | None, typer.Option("--process")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="active, completed or terminated")
    ] = None,
    db: DbOption = None,
) -> None:
    """List cases."""

    def action() -> None:
        if state is not None and state not in {s.value for s in InstanceState}:
            raise LiuchengError(f"--state must be active, completed or terminated, not {state!r}")
        table = Table(
            _id_column(_("case")), _("process"), _("key"), _("state"), _("at"), _("started")
        )
        for case in _engine(db).instances(process=process, state=state):
            table.add_row(
                case.id,
                f"{case.process_id} v{case.version}",
                case.business_key or "",
                _(case.state.value),
                ", ".join(case.active),
                case.started.isoformat(timespec="seconds"),
            )
        _show(table)

    _run(action)


@app.command()
def show(
    instance: Annotated[str, typer.Argument(help="case id")],
    db: DbOption = None,
) -> None:
    """Show a case: where it stands, its variables, open tasks, incidents and history."""

    def action() -> None:
        engine = _engine(db)
        case = engine.instance(instance)
        proc = engine._process(case.process_id, case.version)
        console.print(f"[bold]{case.id}[/bold]  {case.process_id} v{case.version}", markup=True)
        if case.business_key:
            console.print(_("business key: {key}", key=case.business_key))
        _print_where(case.active, case.state.value)
        console.print()
        console.print(_("where it stands:"))
        for line in render_position(proc, case.active, engine.path(case.id)):
            console.print("  " + line, markup=False)
        variables = Table(_("variable"), _("value"))
        for name, value in sorted(case.variables.items()):
            variables.add_row(name, repr(value))
        _show(variables)
        for t in engine.tasks(instance=case.id):
            console.print(_("open task {id}: {name}", id=t.id, name=t.name or t.node))
        for inc in case.incidents:
            console.print(
                _(
                    "incident {id} at {node}: {text}",
                    id=inc.id,
                    node=inc.node,
                    text=inc.message,
                )
            )
        history = Table(_("#"), _("time"), _("event"), _("element"), _("detail"))
        for e in engine.history(case.id):
            history.add_row(
                str(e.seq),
                e.time.isoformat(timespec="seconds"),
                e.kind.value,
                e.element or "",
                e.detail or (repr(e.variables) if e.variables else ""),
            )
        _show(history)
        for note in engine.comments(case.id):
            when = note.created.isoformat(timespec="seconds")
            console.print(
                _(
                    "comment by {author} at {time}: {text}",
                    author=note.author,
                    time=when,
                    text=note.text,
                ),
                markup=False,
            )
        for item in engine.attachments(case.id):
            console.print(
                _(
                    "attachment {name} ({size} bytes, {type}) by {author}: {uri}",
                    name=item.name,
                    size=item.size,
                    type=item.media_type,
                    author=item.author,
                    uri=item.uri,
                ),
                markup=False,
            )

    _run(action)


@app.command()
def comment(
    instance: Annotated[str, typer.Argument(help="case id")],
    text: Annotated[str, typer.Argument(help="what to write on the case")],
    author: Annotated[str, typer.Option("--author", help="who writes it")],
    task: Annotated[str | None, typer.Option("--task", help="a task of the case")] = None,
    db: DbOption = None,
) -> None:
    """Write a comment on a case (or one of its tasks)."""

    def action() -> None:
        note = _engine(db).comment(instance, text, author=author, task=task)
        console.print(_("comment {id} written", id=note.id))

    _run(action)


@app.command()
def incidents(
    instance: Annotated[str | None, typer.Option("--instance")] = None,
    db: DbOption = None,
) -> None:
    """List incidents: tokens stuck until an operator fixes the cause and retries."""

    def action() -> None:
        table = Table(_id_column(_("case")), _("incident"), _("element"), _("kind"), _("message"))
        for case_id, inc in _engine(db).incidents(instance):
            table.add_row(case_id, str(inc.id), inc.node, inc.kind, inc.message)
        _show(table)

    _run(action)


@app.command()
def retry(
    instance: Annotated[str, typer.Argument(help="case id")],
    incident: Annotated[int | None, typer.Option("--incident", help="one incident id")] = None,
    db: DbOption = None,
) -> None:
    """Run the elements of a case's incidents again (after fixing the cause)."""

    def action() -> None:
        case = _engine(db).retry(instance, incident)
        _print_where(case.active, case.state.value)

    _run(action)


@app.command()
def jobs(
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="at most this many, earliest first")
    ] = 100,
    db: DbOption = None,
) -> None:
    """List timers and jobs waiting to fall due, earliest first: what the worker will run."""

    def action() -> None:
        engine = _engine(db)
        found = engine.jobs(limit=limit + 1)
        table = Table(
            _("due"), _id_column(_("case")), _("process"), _("element"), _("job"), _("attempts")
        )
        for job in found[:limit]:
            table.add_row(
                job.due.isoformat(timespec="seconds"),
                job.instance_id or _("(a new case)"),
                job.process_id,
                job.element,
                _job_text(job),
                _("{failed} of {attempts} failed", failed=job.failed, attempts=job.attempts)
                if job.failed
                else "",
            )
        _show(table)
        if len(found) > limit:
            console.print(_("only the first {n}: see more with --limit", n=limit))

    _run(action)


def _job_text(job: Job) -> str:
    """What a job will do, in the operator's words."""
    from liucheng.api import JobKind

    if job.kind is JobKind.JOB:
        if job.after:
            return _("go on after the element")
        return _("try the element again") if job.failed else _("enter the element")
    what = _("start a case") if job.kind is JobKind.START_TIMER else _("timer fires")
    return _("{what}, then every {cycle}", what=what, cycle=job.cycle) if job.cycle else what


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="fire what is due, then exit")] = False,
    interval: Annotated[float, typer.Option("--interval", help="seconds between rounds")] = 1.0,
    lock_for: Annotated[
        float | None,
        typer.Option(
            "--lock-for",
            min=0.001,
            help="seconds a claim on cases survives while this worker is quiet (a slow "
            "handler); default: the engine's, 300",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Run due timers and jobs, round after round, until stopped (Ctrl-C).

    Any number of workers may share a PostgreSQL database: each round claims the cases it runs
    and skips those another worker holds.  A round that loses its claim (quiet for longer than
    --lock-for) or a race is undone and reported, and the worker goes on.
    """

    def action() -> None:
        # Named for the operator: which worker holds which claim, in ``pg_stat_activity``.
        engine = _engine(db, name=f"liucheng worker {socket.gethostname()}:{os.getpid()}")
        claims = {} if lock_for is None else {"lock_for": timedelta(seconds=lock_for)}
        while True:
            try:
                fired = engine.run_due_jobs(**claims)
            except ConflictError as exc:
                if once:
                    raise
                console.print(_("round undone: {reason}", reason=str(exc)))
                fired = 0
            if fired:
                console.print(_("{n} timer(s) fired", n=fired))
            if once:
                return
            time.sleep(interval)

    try:
        _run(action)
    except KeyboardInterrupt:
        console.print(_("worker stopped"))


@app.command("export")
def export_data(
    output: Annotated[Path, typer.Argument(help="file to write (JSON lines)")],
    db: DbOption = None,
) -> None:
    """Write every deployment and case to a JSON-lines file (backup, or moving databases)."""

    def action() -> None:
        engine = _engine(db)
        count = write_export(engine, output)
        console.print(_("{n} records written to {file}", n=count, file=str(output)))

    _run(action)


@app.command("import")
def import_data(
    source: Annotated[Path, typer.Argument(help="a file written by 'liucheng export'")],
    db: DbOption = None,
) -> None:
    """Load deployments and cases from a JSON-lines export."""

    def action() -> None:
        count = read_export(_engine(db), source)
        console.print(_("{n} records imported from {file}", n=count, file=str(source)))

    _run(action)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (from a source checkout): the options of ``python -m bench``."""
    import runpy

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "__main__.py").exists():
        _fail(LiuchengError("the benchmarks live in the source checkout: run ./run bench there"))
    sys.path.insert(0, str(root))
    sys.argv = ["python -m bench", *ctx.args]
    runpy.run_module("bench", run_name="__main__")


@app.command()
def version() -> None:
    """Print the version."""
    from liucheng import __version__

    console.print(f"liucheng {__version__}")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
