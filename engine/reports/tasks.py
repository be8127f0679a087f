"""`tasks`: per task type and role, what was created, completed (how fast), and open now."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report
from engine.reports.period import aware
from engine.reports.stats import median, minutes, p90, pct

COLUMNS = [
    "bpmn_id",
    "name",
    "role",
    "created",
    "completed",
    "completed_on_time_pct",
    "median_minutes_to_complete",
    "p90_minutes_to_complete",
    "open_now",
    "overdue_now",
]
_COLS = (
    HumanTask.id,
    HumanTask.bpmn_id,
    HumanTask.name,
    HumanTask.role,
    HumanTask.case_id,
    HumanTask.status,
    HumanTask.created_at,
    HumanTask.completed_at,
    HumanTask.due_at,
)


def _filtered(stmt: Select[Any], q: Query) -> Select[Any]:
    stmt = stmt.where(HumanTask.kind == "bpmn")
    if q.filters.team:
        stmt = stmt.where(HumanTask.role == q.filters.team)
    if q.filters.user_id is not None:
        stmt = stmt.where(HumanTask.assignee_id == q.filters.user_id)
    return stmt


def task_rows(session: Session, q: Query) -> list[Any]:
    """Tasks created or completed in the period, and every open task (three index reads)."""
    p = q.period
    seen: dict[int, Any] = {}
    for where in (
        and_(HumanTask.created_at >= p.start, HumanTask.created_at < p.end),
        and_(HumanTask.completed_at >= p.start, HumanTask.completed_at < p.end),
        HumanTask.status == "open",
    ):
        for row in session.execute(_filtered(select(*_COLS).where(where), q)):
            seen[row.id] = row
    return list(seen.values())


def tasks_report(session: Session, q: Query) -> Report:
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in task_rows(session, q):
        groups[(row.bpmn_id, row.role or "")].append(row)
    report = Report(COLUMNS)
    for (bpmn_id, role), rows in sorted(groups.items()):
        created = [r for r in rows if q.period.holds(r.created_at)]
        done = [r for r in rows if r.status == "completed" and q.period.holds(r.completed_at)]
        durations = [minutes(r.created_at, r.completed_at) for r in done]
        on_time = [r for r in done if aware(r.completed_at) <= aware(r.due_at)]
        open_now = [r for r in rows if r.status == "open"]
        overdue = [r for r in open_now if aware(r.due_at) < q.now]
        report.add(
            {
                "bpmn_id": bpmn_id,
                "name": max(rows, key=lambda r: r.id).name,
                "role": role or None,
                "created": len(created),
                "completed": len(done),
                "completed_on_time_pct": pct(len(on_time), len(done)),
                "median_minutes_to_complete": median(durations),
                "p90_minutes_to_complete": p90(durations),
                "open_now": len(open_now),
                "overdue_now": len(overdue),
            },
            {r.case_id for r in rows},
        )
    return report
