"""``liucheng export`` / ``import``: every deployment and case as JSON lines.

One JSON object per line: first the deployments in the order they were made (with the BPMN
source, so versions are recreated with the same numbers), then one line per case holding its
whole state as ``Engine.dump`` writes it.  The same file moves data between SQLite and
PostgreSQL, or serves as a backup.  Import is meant for an empty database: a process whose
versions differ from the file's is refused, naming the process, before any case is written.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import Progress

from liucheng.errors import LiuchengError
from liucheng.store import Attachment, Comment

if TYPE_CHECKING:
    from liucheng.api import Engine

FORMAT = 1


def write_export(engine: Engine, path: Path) -> int:
    """Write the export file; return how many records it holds."""
    count = 0
    with path.open("w", encoding="utf-8") as out, Progress(transient=True) as progress:
        out.write(json.dumps({"type": "liucheng-export", "format": FORMAT}) + "\n")
        for record in engine.store.deployments():
            line = {
                "type": "deployment",
                "process_id": record.process_id,
                "version": record.version,
                "source": record.source.decode("utf-8"),
                "source_name": record.source_name,
                "language": record.language,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
        cases = [case.id for case in engine.instances()]
        task = progress.add_task("export", total=len(cases))
        for case_id in cases:
            out.write('{"type":"case","data":' + engine.dump(case_id) + "}\n")
            count += 1
            for kind, notes in (
                ("comment", engine.store.comments(case_id)),
                ("attachment", engine.store.attachments(case_id)),
            ):
                for note in notes:
                    line = {"type": kind, **note._asdict(), "created": note.created.isoformat()}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    count += 1
            progress.advance(task)
    return count


def read_export(engine: Engine, path: Path) -> int:
    """Load an export file into ``engine``'s store; return how many records were read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LiuchengError(f"{path}: cannot read the file: {exc.strerror}") from exc
    records = [_record(path, n, line) for n, line in enumerate(lines, 1) if line.strip()]
    if not records or records[0].get("type") != "liucheng-export":
        raise LiuchengError(f"{path}: not a Liucheng export (its first line says what it is)")
    if records[0].get("format") != FORMAT:
        raise LiuchengError(f"{path}: export format {records[0].get('format')!r} is not known")
    count = 0
    for n, record in enumerate(records[1:], 2):
        if record.get("type") != "deployment":
            continue
        try:
            source = record["source"].encode("utf-8")
            made = engine.deploy(
                source, expression_language=record["language"], name=record.get("source_name")
            )
        except (KeyError, AttributeError) as exc:
            raise LiuchengError(f"{path}, line {n}: malformed deployment record") from exc
        if record.get("language") == "dmn":  # decisions: versioned per file, not per process
            count += 1
            continue
        versions = {d.process_id: d.version for d in made}
        if versions.get(record["process_id"]) != record["version"]:
            raise LiuchengError(
                f"{path}, line {n}: process '{record['process_id']}' would become version "
                f"{versions.get(record['process_id'])} here, not {record['version']}; import "
                "into an empty database"
            )
        count += 1
    cases = [(n, r) for n, r in enumerate(records[1:], 2) if r.get("type") == "case"]
    with Progress(transient=True) as progress:
        task = progress.add_task("import", total=len(cases))
        for n, record in cases:
            try:
                engine.load(json.dumps(record["data"]))
            except KeyError as exc:
                raise LiuchengError(f"{path}, line {n}: malformed case record") from exc
            count += 1
            progress.advance(task)
    for n, record in enumerate(records[1:], 2):
        kind = record.get("type")
        if kind not in ("comment", "attachment"):
            continue
        try:
            fields = {k: v for k, v in record.items() if k != "type"}
            fields["created"] = datetime.fromisoformat(fields["created"])
            if kind == "comment":
                engine.store.add_comment(Comment(**fields))
            else:
                engine.store.add_attachment(Attachment(**fields))
        except (KeyError, TypeError, ValueError) as exc:
            raise LiuchengError(f"{path}, line {n}: malformed {kind} record") from exc
        count += 1
    return count


def _record(path: Path, n: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LiuchengError(f"{path}, line {n}: not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise LiuchengError(f"{path}, line {n}: each line must be a JSON object")
    return value
