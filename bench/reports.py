"""Benchmark: the quality reports at the inbox benchmark's scale.

The inbox benchmark's history (1,000,000 completed + 100,000 open human_tasks over two years,
bulk-loaded), a tenth of its cases discharged over the same span, then p50/p95/p99 of every
report (engine.reports.run_report) for a 90-day period ending today, as a supervisor sees it.
Target: p95 <= 200 ms per report on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bench import inbox
from bench.common import Database, fresh_database, summary_ms
from bench.common import Table as OutTable
from engine import reports
from engine.calendar import Site

PERIOD_DAYS = 90
FULL = inbox.FULL
QUICK = inbox.QUICK


def _discharge_some(db: Database) -> None:
    """Every tenth case discharged at a random time of the last two years."""
    rng = random.Random(17)
    # SQLite keeps times as the text SQLAlchemy's type writes; a raw UPDATE must match it.
    value = inbox._sqlite_value if db.backend == "sqlite" else (lambda v: v)
    with db.sessions.begin() as session:
        ids = session.scalars(text("SELECT id FROM cases WHERE id % 10 = 0")).all()
        session.execute(
            text(
                "UPDATE cases SET discharged_at = :at, discharge_disposition = 'home' "
                "WHERE id = :id"
            ),
            [
                {"id": i, "at": value(inbox.NOW - timedelta(minutes=rng.randrange(700 * 1440)))}
                for i in ids
            ],
        )


def measure(db: Database, samples: int) -> dict[str, Any]:
    zone = Site().zone
    last = inbox.NOW.astimezone(zone).date()
    period = reports.parse_period(
        (last - timedelta(days=PERIOD_DAYS - 1)).isoformat(), last.isoformat(), zone=zone
    )
    out: dict[str, Any] = {}
    for name in reports.REPORT_NAMES:
        timings = []
        for _ in range(samples):
            with db.sessions() as session:
                start = time.perf_counter()
                reports.run_report(
                    session, name, period=period, filters=reports.Filters(), now=inbox.NOW
                )
                timings.append(time.perf_counter() - start)
        out[name] = summary_ms(timings)
    return out


def run_backend(backend: str, scale: inbox.Scale) -> dict[str, Any]:
    with fresh_database(backend) as db:
        loaded = inbox.bulk_load(db, scale)
        _discharge_some(db)
        measure(db, 2)  # warm caches
        return {"load_s": loaded["load_s"], "engine": measure(db, max(scale.samples // 10, 5))}


def run(*, quick: bool, backends: tuple[str, ...]) -> tuple[dict[str, Any], list[OutTable]]:
    scale = QUICK if quick else FULL
    details = {b: run_backend(b, scale) for b in backends}
    p95 = [v["p95"] for d in details.values() for v in d["engine"].values()]
    results = {"reports.p95_ms": max(p95) if p95 else None, "reports.details": details}
    table = OutTable(
        f"Reports: {PERIOD_DAYS}-day period over {scale.completed_tasks:,} completed + "
        f"{scale.open_tasks:,} open tasks (ms)",
        ("backend", "report", "samples", "p50", "p95", "p99", "target p95"),
    )
    for backend, d in details.items():
        for name, s in d["engine"].items():
            table.add(backend, name, s["n"], s["p50"], s["p95"], s["p99"], "<= 200")
    return results, [table]
