"""The care team of a case: who may work it beside the task holders. The primary social
worker always counts as a member, whether or not a row names them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.cases.models import CARE_TEAM_ROLES, CareTeamMember, Case
from engine.errors import Invalid, NotFound


def is_member(session: Session, *, case_id: int, user_id: int) -> bool:
    """True when the user is the case's primary social worker or a current team member."""
    # Selecting an ORM column (not a bare EXISTS) keeps the query ORM-enabled, so pending
    # changes of this transaction (a member just removed) are flushed before it runs.
    member = exists().where(
        CareTeamMember.case_id == case_id,
        CareTeamMember.user_id == user_id,
        CareTeamMember.removed_at.is_(None),
    )
    found = session.scalar(
        select(Case.id).where(
            Case.id == case_id, or_(Case.primary_social_worker_id == user_id, member)
        )
    )
    return found is not None


def current_members(session: Session, *, case_id: int) -> list[CareTeamMember]:
    return list(
        session.scalars(
            select(CareTeamMember)
            .where(CareTeamMember.case_id == case_id, CareTeamMember.removed_at.is_(None))
            .order_by(CareTeamMember.id)
        )
    )


def add_member(
    session: Session,
    *,
    case_id: int,
    case_role: str,
    at: datetime,
    added_by_id: int | None,
    user_id: int | None = None,
    name: str | None = None,
    organisation: str | None = None,
    phone: str | None = None,
) -> CareTeamMember:
    """A user member (user_id) or an external one (name required). The caller audits."""
    errors = []
    if case_role not in CARE_TEAM_ROLES:
        errors.append({"field": "case_role", "message": f"One of {', '.join(CARE_TEAM_ROLES)}."})
    if user_id is None and not (name and name.strip()):
        errors.append({"field": "name", "message": "An external member needs a name."})
    if errors:
        raise Invalid("The care-team member is not valid.", code="invalid_member", details=errors)
    member = CareTeamMember(
        case_id=case_id,
        user_id=user_id,
        case_role=case_role,
        name=name.strip() if name else None,
        organisation=organisation,
        phone=phone,
        added_by_id=added_by_id,
        added_at=at,
    )
    session.add(member)
    session.flush()
    return member


def end_membership(
    session: Session, *, case_id: int, member_id: int, at: datetime, removed_by_id: int | None
) -> CareTeamMember:
    member = session.get(CareTeamMember, member_id)
    if member is None or member.case_id != case_id or member.removed_at is not None:
        raise NotFound("No such care-team member on this case.", code="member_not_found")
    member.removed_at = at
    member.removed_by_id = removed_by_id
    return member
