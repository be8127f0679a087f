"""The Referral row and its history: reading them, locking one for a change, and the single
place a status changes (row + `referral_events` + audit, all in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.accounts.models import User
from engine.cases.models import Client
from engine.clock import Clock
from engine.errors import NotFound
from engine.instances.models import ProcessInstance
from engine.referrals.models import Referral, ReferralEvent
from engine.referrals.states import TERMINAL, check_transition


def who(actor: User | None) -> audit.Actor:
    """The audit actor for a user, or the system when nobody is acting."""
    return audit.actor_of(actor) if actor is not None else audit.SYSTEM


def get_referral(session: Session, referral_id: int, *, for_update: bool = False) -> Referral:
    referral = session.get(
        Referral, referral_id, with_for_update=for_update, populate_existing=for_update
    )
    if referral is None:
        raise NotFound("No such referral.", code="referral_not_found")
    return referral


def view_referral(session: Session, *, referral_id: int, actor: User, clock: Clock) -> Referral:
    """Read a referral for a person: its history is part of the client's record, so every
    read leaves an audit row (ids only)."""
    referral = get_referral(session, referral_id)
    if referral.case_id is not None:
        access.require_case_read(session, user=actor, case_id=referral.case_id, now=clock.now())
    audit.record(
        session,
        audit.AuditTag.REFERRAL_VIEWED,
        actor=who(actor),
        at=clock.now(),
        category="case_record",
        case_id=referral.case_id,
        client_id=referral.client_id,
        details={"referral_id": referral.id},
    )
    return referral


def lock_referral(session: Session, referral_id: int) -> Referral:
    """The referral, locked for a status change. Lock order: its instance row first, then the
    referral, the order complete_task takes them in, so a message and a task on the same
    referral queue up instead of deadlocking on PostgreSQL."""
    referral = get_referral(session, referral_id)
    if referral.instance_id is not None:
        session.get(ProcessInstance, referral.instance_id, with_for_update=True)
    return get_referral(session, referral_id, for_update=True)


def referrals_for_case(session: Session, case_id: int) -> list[Referral]:
    return list(
        session.scalars(select(Referral).where(Referral.case_id == case_id).order_by(Referral.id))
    )


def referral_history(session: Session, referral_id: int) -> list[ReferralEvent]:
    return list(
        session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)
        )
    )


def audit_referral(
    session: Session,
    referral: Referral,
    *,
    actor: audit.Actor,
    at: datetime,
    details: dict[str, Any],
    tag: audit.AuditTag = audit.AuditTag.REFERRAL_UPDATED,
) -> None:
    """`case:referral:updated` (or `tag`): ids and statuses only, never the reason text."""
    audit.record(
        session,
        tag,
        actor=actor,
        at=at,
        category="referral",
        case_id=referral.case_id,
        client_id=referral.client_id,
        instance_id=referral.instance_id,
        details={"referral_id": referral.id, **details},
    )


def change_status(
    session: Session,
    referral: Referral,
    *,
    status: Any,
    source: str,
    reason: Any,
    reason_code: Any,
    actor: audit.Actor,
    now: datetime,
) -> ReferralEvent:
    """Apply one checked transition to the row, its history and the audit trail. The caller
    holds the referral's lock and decides what the process instance hears of it."""
    text, code = check_transition(
        referral.status, status, source=source, reason=reason, reason_code=reason_code
    )
    event = ReferralEvent(
        referral_id=referral.id,
        from_status=referral.status,
        to_status=status,
        reason=text,
        reason_code=code,
        source=source,
        actor_id=actor.id,
        actor=actor.name,
        at=now,
    )
    session.add(event)
    previous = referral.status
    referral.status = status
    referral.status_reason = text
    referral.reason_code = code or referral.reason_code
    referral.updated_at = now
    if status in TERMINAL:
        referral.closed_at = now
    audit_referral(session, referral, actor=actor, at=now, details={"from": previous, "to": status})
    return event


def client_language(session: Session, referral: Referral) -> dict[str, Any]:
    """The client's language and interpreter need (from intake), shown on the referral."""
    client = session.get(Client, referral.client_id)
    return {
        "preferred_language": client.preferred_language if client else None,
        "interpreter_needed": bool(client and client.interpreter_needed),
    }
