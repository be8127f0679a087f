"""A case's collaterals: family, caregivers, guardians, agencies."""

from __future__ import annotations

from typing import Any

from engine.cases import contacts
from engine.cases.models import CaseContact
from web import deps
from web.api import bp
from web.api.common import iso, json_body, transaction, user


def contact_json(c: CaseContact, *, today: Any) -> dict[str, Any]:
    consent = (
        {"scope": c.consent_scope, "expires_on": iso(c.consent_expires_on)}
        if c.consent_scope is not None
        else None
    )
    return {
        "id": c.id,
        "case_id": c.case_id,
        "name": c.name,
        "relationship": c.relationship_,
        "phone": c.phone,
        "preferred_language": c.preferred_language,
        "interpreter_needed": c.interpreter_needed,
        "consent_to_share": consent,
        "consent_valid": c.consent_valid(today),
        "is_legal_decision_maker": c.is_legal_decision_maker,
        "added_at": iso(c.added_at),
    }


@bp.get("/cases/<int:case_id>/contacts")
def list_contacts(case_id: int) -> Any:
    clock = deps.clock()
    with transaction() as session:
        rows = contacts.list_contacts(session, case_id=case_id, actor=user(), clock=clock)
        today = clock.now().date()
        return {"contacts": [contact_json(c, today=today) for c in rows]}


@bp.post("/cases/<int:case_id>/contacts")
def add_contact(case_id: int) -> Any:
    payload = json_body()
    clock = deps.clock()
    with transaction() as session:
        row = contacts.add_contact(
            session, case_id=case_id, payload=payload, actor=user(), clock=clock
        )
        return {"contact": contact_json(row, today=clock.now().date())}, 201
