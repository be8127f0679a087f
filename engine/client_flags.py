"""Client flags set or removed by a person (do-not-contact), and what the flag sets off.

Gaining do-not-contact (a worker's decision here, or an AHC interpersonal-safety score over 10
in engine.assessments) reaches everything in the same transaction: the client and the case are
flagged, every running pathway of the client's open cases withdraws its ready outreach tasks
and reads the flag from then on, and one urgent "Plan safe contact" task goes to the case's
primary social worker. Removing the flag needs a supervisor and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, instances, outreach
from engine.accounts.models import User
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case, CaseFlagEvent
from engine.clock import Clock, FrozenClock
from engine.errors import Forbidden, Invalid
from engine.events import CaseFlagChanged, Registry, TaskCompleted
from engine.inbox.models import HumanTask

SETTABLE_FLAGS = (outreach.DNC_FLAG,)
SAFE_CONTACT_PROCESS = "safe_contact"
SAFE_CONTACT_TASK = "plan_safe_contact"
# Who may set the flag: anyone on the care team who learns of a danger. Removing it is a
# supervisor's decision: a wrongly lifted flag can put the client in danger.
SETTING_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor")
REMOVING_ROLES = ("supervisor",)
MAX_REASON = 2000


@dataclass(frozen=True)
class FlagChange:
    case: Case
    changed: bool
    withdrawn: list[HumanTask]
    plan_task: HumanTask | None


def _clean(flag: Any, value: Any, reason: Any) -> tuple[str, bool, str]:
    errors = []
    if flag not in SETTABLE_FLAGS:
        errors.append({"field": "flag", "message": f"Choose one of: {', '.join(SETTABLE_FLAGS)}."})
    if not isinstance(value, bool):
        errors.append({"field": "set", "message": "Must be true or false."})
    if not isinstance(reason, str) or not reason.strip():
        errors.append({"field": "reason", "message": "Give the reason."})
    elif len(reason.strip()) > MAX_REASON:
        errors.append({"field": "reason", "message": f"At most {MAX_REASON} characters."})
    if errors:
        raise Invalid("The flag change needs attention.", code="invalid_flag", details=errors)
    return str(flag), bool(value), str(reason).strip()


def set_flag(
    session: Session,
    *,
    case_id: int,
    flag: Any,
    value: Any,
    reason: Any,
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> FlagChange:
    flag, value, reason = _clean(flag, value, reason)
    # Only someone who may read the client's record changes its flags (NotFound, 403).
    case, _ = access.require_case_read(session, user=actor, case_id=case_id, now=clock.now())
    if not actor.has_role(*(SETTING_ROLES if value else REMOVING_ROLES)):
        raise Forbidden(
            "Only a supervisor may remove do-not-contact."
            if not value
            else "Your role does not allow this.",
            code="supervisor_required" if not value else "role_required",
        )
    now = clock.now()
    current = outreach.case_is_dnc(case)
    if current == value:
        return FlagChange(case, False, [], None)
    case.flags = {**(case.flags or {}), flag: value}
    # The reason may name who endangers the client: its own row, never the audit details.
    session.add(
        CaseFlagEvent(
            case_id=case.id, flag=flag, value=value, reason=reason, actor_id=actor.id, at=now
        )
    )
    case.client.do_not_contact = value
    audit.record(
        session,
        audit.AuditTag.CASE_FLAGGED if value else audit.AuditTag.CASE_UNFLAGGED,
        actor=audit.actor_of(actor),
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details={"flags": [flag], "source": "staff"},
    )
    if not value:
        # Lifting the flag does not bring withdrawn outreach back: the worker plans contact
        # anew, knowing why it was set.
        for other in _open_cases_of_client(session, case):
            if other.id != case.id:
                other.flags = {**(other.flags or {}), flag: False}
        return FlagChange(case, True, [], None)
    withdrawn, plan = gained_do_not_contact(session, case=case, actor=actor, clock=clock, site=site)
    return FlagChange(case, True, withdrawn, plan)


def _open_cases_of_client(session: Session, case: Case) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(Case.client_id == case.client_id, Case.status != "closed")
            .order_by(Case.id)
        )
    )


def gained_do_not_contact(
    session: Session, *, case: Case, actor: User | None, clock: Clock, site: Site = DEFAULT_SITE
) -> tuple[list[HumanTask], HumanTask | None]:
    """The client of `case` has just become do-not-contact (the flags are already set): every
    open case of the client withdraws its outreach, and this case's primary worker gets one
    urgent "Plan safe contact" task. Returns (withdrawn rows, the plan task)."""
    withdrawn: list[HumanTask] = []
    for each in _open_cases_of_client(session, case):
        if each.id != case.id:
            each.flags = {**(each.flags or {}), outreach.DNC_FLAG: True}
        closed = instances.push_live_data(
            session,
            case=each,
            data={outreach.DNC_FLAG: True},
            actor=actor,
            clock=clock,
            site=site,
        )
        withdrawn += [row for row in closed if row.cancel_reason == outreach.WITHDRAWN]
    plan = _open_plan_task(session, case)
    if plan is None:
        started = instances.start_process(
            session,
            process_key=SAFE_CONTACT_PROCESS,
            case=case,
            actor=actor,
            clock=clock,
            site=site,
            data={"withdrawn": [t.name for t in withdrawn]},
        )
        plan = next((t for t in started.created_tasks if t.bpmn_id == SAFE_CONTACT_TASK), None)
    return withdrawn, plan


def _open_plan_task(session: Session, case: Case) -> HumanTask | None:
    return session.scalar(
        select(HumanTask).where(
            HumanTask.case_id == case.id,
            HumanTask.bpmn_id == SAFE_CONTACT_TASK,
            HumanTask.status == "open",
        )
    )


# ---------------------------------------------------------------- subscribers ------
# session.info key: the tasks whose screens have just made their client do-not-contact.
_GAINED_BY_TASK = "carebridge.dnc_gained_by_task"


def screened_do_not_contact(session: Session, event: CaseFlagChanged) -> None:
    """A task's screens flagged the client (AHC interpersonal safety > 10): once that task's
    instance is saved (its TaskCompleted), the flag reaches every running pathway."""
    if outreach.DNC_FLAG in event.flags and event.task_id is not None:
        session.info.setdefault(_GAINED_BY_TASK, set()).add(event.task_id)


def after_screening_task(session: Session, event: TaskCompleted) -> list[instances.CommandResult]:
    """The flag the task's screens set reaches every running pathway of the client now, in
    this transaction; the plan task it opens is reported with the completion's new tasks."""
    gained = session.info.get(_GAINED_BY_TASK)
    if not gained or event.task_id not in gained or event.case_id is None:
        return []
    gained.discard(event.task_id)
    case = session.get(Case, event.case_id)
    if case is None or not outreach.case_is_dnc(case):
        return []
    _, plan = gained_do_not_contact(
        session,
        case=case,
        actor=session.get(User, event.actor_id),
        clock=FrozenClock(event.at),
        site=event.site,
    )
    if plan is None or plan.instance_id is None:
        return []
    return [instances.CommandResult(instances.get_instance(session, plan.instance_id), [plan])]


def subscribe(registry: Registry) -> None:
    registry.subscribe(CaseFlagChanged, screened_do_not_contact)
    registry.subscribe(TaskCompleted, after_screening_task)
