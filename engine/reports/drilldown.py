"""The cases behind one number of a report (the dashboard's drill-down)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access
from engine.accounts.models import User
from engine.cases.models import Case
from engine.errors import NotFound
from engine.reports.common import Report

MAX_LISTED = 500


def report_cases(
    session: Session, report: Report, *, row: int, actor: User, now: datetime
) -> list[Case]:
    """The readable cases behind row `row`, newest first; the list read is audited."""
    if not 0 <= row < len(report.rows):
        raise NotFound("No such row in this report.", code="row_not_found")
    ids = sorted(report.row_cases[row])[-MAX_LISTED:]
    if not ids:
        cases: list[Case] = []
    else:
        stmt = (
            select(Case)
            .where(Case.id.in_(ids), access.readable_cases(actor, now=now))
            .order_by(Case.opened_at.desc(), Case.id.desc())
        )
        cases = list(session.scalars(stmt))
    access.record_list_read(
        session, actor=actor, at=now, case_ids=[c.id for c in cases], search=False
    )
    return cases
