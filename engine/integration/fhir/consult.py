"""A social-work consult ordered in the hospital record: FHIR ServiceRequest in -> a case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.patient import Patient
from fhir.resources.servicerequest import ServiceRequest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site
from engine.cases import services as cases
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.errors import Invalid
from engine.integration.fhir import codes as c
from engine.integration.models import Consult

# A category coding that says "social work": SNOMED CT social service procedure, or the
# plain code/text a hospital's order catalogue tends to use.
_SOCIAL_WORK_CODES = {c.SOCIAL_WORK_SNOMED, "social-work", "social_work", "socialwork"}


@dataclass(frozen=True)
class ConsultReceived:
    consult: Consult
    case: Case
    opened_case: bool


def _invalid(message: str, *, field: str) -> Invalid:
    return Invalid(message, code="fhir_invalid", details=[{"field": field, "message": message}])


# R4 required bindings the models do not enforce (they type these as plain `code`).
_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
_INTENTS = {
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
}


def parse(resource: Any) -> ServiceRequest:
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "ServiceRequest":
        raise _invalid("The body must be a FHIR ServiceRequest.", field="resourceType")
    try:
        order = ServiceRequest.parse_obj(dict(resource))
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise Invalid(
            "The ServiceRequest is not valid FHIR R4.", code="fhir_invalid", details=details
        ) from None
    if order.status not in _STATUSES:
        raise _invalid("status is not a ServiceRequest status.", field="status")
    if order.intent not in _INTENTS:
        raise _invalid("intent is not a ServiceRequest intent.", field="intent")
    return order


def _is_social_work(order: ServiceRequest) -> bool:
    for concept in order.category or []:
        if concept.text and "social work" in concept.text.lower():
            return True
        if any(coding.code in _SOCIAL_WORK_CODES for coding in concept.coding or []):
            return True
    return False


def _mrn_of(identifiers: Any) -> str | None:
    ids = list(identifiers or [])
    for ident in ids:
        types = ident.type.coding if ident.type and ident.type.coding else []
        if any(t.code == "MR" for t in types) and ident.value:
            return str(ident.value)
    return str(ids[0].value) if ids and ids[0].value else None


def _contained_patient(order: ServiceRequest) -> Patient | None:
    ref = order.subject.reference if order.subject else None
    for item in order.contained or []:
        if item.resource_type == "Patient" and (ref is None or ref == f"#{item.id}"):
            return item
    return None


def _reason(order: ServiceRequest) -> str:
    parts = []
    for concept in order.reasonCode or []:
        text = concept.text or next((cd.display for cd in concept.coding or [] if cd.display), None)
        if text:
            parts.append(text)
    parts += [n.text for n in order.note or [] if n.text]
    return "; ".join(parts)


def _client_fields(patient: Patient, mrn: str) -> dict[str, Any]:
    name = (patient.name or [None])[0]
    return {
        "mrn": mrn,
        "family_name": (name.family if name else None) or "",
        "given_name": " ".join(name.given or []) if name else "",
        "birth_date": patient.birthDate.isoformat() if patient.birthDate else None,
        "phone": next((t.value for t in patient.telecom or [] if t.system == "phone"), None),
        "postal_code": next((a.postalCode for a in patient.address or [] if a.postalCode), None),
    }


def receive_consult(
    session: Session,
    *,
    resource: Any,
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> ConsultReceived:
    """Open a case for the consult, or add it to the client's open case (Invalid -> 400)."""
    order = parse(resource)
    if not _is_social_work(order):
        raise _invalid("The category must be social work.", field="category")
    if order.intent not in ("order", "original-order", "plan", "proposal"):
        raise _invalid("The intent must be order.", field="intent")
    patient = _contained_patient(order)
    mrn = _mrn_of(order.subject.identifier and [order.subject.identifier]) or (
        _mrn_of(patient.identifier) if patient else None
    )
    if not mrn:
        raise _invalid("The subject must carry the patient's MRN.", field="subject.identifier")
    reason = _reason(order)
    if not reason:
        raise _invalid("A reasonCode or note is required.", field="reasonCode")
    now = clock.now()
    requester = order.requester.display if order.requester else None
    client = session.scalar(select(Client).where(Client.mrn == mrn))
    case = None
    if client is not None:
        case = session.scalar(
            select(Case)
            .where(Case.client_id == client.id, Case.status == "open")
            .order_by(Case.opened_at.desc(), Case.id.desc())
            .limit(1)
        )
    opened = case is None
    if case is None:
        if client is None and patient is None:
            raise _invalid(
                "Unknown MRN: include the Patient (contained, with name and birthDate).",
                field="subject",
            )
        fields = (
            _client_fields(patient, mrn)
            if client is None and patient is not None
            else {
                "mrn": mrn,
                "given_name": client.given_name,  # type: ignore[union-attr]
                "family_name": client.family_name,  # type: ignore[union-attr]
                "birth_date": client.birth_date.isoformat(),  # type: ignore[union-attr]
            }
        )
        case, _ = cases.open_case(
            session,
            client={k: v for k, v in fields.items() if v is not None},
            reason=f"Consult: {reason}",
            actor=actor,
            clock=clock,
            site=site,
        )
    consult = Consult(
        case_id=case.id,
        client_id=case.client_id,
        reason=reason[:4000],
        requester=(requester or None) and requester[:200],
        opened_case=opened,
        received_by_id=actor.id,
        received_at=now,
    )
    session.add(consult)
    session.flush()
    audit.record(
        session,
        "integration:consult:received",
        actor=audit.actor_of(actor),
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details={"consult_id": consult.id, "opened_case": opened},
    )
    return ConsultReceived(consult, case, opened)


def consult_resource(row: Consult) -> ServiceRequest:
    return ServiceRequest.parse_obj(
        {
            "resourceType": "ServiceRequest",
            "id": f"consult-{row.id}",
            "meta": {"lastUpdated": row.received_at.isoformat()},
            "identifier": [{"system": f"{c.CAREBRIDGE}:case", "value": str(row.case_id)}],
            "status": "active",
            "intent": "order",
            "category": [
                {
                    "coding": [{"system": c.SNOMED, "code": c.SOCIAL_WORK_SNOMED}],
                    "text": "Social work",
                }
            ],
            "subject": {"reference": f"Patient/{row.client_id}"},
            "authoredOn": row.received_at.isoformat(),
            "reasonCode": [{"text": row.reason}],
        }
    )
