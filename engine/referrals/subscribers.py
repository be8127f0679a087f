"""What the instance commands mean for referrals, as subscribers of engine.events (wired at
start-up by engine.wiring; the core never calls referrals):

* TaskCompleting, after form validation and before the workflow moves: a referral task sends,
  cancels or closes its referral; anything it refuses is refused before anything moves. Sending
  adds the answer deadline to the task data.
* TaskCompleted, once the instance is saved: starts the referrals a care plan asked for, or the
  re-referral a worker chose.
* ProcessCompleted: a finished pathway closes the referrals it opened.
* MessageReceived: `referral_status` is this module's message, correlated by referral id.

The diagram says what a task means through spiffworkflow properties, not hard-coded ids:
`referralStep` (send | rerefer | outcome) on the referral process's tasks, `startsReferrals`
(the form field listing the needs) on a care plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.calendar import Site, add_business_days
from engine.cases.models import Case
from engine.clock import FrozenClock
from engine.errors import Conflict, Invalid, NotFound
from engine.events import (
    MessageReceived,
    ProcessCompleted,
    Registry,
    TaskCompleted,
    TaskCompleting,
)
from engine.instances import CommandResult
from engine.referrals.commands import (
    STATUS_MESSAGE,
    close_referrals_of,
    handle_status_message,
    send_referral,
    start_referrals,
)
from engine.referrals.consent import DEFAULT_CONSENT_SCOPE, ConsentGiven
from engine.referrals.models import Referral
from engine.referrals.records import change_status, get_referral, who
from engine.referrals.states import (
    CANCELLED,
    OPEN,
    REASON_CODES,
    REQUESTER,
    STAFF_RECORDED,
)

# CARE.md deadlines: the organisation answers within 2 business days of sending.
ANSWER_DEADLINE_BUSINESS_DAYS = 2


def _referral_of(session: Session, instance_id: int, task_data: Mapping[str, Any]) -> Referral:
    referral_id = task_data.get("referral_id")
    # complete_task holds this instance's lock already: the lock order stays instance first.
    referral = (
        get_referral(session, referral_id, for_update=True)
        if isinstance(referral_id, int)
        else None
    )
    if referral is None or referral.instance_id != instance_id:
        raise Conflict("This task has lost its referral.", code="referral_not_found")
    return referral


def _due_end_of_day(day: date, site: Site) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(site.timezone))


def _actor(session: Session, actor_id: int | None) -> User | None:
    return session.get(User, actor_id) if actor_id is not None else None


def _worker(session: Session, actor_id: int) -> User:
    user = _actor(session, actor_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def before_task_runs(session: Session, event: TaskCompleting) -> dict[str, Any] | None:
    """A referral task's step, before the workflow runs the task: raises Invalid/Conflict
    before anything moves; returns the task data it adds."""
    step = event.properties.get("referralStep")
    if event.properties.get("startsReferrals") or step not in ("send", "rerefer", "outcome"):
        return None
    referral = _referral_of(session, event.instance_id, event.task_data)
    actor = _worker(session, event.actor_id)
    # The command's own time, for every row this step writes.
    clock = FrozenClock(event.at)
    if step == "send":
        return _send_step(session, referral, event.form, actor=actor, clock=clock, site=event.site)
    if step == "rerefer":
        _cancel(session, referral, event.form, actor=actor, clock=clock)
    else:
        _outcome_step(session, referral, event.form, actor=actor, clock=clock)
    return None


def _send_step(
    session: Session,
    referral: Referral,
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: FrozenClock,
    site: Site,
) -> dict[str, Any] | None:
    """Send the referral (recording the consent the form confirms), or cancel it when the
    worker says none is needed. The answer deadline goes into the task data for the timer."""
    if form.get("need") not in (None, referral.need):
        raise Invalid(
            "This referral is for another need.",
            code="form_invalid",
            details=[{"field": "need", "message": f"This referral is for {referral.need}."}],
        )
    if not form.get("referral_made"):
        change_status(
            session,
            referral,
            status=CANCELLED,
            source=REQUESTER,
            reason=form.get("no_referral_reason"),
            reason_code=None,
            actor=who(actor),
            now=clock.now(),
        )
        return None
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
        shared_notes=form.get("notes_to_share"),
        prohibit_contact=bool(form.get("client_contact_prohibited")),
        actor=actor,
        clock=clock,
    )
    # Diagram expressions cannot count business days (no holiday calendar in the sandbox).
    due = add_business_days(clock.now(), ANSWER_DEADLINE_BUSINESS_DAYS, site=site)
    return {"referral_answer_due": due.isoformat()}


def _cancel(
    session: Session,
    referral: Referral,
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: FrozenClock,
) -> None:
    """No answer in time: this referral is cancelled; `refer_elsewhere` opens a new one for
    the same need once the instance is saved (after_task_ran)."""
    change_status(
        session,
        referral,
        status=CANCELLED,
        source=REQUESTER,
        reason=form.get("reason"),
        reason_code=form.get("reason_code"),
        actor=who(actor),
        now=clock.now(),
    )


def _outcome_step(
    session: Session,
    referral: Referral,
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: FrozenClock,
) -> None:
    """The 30-day outcome: an open referral takes it; a closed one keeps the organisation's
    answer, gaining only the coded reason it lacked."""
    outcome = form.get("outcome")
    if referral.status in OPEN:
        change_status(
            session,
            referral,
            status=outcome,
            source=REQUESTER if outcome == CANCELLED else STAFF_RECORDED,
            reason=form.get("reason"),
            reason_code=form.get("reason_code"),
            actor=who(actor),
            now=clock.now(),
        )
    elif referral.reason_code is None and form.get("reason_code") in REASON_CODES:
        referral.reason_code = form["reason_code"]  # the organisation closed it uncoded


def after_task_ran(session: Session, event: TaskCompleted) -> list[CommandResult]:
    """Once the instance is saved: start the referrals a care plan's task asked for, or the
    re-referral a worker chose for a need nobody answered."""
    if event.case_id is None:
        return []
    needs: tuple[str, ...] = ()
    previous: Referral | None = None
    needs_field = event.properties.get("startsReferrals")
    if needs_field:
        listed = event.form.get(needs_field) or []
        needs = tuple(n for n in listed if isinstance(n, str))
    elif (
        event.properties.get("referralStep") == "rerefer"
        and event.form.get("decision") == "refer_elsewhere"
    ):
        previous = _referral_of(session, event.instance_id, event.task_data)
        needs = (previous.need,)
    if not needs:
        return []
    case = session.get(Case, event.case_id)
    assert case is not None
    # A re-referral is a sibling of the referral it replaces, under the same pathway.
    parent = event.parent_instance_id if previous is not None else event.instance_id
    return start_referrals(
        session,
        case=case,
        needs=needs,
        actor=_worker(session, event.actor_id),
        clock=FrozenClock(event.at),
        site=event.site,
        parent_instance_id=parent,
        previous=previous,
    )


def close_when_pathway_ends(session: Session, event: ProcessCompleted) -> list[CommandResult]:
    """A finished pathway closes the loops it opened (its referrals' instances are its
    children; a pathway that opened none costs one query)."""
    return close_referrals_of(
        session,
        parent_instance_id=event.instance_id,
        actor=_actor(session, event.actor_id),
        clock=FrozenClock(event.at),
        site=event.site,
    )


def status_message(session: Session, event: MessageReceived) -> list[CommandResult] | None:
    """`referral_status` belongs to referrals: checked against the state machine, recorded,
    then delivered to that referral's own instance only."""
    if event.name != STATUS_MESSAGE:
        return None
    case = session.get(Case, event.case_id)
    assert case is not None
    return handle_status_message(
        session,
        case=case,
        payload=event.payload,
        actor=_actor(session, event.actor_id),
        clock=FrozenClock(event.at),
        site=event.site,
    )


def subscribe(registry: Registry) -> None:
    registry.subscribe(TaskCompleting, before_task_runs)
    registry.subscribe(TaskCompleted, after_task_ran)
    registry.subscribe(ProcessCompleted, close_when_pathway_ends)
    registry.subscribe(MessageReceived, status_message)
