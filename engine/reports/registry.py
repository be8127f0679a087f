"""The report names, who may run which, and running one for a person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.errors import BadRequest, Forbidden, NotFound
from engine.reports.caseload import caseload_report
from engine.reports.common import Filters, Query, Report
from engine.reports.crisis import crisis_report
from engine.reports.discharge import fuh_report, tcm_report
from engine.reports.period import Period
from engine.reports.referrals import referrals_report
from engine.reports.screening import screening_report
from engine.reports.tasks import tasks_report

MANAGERS = ("supervisor", "admin")
REPORTS: dict[str, Callable[[Session, Query], Report]] = {
    "tasks": tasks_report,
    "crisis": crisis_report,
    "tcm": tcm_report,
    "fuh": fuh_report,
    "referrals": referrals_report,
    "caseload": caseload_report,
    "screening": screening_report,
}
REPORT_NAMES = tuple(REPORTS)
# What a social worker may see: their own caseload row, nothing else.
OWN_ROW_REPORTS = frozenset({"caseload"})


@dataclass(frozen=True)
class Request:
    name: str
    team: str | None = None
    username: str | None = None


def require_report(name: str) -> None:
    if name not in REPORTS:
        raise NotFound("No such report.", code="report_not_found")


def allowed_filters(session: Session, request: Request, *, actor: User) -> Filters:
    """The filters the actor may apply; Forbidden when the report is not theirs to see."""
    require_report(request.name)
    user_id = _user_id(session, request.username)
    if actor.has_role(*MANAGERS):
        return Filters(team=request.team or None, user_id=user_id)
    if request.name in OWN_ROW_REPORTS and actor.has_role("social_worker"):
        if user_id is not None and user_id != actor.id:
            raise Forbidden("You can see only your own caseload.", code="own_row_only")
        return Filters(team="social_worker", user_id=actor.id)
    raise Forbidden("Only supervisors and admins see this report.", code="role_required")


def _user_id(session: Session, username: str | None) -> int | None:
    if not username:
        return None
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise BadRequest("No user has that username.", code="bad_parameter")
    return found


def run_report(
    session: Session,
    name: str,
    *,
    period: Period,
    filters: Filters,
    now: datetime,
    with_cases: bool = False,
) -> Report:
    """Compute a report (the caller has checked who may see it with allowed_filters)."""
    require_report(name)
    return REPORTS[name](
        session, Query(period=period, now=now, filters=filters, with_cases=with_cases)
    )
