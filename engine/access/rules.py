"""Who may read a case (record-level access, "minimum necessary").

A user reads a case when they are a supervisor or admin, on its care team (the primary
social worker included), the holder (assignee) of one of its tasks, or hold a role whose
queue has one of its open tasks unclaimed — without that last one nobody could open queued
work before claiming it. Anyone else needs break-glass: a stated reason, time-limited, and
reported.

Who sees the sensitive sections (engine/access/masking.py) is narrower: the care team, task
holders and supervisors (`CaseAccess.sensitive`); not a queue reader, an admin off the team
or a break-glass reader, who see the outcome (risk level, band, flags) but not the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.access.models import BreakGlassGrant
from engine.accounts.models import User
from engine.cases.models import CareTeamMember, Case
from engine.errors import Forbidden, NotFound
from engine.inbox.models import HumanTask

MANAGERS = ("supervisor", "admin")


class Basis(StrEnum):
    """Why a user may read a case (the first that applies, in this order)."""

    MANAGER = "manager"
    CARE_TEAM = "care_team"
    TASK_HOLDER = "task_holder"
    QUEUE = "queue"
    BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class CaseAccess:
    case_id: int
    basis: Basis
    sensitive: bool  # may see suicide-risk, substance-use and safety answers
    break_glass_until: datetime | None = None


class RecordAccessDenied(Forbidden):
    """A read of a client's record outside the rule. Carries which record, for the audit row
    the web edge writes of every refusal (in its own transaction: this one rolls back)."""

    code = "not_on_care_team"

    def __init__(self, *, case_id: int | None, client_id: int | None, category: str) -> None:
        super().__init__(
            "You are not on this client's care team. If you must read this record, use "
            "break-glass access and state why: it is time-limited and reported to supervisors.",
            details=[
                {
                    "field": "break_glass",
                    "message": f"POST /api/v1/cases/{case_id}/break-glass with a reason.",
                }
            ]
            if case_id is not None
            else [],
        )
        self.case_id = case_id
        self.client_id = client_id
        self.category = category


def _member(user_id: int, case_id: Any) -> ColumnElement[bool]:
    return exists().where(
        CareTeamMember.case_id == case_id,
        CareTeamMember.user_id == user_id,
        CareTeamMember.removed_at.is_(None),
    )


def _holder(user_id: int, case_id: Any) -> ColumnElement[bool]:
    # Holding a task, or having completed one (an unclaimed queue task can be completed
    # directly), makes the work part of one's own.
    # A "mentioned in a note" item opens the record only while it is open.
    return exists().where(
        HumanTask.case_id == case_id,
        or_(HumanTask.assignee_id == user_id, HumanTask.completed_by_id == user_id),
        or_(HumanTask.kind != "mention", HumanTask.status == "open"),
    )


def _queued(user: User, case_id: Any) -> ColumnElement[bool]:
    roles = sorted(user.role_keys)
    if not roles:
        return false()
    return exists().where(
        HumanTask.case_id == case_id,
        HumanTask.status == "open",
        HumanTask.assignee_id.is_(None),
        HumanTask.role.in_(roles),
    )


def _glass(user_id: int, case_id: Any, now: datetime) -> ColumnElement[bool]:
    return exists().where(
        BreakGlassGrant.case_id == case_id,
        BreakGlassGrant.user_id == user_id,
        BreakGlassGrant.expires_at > now,
    )


def readable_cases(user: User, *, now: datetime) -> ColumnElement[bool]:
    """A WHERE clause on Case: the cases this user may see in a list or a search."""
    if user.has_role(*MANAGERS):
        return true()
    return or_(
        Case.primary_social_worker_id == user.id,
        _member(user.id, Case.id),
        _holder(user.id, Case.id),
        _queued(user, Case.id),
        _glass(user.id, Case.id, now),
    )


def readable_tasks(user: User, *, now: datetime) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: the tasks a task list may show this user (those of the
    cases they may read, and tasks without a case)."""
    if user.has_role(*MANAGERS):
        return true()
    sibling = aliased(HumanTask)
    roles = sorted(user.role_keys)
    return or_(
        HumanTask.case_id.is_(None),
        HumanTask.assignee_id == user.id,
        exists().where(Case.id == HumanTask.case_id, Case.primary_social_worker_id == user.id),
        _member(user.id, HumanTask.case_id),
        exists().where(
            sibling.case_id == HumanTask.case_id,
            or_(
                and_(
                    or_(sibling.assignee_id == user.id, sibling.completed_by_id == user.id),
                    or_(sibling.kind != "mention", sibling.status == "open"),
                ),
                and_(
                    sibling.status == "open",
                    sibling.assignee_id.is_(None),
                    sibling.role.in_(roles) if roles else false(),
                ),
            ),
        ),
        _glass(user.id, HumanTask.case_id, now),
    )


def case_access(session: Session, *, user: User, case: Case, now: datetime) -> CaseAccess | None:
    """How this user may read this case, or None when they may not."""
    if user.has_role(*MANAGERS):
        # Supervisors oversee the clinical work and see it whole; an admin's role is the
        # system, so an admin sees the sensitive sections only when on the team.
        team = _on_team(session, user, case)
        return CaseAccess(case.id, Basis.MANAGER, sensitive=team or user.has_role("supervisor"))
    if _on_team(session, user, case):
        return CaseAccess(case.id, Basis.CARE_TEAM, sensitive=True)
    if _holds(session, case, _holder(user.id, case.id)):
        return CaseAccess(case.id, Basis.TASK_HOLDER, sensitive=True)
    if _holds(session, case, _queued(user, case.id)):
        return CaseAccess(case.id, Basis.QUEUE, sensitive=False)
    grant = active_grant(session, case_id=case.id, user_id=user.id, now=now)
    if grant is not None:
        return CaseAccess(
            case.id, Basis.BREAK_GLASS, sensitive=False, break_glass_until=grant.expires_at
        )
    return None


def _holds(session: Session, case: Case, clause: ColumnElement[bool]) -> bool:
    # Selecting an ORM column (not a bare EXISTS) keeps the query ORM-enabled, so this
    # transaction's pending changes (a task just reassigned) are flushed before it runs.
    return session.scalar(select(Case.id).where(Case.id == case.id, clause)) is not None


def _on_team(session: Session, user: User, case: Case) -> bool:
    if case.primary_social_worker_id == user.id:
        return True
    return _holds(session, case, _member(user.id, case.id))


def active_grant(
    session: Session, *, case_id: int, user_id: int, now: datetime
) -> BreakGlassGrant | None:
    return session.scalar(
        select(BreakGlassGrant)
        .where(
            and_(
                BreakGlassGrant.case_id == case_id,
                BreakGlassGrant.user_id == user_id,
                BreakGlassGrant.expires_at > now,
            )
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )


def require_case_read(
    session: Session, *, user: User, case_id: int, now: datetime, category: str = "case_record"
) -> tuple[Case, CaseAccess]:
    """The case and how the user may read it; NotFound, or RecordAccessDenied (403)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    access = case_access(session, user=user, case=case, now=now)
    if access is None:
        raise RecordAccessDenied(case_id=case.id, client_id=case.client_id, category=category)
    return case, access


def require_client_read(session: Session, *, user: User, client_id: int, now: datetime) -> None:
    """A client-level record (consents) is readable through any of the client's cases."""
    if user.has_role(*MANAGERS):
        return
    found = session.scalar(
        select(Case.id).where(Case.client_id == client_id, readable_cases(user, now=now)).limit(1)
    )
    if found is None:
        raise RecordAccessDenied(case_id=None, client_id=client_id, category="consent")
