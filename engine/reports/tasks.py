"""`tasks`: per task type and role, what was created, completed (how fast), and open now.

Counted in the database (GROUP BY over index ranges) and the median / p90 picked there with
window functions, so a period of a busy hospital never travels to Python row by row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report
from engine.reports.stats import pct

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
_KEY = (HumanTask.bpmn_id, HumanTask.role)


def _filtered(stmt: Select[Any], q: Query) -> Select[Any]:
    stmt = stmt.where(HumanTask.kind == "bpmn")
    if q.filters.team:
        stmt = stmt.where(HumanTask.role == q.filters.team)
    if q.filters.user_id is not None:
        stmt = stmt.where(HumanTask.assignee_id == q.filters.user_id)
    return stmt


def _grouped(session: Session, q: Query, where: ColumnElement[bool], *cols: Any) -> list[Any]:
    stmt = _filtered(select(*_KEY, *cols).where(where), q).group_by(*_KEY)
    return list(session.execute(stmt))


def _minutes(session: Session) -> ColumnElement[Any]:
    done, created = HumanTask.completed_at, HumanTask.created_at
    if session.get_bind().dialect.name == "sqlite":
        # Stored as UTC text; julianday reads it (fractions of a second included).
        return (func.julianday(done) - func.julianday(created)) * 1440.0
    return func.extract("epoch", done - created) / 60.0


def _percentiles(session: Session, q: Query, done: ColumnElement[bool]) -> dict[tuple, dict]:
    """Per group: the median (mean of the two middle values for an even count) and the p90
    (nearest rank, ceil(0.9 n)) of the minutes to complete."""
    minutes = _minutes(session).label("minutes")
    ranked = _filtered(
        select(
            *_KEY,
            minutes,
            func.row_number().over(partition_by=list(_KEY), order_by=minutes).label("rn"),
            func.count().over(partition_by=list(_KEY)).label("n"),
        ).where(done),
        q,
    ).subquery()
    rn, n = ranked.c.rn, ranked.c.n
    stmt = select(ranked.c.bpmn_id, ranked.c.role, ranked.c.minutes, rn, n).where(
        or_(rn == (n + 1) // 2, rn == n // 2 + 1, rn == (9 * n + 9) // 10)
    )
    picked: dict[tuple, dict[int, float]] = defaultdict(dict)
    sizes: dict[tuple, int] = {}
    for bpmn_id, role, value, row_no, size in session.execute(stmt):
        picked[(bpmn_id, role)][int(row_no)] = float(value)
        sizes[(bpmn_id, role)] = int(size)
    out: dict[tuple, dict] = {}
    for key, values in picked.items():
        size = sizes[key]
        middle = (values[(size + 1) // 2] + values[size // 2 + 1]) / 2
        out[key] = {"median": round(middle, 1), "p90": round(values[(9 * size + 9) // 10], 1)}
    return out


def tasks_report(session: Session, q: Query) -> Report:
    p = q.period
    created_in = and_(HumanTask.created_at >= p.start, HumanTask.created_at < p.end)
    done = and_(
        HumanTask.status == "completed",
        HumanTask.completed_at >= p.start,
        HumanTask.completed_at < p.end,
    )
    on_time = func.sum(case((HumanTask.completed_at <= HumanTask.due_at, 1), else_=0))
    overdue = func.sum(case((HumanTask.due_at < q.now, 1), else_=0))
    figures: dict[tuple, dict[str, Any]] = defaultdict(dict)
    for k1, k2, n, last_id in _grouped(
        session, q, created_in, func.count(), func.max(HumanTask.id)
    ):
        figures[(k1, k2)].update(created=n, last_id=last_id)
    for k1, k2, n, ok, last_id in _grouped(
        session, q, done, func.count(), on_time, func.max(HumanTask.id)
    ):
        figures[(k1, k2)].update(completed=n, on_time=ok, last_done=last_id)
    for k1, k2, n, late, last_id in _grouped(
        session, q, HumanTask.status == "open", func.count(), overdue, func.max(HumanTask.id)
    ):
        figures[(k1, k2)].update(open=n, overdue=late, last_open=last_id)
    stats = _percentiles(session, q, done)
    latest = {
        key: max(f.get(k, 0) or 0 for k in ("last_id", "last_done", "last_open"))
        for key, f in figures.items()
    }
    # (A Result has .keys(): dict() would read it as a mapping, hence the comprehension.)
    names = {
        task_id: name
        for task_id, name in session.execute(
            select(HumanTask.id, HumanTask.name).where(HumanTask.id.in_(list(latest.values())))
        )
    }
    behind = _cases(session, q, or_(created_in, done, HumanTask.status == "open"))
    report = Report(COLUMNS)
    for key in sorted(figures, key=lambda k: (k[0], k[1] or "")):
        f, s = figures[key], stats.get(key, {})
        completed = f.get("completed", 0)
        report.add(
            {
                "bpmn_id": key[0],
                "name": names.get(latest[key]),
                "role": key[1],
                "created": f.get("created", 0),
                "completed": completed,
                "completed_on_time_pct": pct(int(f.get("on_time") or 0), completed),
                "median_minutes_to_complete": s.get("median"),
                "p90_minutes_to_complete": s.get("p90"),
                "open_now": f.get("open", 0),
                "overdue_now": int(f.get("overdue") or 0),
            },
            behind.get(key, set()),
        )
    return report


def _cases(session: Session, q: Query, where: ColumnElement[bool]) -> dict[tuple, set[int]]:
    """The cases behind each row: only for a drill-down (a dashboard never needs them all)."""
    found: dict[tuple, set[int]] = defaultdict(set)
    if not q.with_cases:
        return found
    stmt = _filtered(select(*_KEY, HumanTask.case_id).where(where).distinct(), q)
    for bpmn_id, role, case_id in session.execute(stmt):
        found[(bpmn_id, role)].add(case_id)
    return found
