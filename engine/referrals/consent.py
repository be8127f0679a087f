"""The client's consent to share with a receiving organisation: record, revoke, look up, and
the rule a referral is sent under (a current consent, never past a revocation).

Recipients match case- and space-insensitively (`recipient_key`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.accounts.models import User
from engine.cases.models import Client
from engine.clock import Clock
from engine.errors import Conflict, Invalid, NotFound
from engine.referrals.models import Consent
from engine.referrals.records import who

CONSENT_SCOPES = ("referral", "referral_and_updates")
DEFAULT_CONSENT_SCOPE = "referral_and_updates"
DEFAULT_CONSENT_DAYS = 365


def recipient_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def record_consent(
    session: Session,
    *,
    client_id: int,
    recipient: str | None,
    actor: User | None,
    clock: Clock,
    scope: str = DEFAULT_CONSENT_SCOPE,
    expires_at: datetime | None = None,
) -> Consent:
    """Record the client's consent to share with `recipient` (default expiry: one year)."""
    now = clock.now()
    errors = []
    name = recipient.strip() if isinstance(recipient, str) else ""
    if not name or len(name) > 200:
        errors.append(
            {"field": "recipient", "message": "Name the organisation (1–200 characters)."}
        )
    if scope not in CONSENT_SCOPES:
        errors.append({"field": "scope", "message": f"Choose one of: {', '.join(CONSENT_SCOPES)}."})
    if expires_at is not None and expires_at <= now:
        errors.append({"field": "expires_at", "message": "Must be in the future."})
    if errors:
        raise Invalid("The consent needs attention.", code="invalid_consent", details=errors)
    if session.get(Client, client_id) is None:
        raise NotFound("No such client.", code="client_not_found")
    if actor is not None:  # a person writes only to a record they may read
        access.require_client_read(session, user=actor, client_id=client_id, now=now)
    consent = Consent(
        client_id=client_id,
        recipient=name,
        recipient_key=recipient_key(name),
        scope=scope,
        given_at=now,
        expires_at=expires_at or now + timedelta(days=DEFAULT_CONSENT_DAYS),
        recorded_by_id=actor.id if actor else None,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        audit.AuditTag.CONSENT_RECORDED,
        actor=who(actor),
        at=now,
        category="consent",
        client_id=client_id,
        details={"consent_id": consent.id, "scope": scope},
    )
    return consent


def revoke_consent(
    session: Session, *, consent_id: int, actor: User | None, clock: Clock
) -> Consent:
    consent = session.get(Consent, consent_id, with_for_update=True)
    if consent is None:
        raise NotFound("No such consent.", code="consent_not_found")
    if actor is not None:
        access.require_client_read(
            session, user=actor, client_id=consent.client_id, now=clock.now()
        )
    if consent.revoked_at is not None:
        raise Conflict("This consent was already revoked.", code="consent_revoked")
    now = clock.now()
    consent.revoked_at = now
    consent.revoked_by_id = actor.id if actor else None
    audit.record(
        session,
        audit.AuditTag.CONSENT_REVOKED,
        actor=who(actor),
        at=now,
        category="consent",
        client_id=consent.client_id,
        details={"consent_id": consent.id},
    )
    return consent


def consents_for_client(session: Session, client_id: int) -> list[Consent]:
    return list(
        session.scalars(select(Consent).where(Consent.client_id == client_id).order_by(Consent.id))
    )


def view_consents(session: Session, *, client_id: int, actor: User, clock: Clock) -> list[Consent]:
    """A client's consents read by a person: part of the client's record, so audited."""
    if session.get(Client, client_id) is None:
        raise NotFound("No such client.", code="client_not_found")
    access.require_client_read(session, user=actor, client_id=client_id, now=clock.now())
    consents = consents_for_client(session, client_id)
    audit.record(
        session,
        audit.AuditTag.CONSENTS_VIEWED,
        actor=who(actor),
        at=clock.now(),
        category="consent",
        client_id=client_id,
        details={"consents": len(consents)},
    )
    return consents


def _consents_for(session: Session, client_id: int, recipient: str) -> list[Consent]:
    """The client's consents for one recipient, newest first."""
    return list(
        session.scalars(
            select(Consent)
            .where(
                Consent.client_id == client_id, Consent.recipient_key == recipient_key(recipient)
            )
            .order_by(Consent.id.desc())
        )
    )


def current_consent(
    session: Session, *, client_id: int, recipient: str, now: datetime
) -> Consent | None:
    """The newest consent to share with `recipient` that is in force at `now`, if any."""
    return next(
        (c for c in _consents_for(session, client_id, recipient) if c.is_current(now)), None
    )


@dataclass(frozen=True)
class ConsentGiven:
    """The client's consent as confirmed on the send form, recorded if none is on file."""

    scope: str = DEFAULT_CONSENT_SCOPE
    expires_at: datetime | None = None


def consent_for_sending(
    session: Session,
    *,
    client_id: int,
    recipient: str,
    given: ConsentGiven | None,
    actor: User | None,
    clock: Clock,
) -> Consent:
    """The consent a referral to `recipient` leaves under: the current one on file, else the
    one confirmed on the send form (recorded now). Raises Invalid `consent_revoked` when the
    client's last word to this organisation was a revocation, `consent_required` when there
    is nothing to go on."""
    now = clock.now()
    on_file = _consents_for(session, client_id, recipient)
    current = next((c for c in on_file if c.is_current(now)), None)
    if current is not None:
        return current
    field_error = {"field": "consent_to_share_recorded"}
    if on_file and on_file[0].revoked_at is not None:
        # The client's last word to this organisation was no: a ticked box does not undo it.
        raise Invalid(
            "The client revoked consent to share with this organisation. Record a new consent "
            "on the client's consent record before sending.",
            code="consent_revoked",
            details=[{**field_error, "message": "Consent was revoked."}],
        )
    if given is None:
        raise Invalid(
            "No current consent to share with this organisation is on record.",
            code="consent_required",
            details=[{**field_error, "message": "The client's consent is required."}],
        )
    return record_consent(
        session,
        client_id=client_id,
        recipient=recipient,
        actor=actor,
        clock=clock,
        scope=given.scope,
        expires_at=given.expires_at,
    )
