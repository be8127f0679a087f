"""`caseload`: per worker, the cases they hold and the work on their desk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.accounts.models import Role, User, UserRole
from engine.cases.models import Case
from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report

COLUMNS = [
    "user",
    "name",
    "open_cases",
    "new_this_period",
    "closed",
    "open_tasks",
    "overdue",
    "stat_in_period",
]
DEFAULT_TEAM = "social_worker"


def _workers(session: Session, q: Query) -> list[User]:
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.key == (q.filters.team or DEFAULT_TEAM), User.active.is_(True))
    )
    if q.filters.user_id is not None:
        stmt = stmt.where(User.id == q.filters.user_id)
    return list(session.scalars(stmt.order_by(User.username)))


def _count_by(session: Session, column: Any, ids: list[int], *where: Any) -> dict[int, int]:
    stmt = select(column, func.count()).where(column.in_(ids), *where).group_by(column)
    return {key: n for key, n in session.execute(stmt)}


def _case_ids(session: Session, worker_ids: list[int], q: Query) -> dict[int, set[int]]:
    """Per worker, the cases behind their row (open now, opened or closed in the period)."""
    p = q.period
    stmt = select(Case.primary_social_worker_id, Case.id).where(
        Case.primary_social_worker_id.in_(worker_ids),
        (Case.status == "open")
        | and_(Case.opened_at >= p.start, Case.opened_at < p.end)
        | and_(Case.closed_at >= p.start, Case.closed_at < p.end),
    )
    found: dict[int, set[int]] = {}
    for worker_id, case_id in session.execute(stmt):
        found.setdefault(worker_id, set()).add(case_id)
    return found


def caseload_report(session: Session, q: Query) -> Report:
    workers = _workers(session, q)
    ids = [w.id for w in workers]
    p = q.period
    owner, assignee = Case.primary_social_worker_id, HumanTask.assignee_id
    counts = {
        "open_cases": _count_by(session, owner, ids, Case.status == "open"),
        "new_this_period": _count_by(
            session, owner, ids, Case.opened_at >= p.start, Case.opened_at < p.end
        ),
        "closed": _count_by(session, owner, ids, Case.closed_at >= p.start, Case.closed_at < p.end),
        "open_tasks": _count_by(session, assignee, ids, HumanTask.status == "open"),
        "overdue": _count_by(
            session, assignee, ids, HumanTask.status == "open", HumanTask.due_at < q.now
        ),
        "stat_in_period": _count_by(
            session,
            assignee,
            ids,
            HumanTask.kind == "bpmn",
            HumanTask.priority == "stat",
            HumanTask.created_at >= p.start,
            HumanTask.created_at < p.end,
        ),
    }
    cases = _case_ids(session, ids, q)
    report = Report(COLUMNS)
    for w in workers:
        row: dict[str, Any] = {"user": w.username, "name": w.display_name}
        row.update({key: by_worker.get(w.id, 0) for key, by_worker in counts.items()})
        report.add(row, cases.get(w.id, set()))
    return report
