"""Opening and reading cases. Every read of a client's record is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, definitions
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.errors import Conflict, Invalid, NotFound
from engine.instances import services as instances
from engine.instances.models import ProcessInstance

_CLIENT_FIELDS = {
    "given_name": 120,
    "family_name": 120,
    "mrn": 40,
    "phone": 40,
    "preferred_language": 40,
    "postal_code": 20,
}
_REQUIRED = ("given_name", "family_name", "birth_date")


def _clean_client(raw: Mapping[str, Any], today: date) -> dict[str, Any]:
    errors = []
    out: dict[str, Any] = {}
    if not isinstance(raw, Mapping):
        raise Invalid(
            "client must be an object.",
            code="invalid_client",
            details=[{"field": "client", "message": "Must be an object."}],
        )
    for name in _REQUIRED:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append({"field": f"client.{name}", "message": "This field is required."})
    for name, max_len in _CLIENT_FIELDS.items():
        value = raw.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors.append({"field": f"client.{name}", "message": "Must be text."})
        elif len(value.strip()) > max_len:
            errors.append({"field": f"client.{name}", "message": f"At most {max_len} characters."})
        else:
            out[name] = value.strip()
    birth = raw.get("birth_date")
    if birth:
        try:
            out["birth_date"] = date.fromisoformat(str(birth))
            if out["birth_date"] > today:
                errors.append({"field": "client.birth_date", "message": "Cannot be in the future."})
        except ValueError:
            errors.append({"field": "client.birth_date", "message": "Use the form YYYY-MM-DD."})
    if errors:
        raise Invalid("Some client details need attention.", code="invalid_client", details=errors)
    return out


def _require_case_pathway(session: Session, pathway: object) -> None:
    definition = (
        definitions.latest_definition(session, pathway, missing_ok=True)
        if isinstance(pathway, str)
        else None
    )
    if definition is None or not definitions.is_case_pathway(definition):
        raise Invalid(
            "Only a deployed case pathway can open a case.",
            code="invalid_case",
            details=[
                {
                    "field": "pathway",
                    "message": "Name a process marked as a case pathway, e.g. care_pathway.",
                }
            ],
        )


def open_case(
    session: Session,
    *,
    client: Mapping[str, Any],
    reason: str,
    actor: User,
    clock: Clock,
    pathway: str = "care_pathway",
    primary_social_worker: User | None = None,
    site: Site = DEFAULT_SITE,
) -> tuple[Case, instances.CommandResult]:
    """Register (or find by MRN) the client, open a case, start its pathway (a process marked
    as a case pathway, see engine/definitions/pathways.py)."""
    _require_case_pathway(session, pathway)
    now = clock.now()
    fields = _clean_client(client, now.date())
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(
            "A reason for referral is required.",
            code="invalid_case",
            details=[{"field": "reason", "message": "This field is required."}],
        )
    existing = (
        session.scalar(select(Client).where(Client.mrn == fields["mrn"]))
        if fields.get("mrn")
        else None
    )
    if existing is not None:
        if (existing.family_name.lower(), existing.birth_date) != (
            fields["family_name"].lower(),
            fields["birth_date"],
        ):
            raise Conflict("That MRN belongs to a different client.", code="mrn_mismatch")
        row = existing
    else:
        row = Client(**fields, created_at=now)
        session.add(row)
        session.flush()
    if primary_social_worker is None and actor.has_role("social_worker"):
        primary_social_worker = actor
    case = Case(
        client=row,
        client_id=row.id,
        reason=reason.strip()[:4000],
        opened_by_id=actor.id,
        opened_at=now,
        primary_social_worker_id=primary_social_worker.id if primary_social_worker else None,
        flags={},
    )
    session.add(case)
    session.flush()
    audit.record(
        session,
        audit.AuditTag.CASE_OPENED,
        actor=instances.actor_of(actor),
        at=now,
        category="demographics",
        case_id=case.id,
        client_id=row.id,
        details={"pathway": pathway},
    )
    started = instances.start_process(
        session, process_key=pathway, case=case, actor=actor, clock=clock, site=site
    )
    return case, started


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    return case


def view_case(
    session: Session, *, case_id: int, actor: User, clock: Clock, reason: str | None = None
) -> Case:
    """Read a case for a person: always leaves an audit row (who viewed this client)."""
    case = get_case(session, case_id)
    details: dict[str, Any] = {}
    if reason:
        details["break_glass"] = True  # the reason text itself stays out of the audit details
    audit.record(
        session,
        audit.AuditTag.CASE_VIEWED,
        actor=instances.actor_of(actor),
        at=clock.now(),
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details=details,
    )
    return case


def instances_for_case(session: Session, case_id: int) -> list[ProcessInstance]:
    return list(
        session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.case_id == case_id)
            .order_by(ProcessInstance.id)
        )
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: Any
    actor: str
    action: str
    details: dict[str, Any]


def timeline(session: Session, case_id: int) -> list[TimelineEntry]:
    get_case(session, case_id)
    events = audit.events_for_case(session, case_id, limit=1000)
    return [TimelineEntry(e.at, e.actor, e.action, e.details) for e in reversed(events)]


def list_cases(session: Session, *, limit: int = 100) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id.desc()).limit(limit)))
