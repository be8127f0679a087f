"""A discharge from the hospital: one per admission, every deadline counted from the discharge
itself (not from when the message arrived), inpatient-only work ended, and the transitional-
care pathway (`discharge_followup`) started with its deadlines in its seed data.

Deadlines (CARE.md; site zone and calendar from the Site):
* TCM interactive contact: end of the site's business day on the 2nd business day after
  the discharge date (`tcm_contact_due`);
* HEDIS FUH: 23:59:59 site time on the discharge date + 7 and + 30 (`fuh_7_due`, `fuh_30_due`);
* AMA: a supervisor review the same day, 23:59:59 site time on the discharge date
  (`ama_review_due`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, instances
from engine.accounts.models import User
from engine.calendar import (
    DEFAULT_SITE,
    Site,
    end_of_business_days_after,
    end_of_calendar_day_after,
)
from engine.cases.models import Case
from engine.clock import Clock, FrozenClock
from engine.definitions.models import ProcessDefinition
from engine.discharge.payload import Discharge, parse_discharge
from engine.errors import Conflict
from engine.events import MessageReceived, Registry
from engine.inbox.models import HumanTask
from engine.instances import CommandResult, ProcessInstance

PROCESS_KEY = "discharge_followup"
DISCHARGE_MESSAGE = "discharge"
# Sent to the case's running pathways: an inpatient-only task catches it on an interrupting
# boundary event and hands over to its outpatient counterpart (or just ends).
INPATIENT_CARE_ENDED = "inpatient_care_ended"
TCM_CONTACT_BUSINESS_DAYS = 2
FUH_DAYS = (7, 30)
DISCHARGED = "discharged"  # HumanTask.cancel_reason of inpatient work ended by the discharge


def deadlines(discharged: Discharge, *, site: Site) -> dict[str, str]:
    """ISO-8601 in the site's zone with its offset: SpiffWorkflow would read a naive timeDate
    in the server's zone, and instructions can show the local date and time as they are."""
    at = discharged.discharged_at
    due = {
        "tcm_contact_due": end_of_business_days_after(at, TCM_CONTACT_BUSINESS_DAYS, site=site),
        "fuh_7_due": end_of_calendar_day_after(at, FUH_DAYS[0], site=site),
        "fuh_30_due": end_of_calendar_day_after(at, FUH_DAYS[1], site=site),
        "ama_review_due": end_of_calendar_day_after(at, 0, site=site),
    }
    return {key: value.astimezone(site.zone).isoformat() for key, value in due.items()}


def _lock_case(session: Session, case_id: int) -> Case:
    # Two discharge messages for one case at once: the second waits here and then sees the
    # first one's discharged_at (populate_existing re-reads the row under the lock).
    return session.scalars(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update(of=Case.__table__)
        .execution_options(populate_existing=True)
    ).one()


def _already_discharged(session: Session, case: Case) -> bool:
    if case.discharged_at is not None:
        return True
    # Instances started before discharged_at was recorded on the case count too.
    return (
        session.scalar(
            select(ProcessInstance.id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(
                ProcessInstance.case_id == case.id,
                ProcessDefinition.process_key == PROCESS_KEY,
            )
            .limit(1)
        )
        is not None
    )


def handle_discharge_message(
    session: Session,
    *,
    case: Case,
    payload: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """`POST /messages {"name": "discharge", "case_id", "payload": {"discharged_at",
    "disposition", "behavioral_health"}}`: Invalid (422) naming the field, Conflict (409)
    when this admission's discharge pathway already ran."""
    discharged = parse_discharge(payload)
    case = _lock_case(session, case.id)
    if _already_discharged(session, case):
        raise Conflict(
            "This admission's discharge has already been recorded.", code="already_discharged"
        )
    now = clock.now()
    case.discharged_at = discharged.discharged_at
    case.discharge_disposition = discharged.disposition
    audit.record(
        session,
        audit.AuditTag.CASE_DISCHARGED,
        actor=instances.actor_of(actor),
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details={
            "discharged_at": discharged.discharged_at.isoformat(),
            "disposition": discharged.disposition,
        },
    )
    ended, replacements = end_inpatient_work(
        session,
        case=case,
        disposition=discharged.disposition,
        actor=actor,
        clock=clock,
        site=site,
    )
    behavioural = (
        discharged.behavioral_health
        if discharged.behavioral_health is not None
        else bool((case.flags or {}).get("behavioral_health"))
    )
    seed: dict[str, Any] = {
        "message": dict(payload),
        "message_received_at": now.isoformat(),
        "discharged_at": discharged.discharged_at.astimezone(site.zone).isoformat(),
        "disposition": discharged.disposition,
        # The message's flag, or the case's when the sender says nothing.
        "behavioral_health": behavioural,
        "inpatient_work_ended": [t.name for t in ended],
        "inpatient_work_replaced_by": [t.name for t in replacements],
        **deadlines(discharged, site=site),
    }
    return instances.start_by_message(
        session,
        name=DISCHARGE_MESSAGE,
        case=case,
        payload=payload,
        seed=seed,
        actor=actor,
        clock=clock,
        site=site,
    )


def end_inpatient_work(
    session: Session,
    *,
    case: Case,
    disposition: str,
    actor: User | None,
    clock: Clock,
    site: Site,
) -> tuple[list[HumanTask], list[HumanTask]]:
    """Tell the case's running pathways that inpatient care has ended. Inpatient-only tasks
    (a bedside assessment) catch it and are withdrawn (cancel_reason `discharged`), handing
    over to their outpatient counterpart (a phone assessment) where the diagram has one.
    Returns (ended tasks, replacement tasks)."""
    open_rows = [
        t
        for t in session.scalars(
            select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
        )
    ]
    # An escalation task has no instance of its own: its pathway's task is in the list.
    instance_ids = sorted({t.instance_id for t in open_rows if t.instance_id is not None})
    if not instance_ids:
        return [], []
    results = instances.deliver_message(
        session,
        name=INPATIENT_CARE_ENDED,
        case_id=case.id,
        payload={"disposition": disposition},
        actor=actor,
        clock=clock,
        site=site,
        instance_ids=instance_ids,
    )
    ended = [t for t in open_rows if t.status == "cancelled"]
    for task in ended:
        task.cancel_reason = DISCHARGED
    replacements = [t for r in results for t in r.created_tasks]
    if ended:
        audit.record(
            session,
            audit.AuditTag.INPATIENT_WORK_ENDED,
            actor=instances.actor_of(actor),
            at=clock.now(),
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            details={
                "ended": [t.id for t in ended],
                "replaced_by": [t.id for t in replacements],
            },
        )
    return ended, replacements


# ---------------------------------------------------------------- subscribers ------
def discharge_received(session: Session, event: MessageReceived) -> list[CommandResult] | None:
    """The `discharge` message is this module's (a MessageReceived subscriber)."""
    if event.name != DISCHARGE_MESSAGE:
        return None
    case = session.get(Case, event.case_id)
    assert case is not None  # deliver_message found it
    return handle_discharge_message(
        session,
        case=case,
        payload=event.payload,
        actor=session.get(User, event.actor_id) if event.actor_id is not None else None,
        clock=FrozenClock(event.at),
        site=event.site,
    )


def subscribe(registry: Registry) -> None:
    registry.subscribe(MessageReceived, discharge_received)
