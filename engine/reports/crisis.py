"""`crisis`: per ISO week (site zone), how fast stat tasks were acknowledged."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report
from engine.reports.stats import median, minutes, p90, pct

COLUMNS = [
    "week",
    "stat_tasks",
    "acknowledged",
    "median_minutes_to_acknowledge",
    "p90_minutes_to_acknowledge",
    "max_minutes_to_acknowledge",
    "escalations_fired",
    "acknowledged_within_15_min_pct",
]
ACK_TARGET_MINUTES = 15


def _stat_tasks(session: Session, q: Query) -> list[Any]:
    p = q.period
    stmt = select(
        HumanTask.id, HumanTask.case_id, HumanTask.created_at, HumanTask.acknowledged_at
    ).where(
        HumanTask.kind == "bpmn",
        HumanTask.priority == "stat",
        HumanTask.created_at >= p.start,
        HumanTask.created_at < p.end,
    )
    if q.filters.team:
        stmt = stmt.where(HumanTask.role == q.filters.team)
    if q.filters.user_id is not None:
        stmt = stmt.where(HumanTask.assignee_id == q.filters.user_id)
    return list(session.execute(stmt))


def _escalations(session: Session, task_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in range(0, len(task_ids), 500):
        stmt = (
            select(HumanTask.escalates_task_id, func.count())
            .where(HumanTask.escalates_task_id.in_(task_ids[chunk : chunk + 500]))
            .group_by(HumanTask.escalates_task_id)
        )
        counts.update({tid: n for tid, n in session.execute(stmt)})
    return counts


def crisis_report(session: Session, q: Query) -> Report:
    tasks = _stat_tasks(session, q)
    fired = _escalations(session, [t.id for t in tasks])
    weeks: dict[str, list[Any]] = defaultdict(list)
    for t in tasks:
        weeks[q.period.week_of(t.created_at)].append(t)
    report = Report(COLUMNS)
    for week, rows in sorted(weeks.items()):
        waits = [minutes(r.created_at, r.acknowledged_at) for r in rows if r.acknowledged_at]
        quick = [w for w in waits if w <= ACK_TARGET_MINUTES]
        report.add(
            {
                "week": week,
                "stat_tasks": len(rows),
                "acknowledged": len(waits),
                "median_minutes_to_acknowledge": median(waits),
                "p90_minutes_to_acknowledge": p90(waits),
                "max_minutes_to_acknowledge": round(max(waits), 1) if waits else None,
                "escalations_fired": sum(fired.get(r.id, 0) for r in rows),
                # Unacknowledged stat tasks count against the target (denominator: all).
                "acknowledged_within_15_min_pct": pct(len(quick), len(rows)),
            },
            {r.case_id for r in rows},
        )
    return report
