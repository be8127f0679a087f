"""The care team of a case: who may work it beside the task holders. The primary social
worker always counts as a member, whether or not a row names them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.cases.models import CARE_TEAM_ROLES, CareTeamMember, Case
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound


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


# ---------------------------------------------------------------- people's commands -----
# The team is changed by the primary social worker, supervisors and admins, and case managers
# who are on the team themselves (they coordinate discharge and services).
TEAM_MANAGERS = ("supervisor", "admin")


def can_change_team(session: Session, *, case: Case, actor: User) -> bool:
    if actor.has_role(*TEAM_MANAGERS) or case.primary_social_worker_id == actor.id:
        return True
    return actor.has_role("case_manager") and is_member(session, case_id=case.id, user_id=actor.id)


@dataclass(frozen=True)
class TeamEntry:
    """One line of the team as people read it. `id` is None for the primary social worker
    when no row names them (the case itself does)."""

    id: int | None
    user: User | None
    case_role: str
    name: str | None
    organisation: str | None
    phone: str | None
    added_at: datetime


def team_of(session: Session, case: Case) -> list[TeamEntry]:
    """The primary social worker first, then the current members in the order they joined."""
    rows = current_members(session, case_id=case.id)
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({r.user_id for r in rows if r.user_id is not None}))
        )
    }
    entries: list[TeamEntry] = []
    primary = case.primary_social_worker
    named = any(
        r.user_id == case.primary_social_worker_id and r.case_role == "primary_social_worker"
        for r in rows
    )
    if primary is not None and not named:
        entries.append(
            TeamEntry(
                None,
                primary,
                "primary_social_worker",
                primary.display_name,
                None,
                None,
                case.opened_at,
            )
        )
    for r in rows:
        who = users.get(r.user_id) if r.user_id is not None else None
        entries.append(
            TeamEntry(
                r.id,
                who,
                r.case_role,
                r.name or (who.display_name if who is not None else None),
                r.organisation,
                r.phone,
                r.added_at,
            )
        )
    return entries


def _text(value: object, field: str, limit: int, errors: list[dict[str, str]]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append({"field": field, "message": "Must be text."})
        return None
    if len(value.strip()) > limit:
        errors.append({"field": field, "message": f"At most {limit} characters."})
        return None
    return value.strip() or None


def _audit(
    session: Session, tag: audit.AuditTag, case: Case, actor: User, at: datetime, **details: Any
) -> None:
    audit.record(
        session,
        tag,
        actor=audit.actor_of(actor),
        at=at,
        category="care_team",
        case_id=case.id,
        client_id=case.client_id,
        details=details,
    )


def add_to_team(
    session: Session,
    *,
    case: Case,
    actor: User,
    clock: Clock,
    case_role: object,
    username: object = None,
    name: object = None,
    organisation: object = None,
    phone: object = None,
) -> CareTeamMember:
    """Add a user (by username) or an external person to the case's team. Forbidden unless
    the actor may change the team; Invalid naming the field; Conflict for a user already on
    it. Audited."""
    if not can_change_team(session, case=case, actor=actor):
        raise Forbidden(
            "Only the primary social worker, a supervisor, an admin or a case manager on "
            "the team changes the care team.",
            code="cannot_change_team",
        )
    errors: list[dict[str, str]] = []
    if not isinstance(case_role, str) or case_role not in CARE_TEAM_ROLES:
        errors.append({"field": "case_role", "message": f"One of {', '.join(CARE_TEAM_ROLES)}."})
    clean = {
        "name": _text(name, "name", 200, errors),
        "organisation": _text(organisation, "organisation", 200, errors),
        "phone": _text(phone, "phone", 40, errors),
    }
    member_user: User | None = None
    if username is not None and username != "":
        if not isinstance(username, str):
            errors.append({"field": "user", "message": "A username."})
        else:
            member_user = session.scalar(select(User).where(User.username == username.strip()))
            if member_user is None or not member_user.active:
                errors.append({"field": "user", "message": "No active user of that name."})
    elif clean["name"] is None and not any(e["field"] == "name" for e in errors):
        errors.append({"field": "name", "message": "Name a user, or an external member's name."})
    if errors:
        raise Invalid("The care-team member is not valid.", code="invalid_member", details=errors)
    assert isinstance(case_role, str)
    if member_user is not None:
        _check_user_role(session, case, member_user, case_role)
    member = add_member(
        session,
        case_id=case.id,
        case_role=case_role,
        at=clock.now(),
        added_by_id=actor.id,
        user_id=member_user.id if member_user is not None else None,
        **clean,
    )
    if case_role == "primary_social_worker" and member_user is not None:
        case.primary_social_worker_id = member_user.id
    _audit(
        session,
        audit.AuditTag.TEAM_MEMBER_ADDED,
        case,
        actor,
        clock.now(),
        member_id=member.id,
        case_role=case_role,
        user_id=member.user_id,
    )
    return member


def _check_user_role(session: Session, case: Case, user: User, case_role: str) -> None:
    if is_member(session, case_id=case.id, user_id=user.id):
        raise Conflict(f"{user.username} is already on this care team.", code="already_member")
    if case_role != "primary_social_worker":
        return
    # The primary social worker is the case's own field; moving it is a caseload handoff.
    if case.primary_social_worker_id is not None:
        raise Conflict(
            "The case already has a primary social worker; hand the case over instead.",
            code="primary_exists",
        )
    if not user.has_role("social_worker"):
        raise Invalid(
            "The primary social worker must be a social worker.",
            code="invalid_member",
            details=[{"field": "user", "message": "Needs the role social_worker."}],
        )


def remove_from_team(
    session: Session, *, case: Case, member_id: int, actor: User, clock: Clock
) -> CareTeamMember:
    """End one membership (kept for the audit). Forbidden unless the actor may change the
    team; NotFound for a member not (or no longer) on this case's team."""
    if not can_change_team(session, case=case, actor=actor):
        raise Forbidden(
            "Only the primary social worker, a supervisor, an admin or a case manager on "
            "the team changes the care team.",
            code="cannot_change_team",
        )
    member = end_membership(
        session, case_id=case.id, member_id=member_id, at=clock.now(), removed_by_id=actor.id
    )
    _audit(
        session,
        audit.AuditTag.TEAM_MEMBER_REMOVED,
        case,
        actor,
        clock.now(),
        member_id=member.id,
        case_role=member.case_role,
        user_id=member.user_id,
    )
    return member
