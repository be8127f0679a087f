"""FHIR R4 reads and searches under the record-level rule, audited like page views, and
the social-work consult order in (ServiceRequest -> a case)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.accounts.models import User
from engine.assessments.models import Assessment
from engine.cases.models import Client
from engine.clock import Clock
from engine.errors import Forbidden, NotFound
from engine.integration.fhir import resources as fr
from engine.integration.models import Admission
from engine.referrals.models import Consent, Referral

FHIR_READ = "integration:fhir:read"

# resource type -> (row model, row -> resources)
_BUILDERS: dict[str, tuple[Any, Callable[[Any], Sequence[Any]]]] = {
    "Patient": (Client, lambda r: [fr.patient(r)]),
    "Encounter": (Admission, lambda r: [fr.encounter(r)]),
    "QuestionnaireResponse": (Assessment, lambda r: [fr.questionnaire_response(r)]),
    "Observation": (Assessment, fr.observations),
    "Condition": (Assessment, fr.conditions),
    "ServiceRequest": (Referral, lambda r: [fr.service_request(r)]),
    "Task": (Referral, lambda r: [fr.task(r)]),
    "Consent": (Consent, lambda r: [fr.consent(r)]),
}
SEARCHABLE = tuple(_BUILDERS)


@dataclass(frozen=True)
class LastUpdated:
    """One `_lastUpdated` condition: prefix ge|gt|le|lt|eq and an aware instant."""

    prefix: str
    at: datetime

    def admits(self, value: datetime | None) -> bool:
        if value is None:
            return False
        return {
            "ge": value >= self.at,
            "gt": value > self.at,
            "le": value <= self.at,
            "lt": value < self.at,
            "eq": value == self.at,
        }[self.prefix]


@dataclass(frozen=True)
class Page:
    total: int
    resources: list[dict[str, Any]]


def _client_id(row: Any) -> int:
    return int(row.id if isinstance(row, Client) else row.client_id)


def _client_column(model: Any) -> Any:
    return model.id if model is Client else model.client_id


def _audit_reads(
    session: Session, *, actor: User, clock: Clock, resource_type: str, client_ids: Iterable[int]
) -> None:
    for client_id in sorted(set(client_ids)):
        audit.record(
            session,
            FHIR_READ,
            actor=audit.actor_of(actor),
            at=clock.now(),
            category="case_record",
            client_id=client_id,
            details={"resource": resource_type, "via": "fhir"},
        )


def read(
    session: Session, *, resource_type: str, resource_id: str, actor: User, clock: Clock
) -> dict[str, Any]:
    """One resource by id (NotFound for an unknown type or id, RecordAccessDenied)."""
    if resource_type not in _BUILDERS:
        raise NotFound("No such resource type.", code="fhir_unknown_type")
    model, build = _BUILDERS[resource_type]
    row_id = resource_id.split("-", 1)[0]
    row = session.get(model, int(row_id)) if row_id.isdigit() else None
    if row is None:
        raise NotFound("No such resource.", code="fhir_not_found")
    access.require_client_read(session, user=actor, client_id=_client_id(row), now=clock.now())
    found = [r for r in build(row) if r.id == resource_id]
    if not found:
        raise NotFound("No such resource.", code="fhir_not_found")
    _audit_reads(
        session, actor=actor, clock=clock, resource_type=resource_type, client_ids=[_client_id(row)]
    )
    return fr.as_json(found[0])


def search(
    session: Session,
    *,
    resource_type: str,
    actor: User,
    clock: Clock,
    patient: int | None = None,
    last_updated: Sequence[LastUpdated] = (),
    count: int = 50,
    offset: int = 0,
) -> Page:
    """Resources of one type, oldest row first. Without `patient` only supervisors and
    administrators (an interface account) may search across clients."""
    if resource_type not in _BUILDERS:
        raise NotFound("No such resource type.", code="fhir_unknown_type")
    model, build = _BUILDERS[resource_type]
    stmt = select(model).order_by(model.id)
    if patient is not None:
        access.require_client_read(session, user=actor, client_id=patient, now=clock.now())
        stmt = stmt.where(_client_column(model) == patient)
    elif not actor.has_role(*access.MANAGERS):
        raise Forbidden("Search by patient.", code="fhir_patient_required")
    matched: list[tuple[int, Any]] = []
    for row in session.scalars(stmt):
        for resource in build(row):
            updated = resource.meta.lastUpdated if resource.meta else None
            if all(cond.admits(updated) for cond in last_updated):
                matched.append((_client_id(row), resource))
    window = matched[offset : offset + count]
    _audit_reads(
        session,
        actor=actor,
        clock=clock,
        resource_type=resource_type,
        client_ids=[cid for cid, _ in window],
    )
    return Page(total=len(matched), resources=[fr.as_json(r) for _, r in window])


def read_consult(
    session: Session, *, resource_id: str, actor: User, clock: Clock
) -> dict[str, Any]:
    """A consult received as a ServiceRequest ("consult-<id>"), read back."""
    from engine.integration.fhir.consult import consult_resource
    from engine.integration.models import Consult

    raw = resource_id.removeprefix("consult-")
    row = session.get(Consult, int(raw)) if raw.isdigit() else None
    if row is None:
        raise NotFound("No such resource.", code="fhir_not_found")
    access.require_client_read(session, user=actor, client_id=row.client_id, now=clock.now())
    _audit_reads(
        session,
        actor=actor,
        clock=clock,
        resource_type="ServiceRequest",
        client_ids=[row.client_id],
    )
    return fr.as_json(consult_resource(row))
