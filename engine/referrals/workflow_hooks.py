"""What completing a human task means for referrals, called by
`engine.instances.services.complete_task`:

* `before_task_completion`, after form validation and before the workflow moves: sends,
  cancels or closes the task's referral, and says what to start afterwards (a `TaskStep`);
  anything it refuses is refused before anything moves;
* `after_task_completion`, once the instance is saved: starts the referrals the task asked for,
  and when the task finished its pathway, closes the referrals that pathway opened.

The diagram says what a task means through spiffworkflow properties, not hard-coded ids:
`referralStep` (send | rerefer | outcome) on the referral process's tasks, `startsReferrals`
(the form field listing the needs) on a care plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site, add_business_days
from engine.cases.models import Case
from engine.clock import Clock
from engine.errors import Conflict, Invalid
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.referrals.commands import close_referrals_of, send_referral, start_referrals
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
from engine.workflow import runtime

if TYPE_CHECKING:
    from engine.instances.services import CommandResult

# CARE.md deadlines: the organisation answers within 2 business days of sending.
ANSWER_DEADLINE_BUSINESS_DAYS = 2


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


def _due_end_of_day(day: date, site: Site) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(site.timezone))


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
    Raises Invalid/Conflict before anything moves."""
    ready = _ready_task(wf, task.workflow_task_id)
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
        return _rerefer_step(session, task, ready.data, data, actor=actor, clock=clock)
    if step == "outcome":
        _outcome_step(session, task, ready.data, data, actor=actor, clock=clock)
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
    """Send the referral (recording the consent the form confirms), or cancel it when the
    worker says none is needed. The answer deadline goes into the task data for the timer."""
    referral = _referral_of(session, task, task_data)
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
        shared_notes=form.get("notes_to_share"),
        prohibit_contact=bool(form.get("client_contact_prohibited")),
        actor=actor,
        clock=clock,
    )
    # Diagram expressions cannot count business days (no holiday calendar in the sandbox).
    due = add_business_days(clock.now(), ANSWER_DEADLINE_BUSINESS_DAYS, site=site)
    return TaskStep(extra={"referral_answer_due": due.isoformat()})


def _rerefer_step(
    session: Session,
    task: HumanTask,
    task_data: Mapping[str, Any],
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: Clock,
) -> TaskStep:
    """No answer in time: this referral is cancelled; `refer_elsewhere` opens a new one for
    the same need once the instance is saved."""
    referral = _referral_of(session, task, task_data)
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
    if form.get("decision") == "refer_elsewhere":
        return TaskStep(start_needs=(referral.need,), previous_referral_id=referral.id)
    return NO_STEP


def _outcome_step(
    session: Session,
    task: HumanTask,
    task_data: Mapping[str, Any],
    form: Mapping[str, Any],
    *,
    actor: User,
    clock: Clock,
) -> None:
    """The 30-day outcome: an open referral takes it; a closed one keeps the organisation's
    answer, gaining only the coded reason it lacked."""
    referral = _referral_of(session, task, task_data)
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
        # A re-referral is a sibling of the referral it replaces, under the same pathway.
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
