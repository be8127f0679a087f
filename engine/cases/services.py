"""Opening and reading cases. Every read of a client's record is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, definitions
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site
from engine.cases import team
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


def _clean_client(raw: Mapping[str, Any] | None, today: date) -> dict[str, Any]:
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
    interpreter = raw.get("interpreter_needed")
    if interpreter is not None:
        if isinstance(interpreter, bool):
            out["interpreter_needed"] = interpreter
        else:
            errors.append(
                {"field": "client.interpreter_needed", "message": "Must be true or false."}
            )
    birth = raw.get("birth_date")
    # Missing or blank is named as required above; anything else must be a date.
    if not (birth is None or (isinstance(birth, str) and not birth.strip())):
        try:
            out["birth_date"] = date.fromisoformat(str(birth))
            if out["birth_date"] > today:
                errors.append({"field": "client.birth_date", "message": "Cannot be in the future."})
        except ValueError:
            errors.append({"field": "client.birth_date", "message": "Use the form YYYY-MM-DD."})
    if errors:
        raise Invalid("Some client details need attention.", code="invalid_client", details=errors)
    return out


# The API document's limit (web/api/openapi.py): a referral reason, not a case note.
REASON_MAX_LENGTH = 4000


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
    client: Mapping[str, Any] | None,
    reason: str | None,
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
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(
            "The reason for referral is too long.",
            code="invalid_case",
            details=[{"field": "reason", "message": f"At most {REASON_MAX_LENGTH} characters."}],
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
    _opener_joins_team(session, case, actor, now)
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


# The account role of whoever opens a case -> their role on its care team.
_OPENER_CASE_ROLE = {
    "nurse": "nurse",
    "physician": "attending_physician",
    "case_manager": "case_manager",
}


def _opener_joins_team(session: Session, case: Case, actor: User, now: datetime) -> None:
    """Whoever opens a case (other than its primary social worker, and supervisors and
    admins, who read every case) joins its care team: they referred the client and must be
    able to follow up on their own referral."""
    if case.primary_social_worker_id == actor.id or actor.has_role(*access.MANAGERS):
        return
    role = next((r for k, r in _OPENER_CASE_ROLE.items() if actor.has_role(k)), "other")
    member = team.add_member(
        session, case_id=case.id, case_role=role, at=now, added_by_id=actor.id, user_id=actor.id
    )
    audit.record(
        session,
        audit.AuditTag.TEAM_MEMBER_ADDED,
        actor=instances.actor_of(actor),
        at=now,
        category="care_team",
        case_id=case.id,
        client_id=case.client_id,
        details={"member_id": member.id, "case_role": role, "user_id": actor.id},
    )


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    return case


@dataclass(frozen=True)
class CaseRead:
    """A case as one person may read it: why they may, and whether they see its sensitive
    sections (engine.access)."""

    case: Case
    access: access.CaseAccess


def read_case(
    session: Session, *, case_id: int, actor: User, clock: Clock, section: str = "case"
) -> CaseRead:
    """Read a case for a person under the record-level rule (NotFound, RecordAccessDenied).
    Always leaves an audit row (who viewed this client, which part, on what basis)."""
    case, granted = access.require_case_read(session, user=actor, case_id=case_id, now=clock.now())
    details: dict[str, Any] = {"access": str(granted.basis)}
    if section != "case":
        details["section"] = section
    if granted.basis is access.Basis.BREAK_GLASS:
        details["break_glass"] = True
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
    return CaseRead(case, granted)


def view_case(
    session: Session, *, case_id: int, actor: User, clock: Clock, section: str = "case"
) -> Case:
    """read_case, when only the case is needed."""
    return read_case(session, case_id=case_id, actor=actor, clock=clock, section=section).case


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


def timeline(session: Session, case_id: int, *, sensitive: bool = False) -> list[TimelineEntry]:
    """The case's events and each alert's delivery state (notification:*), oldest first;
    details masked unless the reader sees sensitive sections. The caller has checked that the
    reader may read the case (read_case)."""
    from engine import notifications

    get_case(session, case_id)
    events = audit.events_for_case(session, case_id, limit=1000)
    entries = [
        TimelineEntry(
            e.at, e.actor, e.action, access.mask_details(e.details or {}, sensitive=sensitive)
        )
        for e in reversed(events)
    ]
    entries += [
        TimelineEntry(at, "system", action, details)
        for at, action, details in notifications.timeline(session, case_id=case_id)
    ]
    return sorted(entries, key=lambda e: e.at)


def list_cases(session: Session, *, actor: User, clock: Clock, limit: int = 100) -> list[Case]:
    """The newest cases this person may read; the list read is audited (ids shown)."""
    rows = list(
        session.scalars(
            select(Case)
            .where(access.readable_cases(actor, now=clock.now()))
            .order_by(Case.id.desc())
            .limit(limit)
        )
    )
    access.record_list_read(
        session, actor=actor, at=clock.now(), case_ids=[c.id for c in rows], search=False
    )
    return rows


def view_instance(
    session: Session, *, instance_id: int, actor: User, clock: Clock
) -> instances.InstanceView:
    """A process instance's progress read by a person: a read of its case's record when it
    has one (rule and audit as read_case); an instance without a case is not a client's
    record and is left to the caller's role check."""
    instance = instances.get_instance(session, instance_id)
    if instance.case_id is not None:
        case, granted = access.require_case_read(
            session, user=actor, case_id=instance.case_id, now=clock.now()
        )
        audit.record(
            session,
            audit.AuditTag.INSTANCE_VIEWED,
            actor=instances.actor_of(actor),
            at=clock.now(),
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            instance_id=instance.id,
            details={"access": str(granted.basis)},
        )
    return instances.describe_instance(session, instance_id)
