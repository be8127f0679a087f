"""Referral commands: start, send, change status (a message from the organisation or a staff
member's form), cancel, and close what a finished pathway opened.

One Referral row per need of a care plan, created (status `draft`) together with its own
`referral` process instance. Sending it (`draft → requested`) needs a current consent to share
with the receiving organisation. Every later status change is checked by the state machine,
written to the row, its history and the audit trail, and then delivered as the message
`referral_status` to that referral's instance only (correlation by referral id → instance id),
which moves the instance on: acceptance starts the 7-day contact and 30-day outcome checks, a
decline starts a new referral for the same need, a cancellation ends the instance.

Everything runs in the caller's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.audit import AuditTag
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.errors import Invalid, NotFound
from engine.inbox.models import HumanTask
from engine.instances import CommandResult, ProcessInstance
from engine.instances import services as instances
from engine.referrals.consent import ConsentGiven, consent_for_sending, recipient_key
from engine.referrals.models import CommunityResource, Referral, ReferralEvent
from engine.referrals.packets import queue_packet
from engine.referrals.records import audit_referral, change_status, lock_referral, who
from engine.referrals.states import (
    CANCELLED,
    DRAFT,
    ENTERED_IN_ERROR,
    OPEN,
    ORGANISATION,
    REJECTED,
    REQUESTED,
    REQUESTER,
    STAFF_FORM_STATUSES,
    SYSTEM,
    check_transition,
    staff_source,
)

PROCESS_KEY = "referral"
STATUS_MESSAGE = "referral_status"
# FHIR Task.input / ServiceRequest.orderDetail for a client the organisation must not contact.
CONTACTING_SUBJECT_PROHIBITED = "contacting-subject-prohibited"
CASE_CLOSED_REASON = "case_closed"


# ---------------------------------------------------------------- starting ---------
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
    now = clock.now()
    actor_ = who(actor)
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
                actor_id=actor_.id,
                actor=actor_.name,
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
        audit_referral(
            session,
            referral,
            actor=actor_,
            at=now,
            details={"to": DRAFT, "previous_referral_id": referral.previous_referral_id},
        )
        live.add(need)
        results.append(started)
    return results


# ---------------------------------------------------------------- sending ----------
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
    shared_notes: str | None = None,
    prohibit_contact: bool = False,
) -> Referral:
    """`draft → requested`: the packet leaves only with a current consent to share with the
    receiving organisation (one on file, or `consent` confirmed now and recorded first)."""
    referral = lock_referral(session, referral_id)
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
    chosen = consent_for_sending(
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
    change_status(
        session,
        referral,
        status=REQUESTED,
        source=REQUESTER,
        reason=None,
        reason_code=None,
        actor=who(actor),
        now=now,
    )
    if client is not None:
        queue_packet(session, referral=referral, client=client, notes=shared_notes, now=now)
    return referral


# ---------------------------------------------------------------- status changes ---
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


def _parent_of(session: Session, referral: Referral) -> int | None:
    if referral.instance_id is None:
        return None
    return session.scalar(
        select(ProcessInstance.parent_instance_id).where(ProcessInstance.id == referral.instance_id)
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
    as_actor: audit.Actor | None = None,
) -> list[CommandResult]:
    """Change the status, tell the referral's instance, and re-refer a declined need.
    `as_actor` names who answered when it is not a user (an organisation's referral link)."""
    event = change_status(
        session,
        referral,
        status=status,
        source=source,
        reason=reason,
        reason_code=reason_code,
        actor=as_actor or who(actor),
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
    referral = lock_referral(session, referral_id)
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
    status: str | None,
    actor: User,
    clock: Clock,
    reason: str | None = None,
    reason_code: str | None = None,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """A staff member's status form: cancel or mark entered in error as the requester, or
    record the organisation's answer on its behalf (`staff_recorded`)."""
    if not isinstance(status, str) or status not in STAFF_FORM_STATUSES:
        raise Invalid(
            "Send a referral from its Send referral task.",
            code="invalid_status",
            details=[
                {"field": "status", "message": f"Choose one of: {', '.join(STAFF_FORM_STATUSES)}."}
            ],
        )
    referral = lock_referral(session, referral_id)
    return _apply_status(
        session,
        referral,
        status=status,
        source=staff_source(status),
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


def close_referrals_of(
    session: Session,
    *,
    parent_instance_id: int,
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """A closed case ends only the referrals that have not started: `draft` and `requested`
    ones are cancelled (reason `case_closed`; a requested one's organisation is told). An
    organisation that accepted (accepted, in-progress, on-hold) goes on helping the client: its
    referral runs on to its outcome with its timers, and its work passes to the case manager
    (telling the organisation to stop would end help the client is getting)."""
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
        referral = lock_referral(session, referral_id)
        if referral.status in CANCELLED_ON_CLOSURE:
            was_sent = referral.status == REQUESTED
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
            if was_sent:
                _notify_organisation(session, referral, actor=actor, clock=clock)
        elif referral.status in OPEN:
            _hand_to_case_manager(session, referral)
    return results


# Not started: nothing reached the client yet, so closing the case may end them.
CANCELLED_ON_CLOSURE = frozenset({DRAFT, REQUESTED})
CASE_MANAGER = "case_manager"


def _notify_organisation(
    session: Session, referral: Referral, *, actor: User | None, clock: Clock
) -> None:
    """The organisation reads the cancellation on the referral (FHIR Task status), the way it
    reads every requester change; the audit row records that it was due to be told."""
    audit_referral(
        session,
        referral,
        actor=who(actor),
        at=clock.now(),
        details={"organisation_notified": True, "to": referral.status},
        tag=AuditTag.REFERRAL_ORGANISATION_NOTIFIED,
    )


def _hand_to_case_manager(session: Session, referral: Referral) -> None:
    """The referral's open social-work tasks go to the case managers' queue; its later tasks
    follow (engine.instances.projections routes a closed case's social-work tasks there)."""
    if referral.instance_id is None:
        return
    for task in session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == referral.instance_id, HumanTask.status == "open"
        )
    ):
        if task.role != CASE_MANAGER:
            task.role = CASE_MANAGER
            task.assignee_id = None
            task.claimed_at = None
