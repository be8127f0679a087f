"""Break-glass grants, their report, and the audit rows of refusals. The caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.access.models import BreakGlassGrant
from engine.access.rules import MANAGERS
from engine.accounts.models import User
from engine.cases.models import Case
from engine.clock import Clock
from engine.errors import Forbidden, Invalid, NotFound

DEFAULT_BREAK_GLASS_MINUTES = 60
MAX_REASON = 2000


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


def break_glass(
    session: Session,
    *,
    case_id: int,
    reason: object,
    actor: User,
    clock: Clock,
    minutes: int = DEFAULT_BREAK_GLASS_MINUTES,
) -> BreakGlassGrant:
    """Grant the actor `minutes` of access to one case for a stated reason. Audited as a
    break-glass event (the supervisors' notification and the report read these grants)."""
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(
            "State why you need this record.",
            code="invalid_break_glass",
            details=[{"field": "reason", "message": "A reason is required."}],
        )
    if len(reason.strip()) > MAX_REASON:
        raise Invalid(
            "The reason is too long.",
            code="invalid_break_glass",
            details=[{"field": "reason", "message": f"At most {MAX_REASON} characters."}],
        )
    if not actor.role_keys:
        raise Forbidden("Your account has no clinical role.", code="role_required")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    now = clock.now()
    grant = BreakGlassGrant(
        case_id=case.id,
        client_id=case.client_id,
        user_id=actor.id,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        audit.AuditTag.BREAK_GLASS,
        actor=_actor(actor),
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        # The reason stays in the grant row; details hold ids only.
        details={"grant_id": grant.id, "minutes": minutes, "break_glass": True},
    )
    return grant


@dataclass(frozen=True)
class BreakGlassUse:
    grant: BreakGlassGrant
    username: str
    display_name: str


def break_glass_report(
    session: Session,
    *,
    actor: User,
    clock: Clock,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[BreakGlassUse]:
    """Every break-glass use granted in [start, end), newest first: supervisors and admins."""
    if not actor.has_role(*MANAGERS):
        raise Forbidden("Only supervisors and admins read this report.", code="role_required")
    stmt = select(BreakGlassGrant, User.username, User.display_name).join(
        User, User.id == BreakGlassGrant.user_id
    )
    if start is not None:
        stmt = stmt.where(BreakGlassGrant.granted_at >= start)
    if end is not None:
        stmt = stmt.where(BreakGlassGrant.granted_at < end)
    rows = session.execute(
        stmt.order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
    ).tuples()
    uses = [BreakGlassUse(g, username, name) for g, username, name in rows]
    audit.record(
        session,
        audit.AuditTag.BREAK_GLASS_REPORT_VIEWED,
        actor=_actor(actor),
        at=clock.now(),
        category="audit",
        details={"count": len(uses), "case_ids": sorted({u.grant.case_id for u in uses})},
    )
    return uses


def record_refusal(
    session: Session,
    *,
    actor: User | None,
    at: datetime,
    action: str,
    category: str = "access",
    case_id: int | None = None,
    client_id: int | None = None,
    code: str = "forbidden",
) -> None:
    """The audit row of a refused attempt (who, when, which record, what they tried)."""
    audit.record(
        session,
        audit.AuditTag.ACCESS_REFUSED,
        actor=_actor(actor) if actor is not None else audit.Actor(None, "anonymous"),
        at=at,
        category=category,
        case_id=case_id,
        client_id=client_id,
        details={"attempted": action, "code": code},
    )


def record_list_read(
    session: Session, *, actor: User, at: datetime, case_ids: list[int], search: bool
) -> None:
    """One row per list or search of cases: which cases the reader was shown."""
    audit.record(
        session,
        audit.AuditTag.CASE_LIST_VIEWED,
        actor=_actor(actor),
        at=at,
        category="case_list",
        details={"count": len(case_ids), "case_ids": case_ids, "search": search},
    )


def break_glass_count(session: Session, *, since: datetime) -> int:
    """How many break-glass grants were made since then: the supervisors' inbox notice (a
    count only, no client, so reading it is not a read of anyone's record)."""
    stmt = select(func.count(BreakGlassGrant.id)).where(BreakGlassGrant.granted_at >= since)
    return session.scalar(stmt) or 0
