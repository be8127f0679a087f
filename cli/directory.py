"""`carebridge directory import PATH`: load an HSDS 3.0 package (a folder of CSV files or a
JSON file) into the directory, in one transaction, and report the rows it refused."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine import directory
from engine.clock import SystemClock
from engine.directory.package import TABLES
from engine.errors import Invalid

if TYPE_CHECKING:
    from cli.main import Env

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "directory_sample"


def run_import(env: Env, path: Path) -> directory.ImportReport:
    try:
        package = directory.read_package(path)
    except Invalid as exc:
        details = exc.details if isinstance(exc.details, list) else []
        raise click.ClickException("; ".join(d["message"] for d in details) or str(exc)) from exc
    with (
        env.transaction() as session,
        click.progressbar(length=len(package), label=f"importing {path.name}") as bar,
    ):
        report = directory.import_package(
            session, package=package, clock=SystemClock(), progress=lambda _row: bar.update(1)
        )
    return report


def echo_report(report: directory.ImportReport) -> None:
    for table in TABLES:
        new, old = report.created.get(table, 0), report.updated.get(table, 0)
        if new or old:
            click.echo(f"{table}: {new} created, {old} updated")
    for refusal in report.refused:
        click.echo(f"refused {refusal.file} row {refusal.row}: {refusal.reason}", err=True)
    click.echo(f"{len(report.refused)} row(s) refused")
