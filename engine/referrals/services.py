"""Closed-loop community referrals: the Gravity/FHIR Task state machine, consent to share, the
resource directory, and the glue between Referral rows and `referral` process instances.

One Referral row per need of a care plan, created (status `draft`) together with its own
`referral` process instance. Sending it (`draft → requested`) needs a current consent to share
with the receiving organisation. Every later status change is validated here, written to the
row, its history and the audit trail, and then delivered as the message `referral_status` to
that referral's instance only (correlation by referral id → instance id), which moves the
instance on: acceptance starts the 7-day contact and 30-day outcome checks, a decline starts a
new referral for the same need, a cancellation ends the instance.

Everything runs in the caller's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site, add_business_days
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.referrals.models import CommunityResource, Consent, Referral, ReferralEvent
from engine.workflow import runtime

if TYPE_CHECKING:
    from engine.instances.services import CommandResult

PROCESS_KEY = "referral"
STATUS_MESSAGE = "referral_status"

# ---------------------------------------------------------------- state machine ----
DRAFT = "draft"
REQUESTED = "requested"
ACCEPTED = "accepted"
REJECTED = "rejected"
IN_PROGRESS = "in-progress"
ON_HOLD = "on-hold"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
ENTERED_IN_ERROR = "entered-in-error"

STATUSES = (
    DRAFT,
    REQUESTED,
    ACCEPTED,
    REJECTED,
    IN_PROGRESS,
    ON_HOLD,
    COMPLETED,
    FAILED,
    CANCELLED,
    ENTERED_IN_ERROR,
)
# CARE.md, "Closed-loop referral state machine", plus `draft`: the referral exists (its need
# is in the care plan) but nothing has left the hospital yet. FHIR Task has the same status;
# the organisation never sees it. Any status may further become entered-in-error.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    DRAFT: frozenset({REQUESTED, CANCELLED}),
    REQUESTED: frozenset({ACCEPTED, REJECTED, CANCELLED}),
    ACCEPTED: frozenset({IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, CANCELLED}),
    IN_PROGRESS: frozenset({ON_HOLD, COMPLETED, FAILED, CANCELLED}),
    ON_HOLD: frozenset({IN_PROGRESS, COMPLETED, FAILED, CANCELLED}),
    REJECTED: frozenset(),
    COMPLETED: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
    ENTERED_IN_ERROR: frozenset(),
}
TERMINAL = frozenset({REJECTED, COMPLETED, FAILED, CANCELLED, ENTERED_IN_ERROR})
OPEN = frozenset(STATUSES) - TERMINAL
REASON_REQUIRED = frozenset({REJECTED, CANCELLED, ON_HOLD, FAILED})
REASON_CODES = ("couldnt_contact", "not_eligible", "no_capacity", "declined", "got_help")
# Who may set what: the requester (our staff) sends, cancels; the receiving organisation sets
# the rest. Our staff may record an organisation's answer on its behalf (staff_recorded).
REQUESTER = "requester"
ORGANISATION = "organisation"
STAFF_RECORDED = "staff_recorded"
SYSTEM = "system"
ALLOWED_BY_SOURCE: Mapping[str, frozenset[str]] = {
    REQUESTER: frozenset({REQUESTED, CANCELLED, ENTERED_IN_ERROR}),
    ORGANISATION: frozenset(
        {ACCEPTED, REJECTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, ENTERED_IN_ERROR}
    ),
    STAFF_RECORDED: frozenset(
        {ACCEPTED, REJECTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, ENTERED_IN_ERROR}
    ),
}
# Statuses a staff member may set from the referral's status form (referral_status.schema).
STAFF_FORM_STATUSES = (
    ACCEPTED,
    REJECTED,
    IN_PROGRESS,
    ON_HOLD,
    COMPLETED,
    FAILED,
    CANCELLED,
    ENTERED_IN_ERROR,
)
CONTACTING_SUBJECT_PROHIBITED = "contacting-subject-prohibited"
ANSWER_DEADLINE_BUSINESS_DAYS = 2
MAX_REASON = 1000

CONSENT_SCOPES = ("referral", "referral_and_updates")
DEFAULT_CONSENT_SCOPE = "referral_and_updates"
DEFAULT_CONSENT_DAYS = 365

# Audit actions of this module (the tag enum has REFERRAL_UPDATED; consent and the directory
# have no tag of their own yet).
CONSENT_RECORDED = "client:consent:recorded"
CONSENT_REVOKED = "client:consent:revoked"
RESOURCE_SAVED = "directory:resource:saved"


def legal_next(status: str) -> frozenset[str]:
    """The statuses a referral in `status` may move to."""
    allowed = TRANSITIONS.get(status, frozenset())
    return allowed if status == ENTERED_IN_ERROR else allowed | {ENTERED_IN_ERROR}


def _clean_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise Invalid(
            "The reason must be text.",
            code="invalid_reason",
            details=[{"field": "reason", "message": "Must be text."}],
        )
    return reason.strip() or None


def check_transition(
    current: str,
    new: Any,
    *,
    source: str,
    reason: Any = None,
    reason_code: Any = None,
) -> tuple[str | None, str | None]:
    """Refuse what the state machine does not allow; return the cleaned (reason, reason_code).

    Raises Invalid (unknown status or coded reason, missing reason), Forbidden (a status this
    party may not set) or Conflict `illegal_transition`."""
    if not isinstance(new, str) or new not in STATUSES:
        raise Invalid(
            "Unknown referral status.",
            code="invalid_status",
            details=[{"field": "status", "message": f"Choose one of: {', '.join(STATUSES)}."}],
        )
    if new not in ALLOWED_BY_SOURCE.get(source, frozenset()):
        who = "the referring team" if new in ALLOWED_BY_SOURCE[REQUESTER] else "the organisation"
        raise Forbidden(f"Only {who} can set a referral to {new}.", code="status_not_allowed")
    if new not in legal_next(current):
        raise Conflict(
            f"A referral that is {current} cannot become {new}.", code="illegal_transition"
        )
    text = _clean_reason(reason)
    if new in REASON_REQUIRED and not text:
        raise Invalid(
            f"A reason is required to set a referral to {new}.",
            code="reason_required",
            details=[{"field": "reason", "message": "This field is required."}],
        )
    if text is not None and len(text) > MAX_REASON:
        raise Invalid(
            "The reason is too long.",
            code="invalid_reason",
            details=[{"field": "reason", "message": f"At most {MAX_REASON} characters."}],
        )
    if reason_code is not None and reason_code not in REASON_CODES:
        raise Invalid(
            "Unknown coded reason.",
            code="invalid_reason_code",
            details=[
                {"field": "reason_code", "message": f"Choose one of: {', '.join(REASON_CODES)}."}
            ],
        )
    return text, reason_code


def _who(actor: User | None) -> audit.Actor:
    return audit.Actor(actor.id, actor.username) if actor is not None else audit.SYSTEM


def _audit_referral(
    session: Session,
    referral: Referral,
    *,
    actor: audit.Actor,
    at: datetime,
    details: dict[str, Any],
) -> None:
    audit.record(
        session,
        audit.AuditTag.REFERRAL_UPDATED,
        actor=actor,
        at=at,
        category="referral",
        case_id=referral.case_id,
        client_id=referral.client_id,
        instance_id=referral.instance_id,
        details={"referral_id": referral.id, **details},
    )


def _change_status(
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
    _audit_referral(
        session, referral, actor=actor, at=now, details={"from": previous, "to": status}
    )
    return event


# ---------------------------------------------------------------- queries ----------
def get_referral(session: Session, referral_id: int, *, for_update: bool = False) -> Referral:
    referral = session.get(
        Referral, referral_id, with_for_update=for_update, populate_existing=for_update
    )
    if referral is None:
        raise NotFound("No such referral.", code="referral_not_found")
    return referral


def _locked(session: Session, referral_id: int) -> Referral:
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


# ---------------------------------------------------------------- directory --------
_RESOURCE_TEXT = {
    "organization_name": 200,
    "service_name": 200,
    "category": 40,
    "fees": 200,
    "phone": 40,
    "email": 200,
    "address": 300,
    "postal_code": 20,
    "description": 4000,
    "eligibility": 4000,
}
_RESOURCE_REQUIRED = ("organization_name", "service_name", "category")


def save_resource(
    session: Session,
    *,
    data: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    resource_id: int | None = None,
) -> CommunityResource:
    """Create (or, with `resource_id`, update) a directory entry. Raises Invalid per field."""
    errors: list[dict[str, str]] = []
    clean: dict[str, Any] = {}
    for name, limit in _RESOURCE_TEXT.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in _RESOURCE_REQUIRED and resource_id is None:
                errors.append({"field": name, "message": "This field is required."})
            continue
        if not isinstance(value, str):
            errors.append({"field": name, "message": "Must be text."})
        elif len(value.strip()) > limit:
            errors.append({"field": name, "message": f"At most {limit} characters."})
        else:
            clean[name] = value.strip()
    for name in ("min_age", "max_age"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 130:
            errors.append({"field": name, "message": "Must be a whole number from 0 to 130."})
        else:
            clean[name] = value
    languages = data.get("languages")
    if languages is not None:
        if not isinstance(languages, list) or not all(
            isinstance(x, str) and 0 < len(x) <= 40 for x in languages
        ):
            errors.append({"field": "languages", "message": "Must be a list of languages."})
        else:
            clean["languages"] = [x.strip() for x in languages]
    assured = data.get("assured_date")
    if assured is not None:
        try:
            clean["assured_date"] = (
                assured if isinstance(assured, date) else date.fromisoformat(str(assured))
            )
        except ValueError:
            errors.append({"field": "assured_date", "message": "Use the form YYYY-MM-DD."})
    status = data.get("status")
    if status is not None:
        if status not in ("active", "inactive"):
            errors.append({"field": "status", "message": "Choose active or inactive."})
        else:
            clean["status"] = status
    if errors:
        raise Invalid(
            "Some resource details need attention.", code="invalid_resource", details=errors
        )
    now = clock.now()
    resource: CommunityResource | None
    if resource_id is None:
        resource = CommunityResource(created_at=now, **clean)
        session.add(resource)
    else:
        resource = session.get(CommunityResource, resource_id)
        if resource is None:
            raise NotFound("No such community resource.", code="resource_not_found")
        for name, value in clean.items():
            setattr(resource, name, value)
    resource.updated_at = now
    session.flush()
    audit.record(
        session,
        RESOURCE_SAVED,
        actor=_who(actor),
        at=now,
        category="configuration",
        details={"resource_id": resource.id},
    )
    return resource


def find_resources(
    session: Session,
    *,
    need: str,
    postal_code: str | None = None,
    age: int | None = None,
    language: str | None = None,
    limit: int = 20,
) -> list[CommunityResource]:
    """Active services for a need (CARE.md: need → category, then hard filters on age and
    language, then rank): same postal code first, then the most recently verified."""
    rows = session.scalars(
        select(CommunityResource).where(
            CommunityResource.category == need, CommunityResource.status == "active"
        )
    ).all()
    wanted = language.casefold() if language else None

    def fits(r: CommunityResource) -> bool:
        if age is not None and r.min_age is not None and age < r.min_age:
            return False
        if age is not None and r.max_age is not None and age > r.max_age:
            return False
        # A service that does not list its languages is not excluded: ask it.
        return not (wanted and r.languages and wanted not in {x.casefold() for x in r.languages})

    def rank(r: CommunityResource) -> tuple[int, int, int]:
        near = 0 if postal_code and r.postal_code == postal_code else 1
        verified = -(r.assured_date.toordinal()) if r.assured_date else 0
        return (near, verified, r.id)

    return sorted((r for r in rows if fits(r)), key=rank)[:limit]


# ---------------------------------------------------------------- consent ----------
def recipient_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def record_consent(
    session: Session,
    *,
    client_id: int,
    recipient: str,
    actor: User | None,
    clock: Clock,
    scope: str = DEFAULT_CONSENT_SCOPE,
    expires_at: datetime | None = None,
) -> Consent:
    """Record the client's consent to share with `recipient` (default expiry: one year)."""
    now = clock.now()
    errors = []
    if not isinstance(recipient, str) or not recipient.strip() or len(recipient.strip()) > 200:
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
    consent = Consent(
        client_id=client_id,
        recipient=recipient.strip(),
        recipient_key=recipient_key(recipient),
        scope=scope,
        given_at=now,
        expires_at=expires_at or now + timedelta(days=DEFAULT_CONSENT_DAYS),
        recorded_by_id=actor.id if actor else None,
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        CONSENT_RECORDED,
        actor=_who(actor),
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
    if consent.revoked_at is not None:
        raise Conflict("This consent was already revoked.", code="consent_revoked")
    now = clock.now()
    consent.revoked_at = now
    consent.revoked_by_id = actor.id if actor else None
    audit.record(
        session,
        CONSENT_REVOKED,
        actor=_who(actor),
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


def _consents_for(session: Session, client_id: int, recipient: str) -> list[Consent]:
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


def _consent_for_sending(
    session: Session,
    *,
    client_id: int,
    recipient: str,
    given: ConsentGiven | None,
    actor: User | None,
    clock: Clock,
) -> Consent:
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


# ---------------------------------------------------------------- lifecycle --------
def _live_needs(session: Session, case_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Referral.need).where(Referral.case_id == case_id, Referral.status.in_(OPEN))
        )
    )


def start_referrals(
    session: Session,
    *,
    case: Case,
    needs: Iterable[str],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
    parent_instance_id: int | None = None,
    previous: Referral | None = None,
) -> list[CommandResult]:
    """One draft Referral and one `referral` process instance per need. A need that already
    has an open referral in this case is skipped (a re-plan does not refer twice)."""
    from engine.instances import services as instances

    now = clock.now()
    who = _who(actor)
    live = _live_needs(session, case.id)
    results = []
    for need in dict.fromkeys(needs):
        if not isinstance(need, str) or not need or need in live:
            continue
        dnc = case.client.do_not_contact
        referral = Referral(
            case_id=case.id,
            client_id=case.client_id,
            need=need[:40],
            status=DRAFT,
            previous_referral_id=previous.id if previous else None,
            do_not_contact=dnc,
            order_detail=CONTACTING_SUBJECT_PROHIBITED if dnc else None,
            requested_by_id=actor.id if actor else None,
            created_at=now,
            updated_at=now,
        )
        session.add(referral)
        session.flush()
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                from_status=None,
                to_status=DRAFT,
                source=SYSTEM if actor is None else REQUESTER,
                actor_id=who.id,
                actor=who.name,
                at=now,
            )
        )
        started = instances.start_process(
            session,
            process_key=PROCESS_KEY,
            case=case,
            actor=actor,
            clock=clock,
            data={
                "referral_id": referral.id,
                "need": referral.need,
                "previous_organisation": previous.organization_name if previous else None,
            },
            parent_instance_id=parent_instance_id,
            site=site,
        )
        referral.instance_id = started.instance.id
        _audit_referral(
            session,
            referral,
            actor=who,
            at=now,
            details={"to": DRAFT, "previous_referral_id": referral.previous_referral_id},
        )
        live.add(need)
        results.append(started)
    return results


def _due_end_of_day(day: date, site: Site) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(site.timezone))


def send_referral(
    session: Session,
    *,
    referral_id: int,
    organisation_name: str | None,
    service_name: str | None,
    actor: User,
    clock: Clock,
    resource_id: int | None = None,
    consent: ConsentGiven | None = None,
    prohibit_contact: bool = False,
) -> Referral:
    """`draft → requested`: the packet leaves only with a current consent to share with the
    receiving organisation (one on file, or `consent` confirmed now and recorded first)."""
    referral = _locked(session, referral_id)
    check_transition(referral.status, REQUESTED, source=REQUESTER)
    if resource_id is not None:
        resource = session.get(CommunityResource, resource_id)
        if resource is None or resource.status != "active":
            raise Invalid(
                "That directory entry does not exist or is inactive.",
                code="invalid_resource",
                details=[{"field": "resource_id", "message": "No such active directory entry."}],
            )
        if organisation_name and recipient_key(organisation_name) != recipient_key(
            resource.organization_name
        ):
            raise Invalid(
                "The organisation does not match the chosen directory entry.",
                code="invalid_resource",
                details=[
                    {"field": "organisation_name", "message": "Does not match the directory entry."}
                ],
            )
        organisation_name, service_name = resource.organization_name, resource.service_name
    missing = [
        {"field": name, "message": "This field is required."}
        for name, value in (("organisation_name", organisation_name), ("service", service_name))
        if not (isinstance(value, str) and value.strip())
    ]
    if missing:
        raise Invalid("Say who receives the referral.", code="invalid_referral", details=missing)
    assert organisation_name is not None
    assert service_name is not None
    chosen = _consent_for_sending(
        session,
        client_id=referral.client_id,
        recipient=organisation_name,
        given=consent,
        actor=actor,
        clock=clock,
    )
    client = session.get(Client, referral.client_id)
    dnc = bool(prohibit_contact or (client is not None and client.do_not_contact))
    now = clock.now()
    referral.resource_id = resource_id
    referral.organization_name = organisation_name.strip()[:200]
    referral.service_name = service_name.strip()[:200]
    referral.consent_id = chosen.id
    referral.do_not_contact = dnc
    referral.order_detail = CONTACTING_SUBJECT_PROHIBITED if dnc else None
    referral.requested_by_id = actor.id
    referral.requested_at = now
    _change_status(
        session,
        referral,
        status=REQUESTED,
        source=REQUESTER,
        reason=None,
        reason_code=None,
        actor=_who(actor),
        now=now,
    )
    return referral


def _sync_do_not_contact(session: Session, referral: Referral) -> None:
    """A client flagged do-not-contact after the referral started (a later safety screen)
    is honoured from now on: by the record, and by the instance through the next update."""
    client = session.get(Client, referral.client_id)
    if client is not None and client.do_not_contact and not referral.do_not_contact:
        referral.do_not_contact = True
        referral.order_detail = CONTACTING_SUBJECT_PROHIBITED


def _payload(referral: Referral, event: ReferralEvent | None, *, stop: bool) -> dict[str, Any]:
    """What the instance sees of a status change: ids, codes and the status, no note text."""
    return {
        "referral_id": referral.id,
        "status": referral.status,
        "reason_code": event.reason_code if event else None,
        "source": event.source if event else SYSTEM,
        "at": (event.at if event else referral.updated_at).isoformat(),
        "do_not_contact": referral.do_not_contact,
        "stop": stop,
    }


def _deliver(
    session: Session,
    referral: Referral,
    payload: Mapping[str, Any],
    *,
    actor: User | None,
    clock: Clock,
    site: Site,
) -> list[CommandResult]:
    """Deliver to this referral's own instance and no other. An instance that has finished,
    or is not listening at the moment, gets nothing: the row already holds the truth."""
    from engine.instances import services as instances

    if referral.instance_id is None:
        return []
    instance = session.get(ProcessInstance, referral.instance_id)
    if instance is None or instance.status in ("completed", "cancelled"):
        return []
    return instances.deliver_message(
        session,
        name=STATUS_MESSAGE,
        case_id=referral.case_id,
        payload=payload,
        actor=actor,
        clock=clock,
        site=site,
        instance_ids=[instance.id],
    )


def _apply_status(
    session: Session,
    referral: Referral,
    *,
    status: Any,
    source: str,
    reason: Any,
    reason_code: Any,
    actor: User | None,
    clock: Clock,
    site: Site,
) -> list[CommandResult]:
    event = _change_status(
        session,
        referral,
        status=status,
        source=source,
        reason=reason,
        reason_code=reason_code,
        actor=_who(actor),
        now=clock.now(),
    )
    stop = status in (CANCELLED, ENTERED_IN_ERROR)
    _sync_do_not_contact(session, referral)
    results = _deliver(
        session, referral, _payload(referral, event, stop=stop), actor=actor, clock=clock, site=site
    )
    if status == REJECTED:
        # A decline is a re-referral: the same need goes back to the worker's queue at once.
        case = session.get(Case, referral.case_id)
        assert case is not None
        results += start_referrals(
            session,
            case=case,
            needs=[referral.need],
            actor=actor,
            clock=clock,
            site=site,
            parent_instance_id=_parent_of(session, referral),
            previous=referral,
        )
    return results


def _parent_of(session: Session, referral: Referral) -> int | None:
    if referral.instance_id is None:
        return None
    return session.scalar(
        select(ProcessInstance.parent_instance_id).where(ProcessInstance.id == referral.instance_id)
    )


def _int_field(payload: Mapping[str, Any], name: str, errors: list[dict[str, str]]) -> int | None:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append({"field": name, "message": "Must be a whole number."})
        return None
    return value


def handle_status_message(
    session: Session,
    *,
    case: Case,
    payload: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """`POST /messages {"name": "referral_status", "case_id", "payload": {"referral_id",
    "status", "reason"?, "reason_code"?}}` from the receiving organisation."""
    if not isinstance(payload, Mapping):
        raise Invalid(
            "The payload must be an object.",
            code="invalid_message",
            details=[{"field": "payload", "message": "Must be an object."}],
        )
    errors: list[dict[str, str]] = []
    referral_id = _int_field(payload, "referral_id", errors)
    if not isinstance(payload.get("status"), str):
        errors.append({"field": "status", "message": "This field is required."})
    if errors:
        raise Invalid("The status message needs attention.", code="invalid_message", details=errors)
    assert referral_id is not None
    referral = _locked(session, referral_id)
    if referral.case_id != case.id:
        raise NotFound("No such referral.", code="referral_not_found")
    return _apply_status(
        session,
        referral,
        status=payload["status"],
        source=ORGANISATION,
        reason=payload.get("reason"),
        reason_code=payload.get("reason_code"),
        actor=actor,
        clock=clock,
        site=site,
    )


def record_status(
    session: Session,
    *,
    referral_id: int,
    status: str,
    actor: User,
    clock: Clock,
    reason: str | None = None,
    reason_code: str | None = None,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """A staff member's status form: cancel or mark entered in error as the requester, or
    record the organisation's answer on its behalf (`staff_recorded`)."""
    if status not in STAFF_FORM_STATUSES:
        raise Invalid(
            "Send a referral from its Send referral task.",
            code="invalid_status",
            details=[
                {"field": "status", "message": f"Choose one of: {', '.join(STAFF_FORM_STATUSES)}."}
            ],
        )
    referral = _locked(session, referral_id)
    source = REQUESTER if status in (CANCELLED, ENTERED_IN_ERROR) else STAFF_RECORDED
    return _apply_status(
        session,
        referral,
        status=status,
        source=source,
        reason=reason,
        reason_code=reason_code,
        actor=actor,
        clock=clock,
        site=site,
    )


def cancel_referral(
    session: Session,
    *,
    referral_id: int,
    reason: str,
    actor: User,
    clock: Clock,
    reason_code: str | None = None,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    return record_status(
        session,
        referral_id=referral_id,
        status=CANCELLED,
        reason=reason,
        reason_code=reason_code,
        actor=actor,
        clock=clock,
        site=site,
    )


CASE_CLOSED_REASON = "The case pathway was closed."


def close_referrals_of(
    session: Session,
    *,
    parent_instance_id: int,
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """A pathway that ends closes the loops it opened: its open referrals are cancelled, and
    instances still following a closed referral (contact or outcome checks) stop."""
    children = session.scalars(
        select(ProcessInstance.id).where(
            ProcessInstance.parent_instance_id == parent_instance_id,
            ProcessInstance.status.not_in(("completed", "cancelled")),
        )
    ).all()
    if not children:
        return []
    results: list[CommandResult] = []
    ids = session.scalars(
        select(Referral.id).where(Referral.instance_id.in_(children)).order_by(Referral.id)
    ).all()
    for referral_id in ids:
        referral = _locked(session, referral_id)
        if referral.status in OPEN:
            results += _apply_status(
                session,
                referral,
                status=CANCELLED,
                source=REQUESTER,
                reason=CASE_CLOSED_REASON,
                reason_code=None,
                actor=actor,
                clock=clock,
                site=site,
            )
        else:
            payload = _payload(referral, None, stop=True)
            results += _deliver(session, referral, payload, actor=actor, clock=clock, site=site)
    return results


# ---------------------------------------------------------------- task hooks -------
@dataclass(frozen=True)
class TaskStep:
    """What completing a task means for referrals, decided before the workflow moves on."""

    extra: dict[str, Any] = field(default_factory=dict)
    start_needs: tuple[str, ...] = ()
    previous_referral_id: int | None = None


NO_STEP = TaskStep()


def _ready_task(wf: Any, spiff_task_id: str) -> runtime.ReadyTask | None:
    return next((t for t in runtime.ready_human_tasks(wf) if t.id == spiff_task_id), None)


def _referral_of(session: Session, task: HumanTask, data: Mapping[str, Any]) -> Referral:
    referral_id = data.get("referral_id")
    # complete_task holds this instance's lock already: the lock order stays instance first.
    referral = (
        get_referral(session, referral_id, for_update=True)
        if isinstance(referral_id, int)
        else None
    )
    if referral is None or referral.instance_id != task.instance_id:
        raise Conflict("This task has lost its referral.", code="referral_not_found")
    return referral


def before_task_completion(
    session: Session,
    *,
    task: HumanTask,
    wf: Any,
    data: Mapping[str, Any],
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> TaskStep:
    """Called by complete_task after form validation, before the workflow runs the task.

    The diagram says what a task means through spiffworkflow properties: `referralStep`
    (send | rerefer | outcome) on the referral process's tasks, `startsReferrals` (the form
    field listing the needs) on a care plan. Raises Invalid/Conflict before anything moves."""
    ready = _ready_task(wf, task.spiff_task_id)
    if ready is None:
        return NO_STEP
    needs_field = ready.properties.get("startsReferrals")
    if needs_field:
        needs = data.get(needs_field) or []
        return TaskStep(start_needs=tuple(n for n in needs if isinstance(n, str)))
    step = ready.properties.get("referralStep")
    if step == "send":
        return _send_step(session, task, ready.data, data, actor=actor, clock=clock, site=site)
    if step == "rerefer":
        referral = _referral_of(session, task, ready.data)
        _change_status(
            session,
            referral,
            status=CANCELLED,
            source=REQUESTER,
            reason=data.get("reason"),
            reason_code=data.get("reason_code"),
            actor=_who(actor),
            now=clock.now(),
        )
        if data.get("decision") == "refer_elsewhere":
            return TaskStep(start_needs=(referral.need,), previous_referral_id=referral.id)
        return NO_STEP
    if step == "outcome":
        referral = _referral_of(session, task, ready.data)
        outcome = data.get("outcome")
        if referral.status in OPEN:
            _change_status(
                session,
                referral,
                status=outcome,
                source=REQUESTER if outcome == CANCELLED else STAFF_RECORDED,
                reason=data.get("reason"),
                reason_code=data.get("reason_code"),
                actor=_who(actor),
                now=clock.now(),
            )
        elif referral.reason_code is None and data.get("reason_code") in REASON_CODES:
            referral.reason_code = data["reason_code"]  # the organisation closed it uncoded
        return NO_STEP
    return NO_STEP


def _send_step(
    session: Session,
    task: HumanTask,
    task_data: Mapping[str, Any],
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: Clock,
    site: Site,
) -> TaskStep:
    referral = _referral_of(session, task, task_data)
    if form.get("need") not in (None, referral.need):
        raise Invalid(
            "This referral is for another need.",
            code="form_invalid",
            details=[{"field": "need", "message": f"This referral is for {referral.need}."}],
        )
    if not form.get("referral_made"):
        _change_status(
            session,
            referral,
            status=CANCELLED,
            source=REQUESTER,
            reason=form.get("no_referral_reason"),
            reason_code=None,
            actor=_who(actor),
            now=clock.now(),
        )
        return NO_STEP
    consent = None
    if form.get("consent_to_share_recorded") is True:
        expires = form.get("consent_expires_on")
        consent = ConsentGiven(
            scope=form.get("consent_scope") or DEFAULT_CONSENT_SCOPE,
            expires_at=_due_end_of_day(date.fromisoformat(expires), site) if expires else None,
        )
    send_referral(
        session,
        referral_id=referral.id,
        organisation_name=form.get("organisation_name"),
        service_name=form.get("service"),
        resource_id=form.get("resource_id"),
        consent=consent,
        prohibit_contact=bool(form.get("client_contact_prohibited")),
        actor=actor,
        clock=clock,
    )
    due = add_business_days(clock.now(), ANSWER_DEADLINE_BUSINESS_DAYS, site=site)
    return TaskStep(extra={"referral_answer_due": due.isoformat()})


def after_task_completion(
    session: Session,
    step: TaskStep,
    *,
    instance: ProcessInstance,
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """Called by complete_task after the instance is saved: starts the referrals the task
    asked for, and when the task finished its pathway, closes the referrals it opened."""
    results: list[CommandResult] = []
    if step.start_needs and instance.case_id is not None:
        case = session.get(Case, instance.case_id)
        assert case is not None
        previous = (
            session.get(Referral, step.previous_referral_id) if step.previous_referral_id else None
        )
        parent = instance.parent_instance_id if previous is not None else instance.id
        results += start_referrals(
            session,
            case=case,
            needs=step.start_needs,
            actor=actor,
            clock=clock,
            site=site,
            parent_instance_id=parent,
            previous=previous,
        )
    if instance.status == "completed":
        results += close_referrals_of(
            session, parent_instance_id=instance.id, actor=actor, clock=clock, site=site
        )
    return results
