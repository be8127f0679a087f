"""Collaterals of a case: family, caregivers, guardians, agencies. Consent to share (scope
and expiry) decides whether outreach may suggest them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, outreach
from engine.accounts.models import User
from engine.cases.models import Case, CaseContact
from engine.clock import Clock
from engine.errors import Forbidden, Invalid

CONTACT_ADDED = "case:contact:added"
CONTACTS_VIEWED = "case:contact:viewed"
RELATIONSHIPS = (
    "spouse",
    "partner",
    "parent",
    "child",
    "sibling",
    "relative",
    "friend",
    "caregiver",
    "guardian",
    "agency",
    "other",
)
WRITERS = ("social_worker", "nurse", "physician", "case_manager", "supervisor")


def _text(raw: Mapping[str, Any], key: str, limit: int, errors: list[dict[str, str]]) -> Any:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > limit:
        errors.append({"field": key, "message": f"Text of at most {limit} characters."})
        return None
    return value.strip() or None


def _flag(raw: Mapping[str, Any], key: str, errors: list[dict[str, str]]) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        errors.append({"field": key, "message": "Must be true or false."})
        return False
    return value


def _consent(raw: object, errors: list[dict[str, str]]) -> tuple[str | None, date | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        errors.append({"field": "consent_to_share", "message": "An object or null."})
        return None, None
    scope = raw.get("scope")
    if not isinstance(scope, str) or not scope.strip() or len(scope) > 200:
        errors.append({"field": "consent_to_share.scope", "message": "This field is required."})
        scope = None
    expires = raw.get("expires_on")
    expires_on = None
    if expires is not None:
        try:
            expires_on = date.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            expires_on = None
        if expires_on is None:
            errors.append(
                {"field": "consent_to_share.expires_on", "message": "A date (YYYY-MM-DD)."}
            )
    return (scope.strip() if scope else None), expires_on


def add_contact(
    session: Session, *, case_id: int, payload: Mapping[str, Any], actor: User, clock: Clock
) -> CaseContact:
    """Record a collateral on a case. Invalid names the field; audited (ids only)."""
    if not actor.has_role(*WRITERS):
        raise Forbidden("Your role does not record contacts.", code="role_required")
    now = clock.now()
    case, _ = access.require_case_read(session, user=actor, case_id=case_id, now=now)
    errors: list[dict[str, str]] = []
    name = _text(payload, "name", 200, errors)
    if name is None and not any(e["field"] == "name" for e in errors):
        errors.append({"field": "name", "message": "This field is required."})
    relationship = payload.get("relationship")
    if relationship not in RELATIONSHIPS:
        errors.append({"field": "relationship", "message": f"One of {', '.join(RELATIONSHIPS)}."})
    scope, expires_on = _consent(payload.get("consent_to_share"), errors)
    contact = CaseContact(
        case_id=case.id,
        name=name or "",
        relationship_=relationship if isinstance(relationship, str) else "",
        phone=_text(payload, "phone", 40, errors),
        preferred_language=_text(payload, "preferred_language", 40, errors),
        interpreter_needed=_flag(payload, "interpreter_needed", errors),
        consent_scope=scope,
        consent_expires_on=expires_on,
        is_legal_decision_maker=_flag(payload, "is_legal_decision_maker", errors),
        added_by_id=actor.id,
        added_at=now,
    )
    if errors:
        raise Invalid("The contact is not valid.", code="form_invalid", details=errors)
    session.add(contact)
    session.flush()
    audit.record(
        session,
        CONTACT_ADDED,
        actor=audit.actor_of(actor),
        at=now,
        category="collateral",
        case_id=case.id,
        client_id=case.client_id,
        details={"contact_id": contact.id, "relationship": contact.relationship_},
    )
    return contact


def case_contacts(session: Session, case_id: int) -> list[CaseContact]:
    return list(
        session.scalars(
            select(CaseContact).where(CaseContact.case_id == case_id).order_by(CaseContact.id)
        )
    )


def list_contacts(
    session: Session, *, case_id: int, actor: User, clock: Clock
) -> list[CaseContact]:
    now = clock.now()
    case, granted = access.require_case_read(session, user=actor, case_id=case_id, now=now)
    rows = case_contacts(session, case.id)
    audit.record(
        session,
        CONTACTS_VIEWED,
        actor=audit.actor_of(actor),
        at=now,
        category="collateral",
        case_id=case.id,
        client_id=case.client_id,
        details={"contact_ids": [c.id for c in rows], "access": str(granted.basis)},
    )
    return rows


def shareable_contacts(session: Session, *, case_id: int, today: date) -> list[CaseContact]:
    """The contacts outreach may suggest: the client's consent to share is recorded and not
    expired. Everyone else stays off instructions and forms; and nobody at all while the
    client is flagged do-not-contact (calls to family may reach the person endangering them)."""
    case = session.get(Case, case_id)
    if case is None or outreach.case_is_dnc(case):
        return []
    return [c for c in case_contacts(session, case_id) if c.consent_valid(today)]


def outreach_json(contact: CaseContact) -> dict[str, Any]:
    """What a task's instructions and form show of a contact outreach may use."""
    return {
        "id": contact.id,
        "name": contact.name,
        "relationship": contact.relationship_,
        "phone": contact.phone,
        "preferred_language": contact.preferred_language,
        "interpreter_needed": contact.interpreter_needed,
        "is_legal_decision_maker": contact.is_legal_decision_maker,
        "consent_scope": contact.consent_scope,
    }
