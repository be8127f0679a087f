"""`carebridge oncall import FILE.csv`: read, check every line, write all or nothing."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import click

from engine import audit, oncall
from engine.clock import SystemClock
from engine.errors import Invalid

COLUMNS = ("role", "username", "starts_at", "ends_at")
# Above this many lines, progress is shown while reading and checking.
PROGRESS_FROM = 200


def _read(file: Path) -> list[tuple[int, oncall.ShiftInput]]:
    with file.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise click.ClickException(
                f"line 1: the header must name {','.join(COLUMNS)}; missing {', '.join(missing)}"
            )
        reader.fieldnames = header
        rows = []
        for record in reader:
            values: dict[str, Any] = {k: (v or "").strip() for k, v in record.items() if k}
            rows.append(
                (
                    reader.line_num,
                    oncall.ShiftInput(
                        role=values["role"],
                        user=values["username"],
                        starts_at=values["starts_at"],
                        ends_at=values["ends_at"],
                    ),
                )
            )
    return rows


def import_csv(env: Any, file: Path) -> None:
    rows = _read(file)
    if not rows:
        raise click.ClickException("the file has no shifts")
    clock = SystemClock()
    try:
        with env.transaction() as session:
            if len(rows) >= PROGRESS_FROM:
                with click.progressbar(length=len(rows), label="checking", file=sys.stderr) as bar:
                    shifts = oncall.import_shifts(
                        session, rows=rows, actor=audit.SYSTEM, at=clock.now(), progress=bar.update
                    )
            else:
                shifts = oncall.import_shifts(
                    session, rows=rows, actor=audit.SYSTEM, at=clock.now()
                )
    except Invalid as exc:
        for problem in exc.details if isinstance(exc.details, list) else []:
            click.echo(
                f"line {problem['line']}: {problem['field']}: {problem['message']}", err=True
            )
        click.echo("nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"imported {len(shifts)} shift(s) from {file.name}")
