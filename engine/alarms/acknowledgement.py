"""Acknowledging a stat task ("I have it"), and the escalation tasks' own completion.

Anyone who can act may acknowledge, not only the holder: whoever holds the task's role, the
case's care team (engine.cases.team, the primary social worker included), the holder, a
supervisor. A second acknowledgement changes nothing and returns the first (who and when):
a double click, or two people answering the same page, is not an error."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.alarms.form import ESCALATION_FORM
from engine.alarms.ladder import close_escalations
from engine.alarms.tags import ACKNOWLEDGED, ESCALATION_COMPLETED
from engine.cases.team import is_member
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, NotFound
from engine.forms import validate
from engine.inbox.models import HumanTask
from engine.inbox.permissions import can_work


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


def _lock(session: Session, task_id: int) -> HumanTask:
    task = session.scalars(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    return task


def _require_open(task: HumanTask) -> None:
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.", code="task_closed")


def can_acknowledge(session: Session, user: User, task: HumanTask) -> bool:
    if task.assignee_id == user.id or user.has_role("supervisor"):
        return True
    if task.role is not None and user.has_role(task.role):
        return True
    return task.case_id is not None and is_member(session, case_id=task.case_id, user_id=user.id)


def record_acknowledgement(
    session: Session, task: HumanTask, *, actor: User, now: datetime, how: str
) -> None:
    """Mark `task` acknowledged (if it is not yet), end its ladder, close its escalations."""
    if task.acknowledged_at is None:
        task.acknowledged_at = now
        task.acknowledged_by_id = actor.id
        audit.record(
            session,
            ACKNOWLEDGED,
            actor=_actor(actor),
            at=now,
            case_id=task.case_id,
            client_id=task.client_id,
            instance_id=task.instance_id,
            task_id=task.id,
            details={"how": how, "escalation_level": task.escalation_level},
        )
    close_escalations(session, task, reason="resolved", now=now)


def acknowledge(session: Session, *, task_id: int, actor: User, clock: Clock) -> HumanTask:
    """Acknowledge a task; on an escalation task, acknowledge the task it escalates. 409 on a
    closed task, 403 for someone who may not act on it."""
    task = _lock(session, task_id)
    _require_open(task)
    original = task
    if task.kind == "escalation" and task.escalates_task_id is not None:
        original = _lock(session, task.escalates_task_id)
    allowed = can_acknowledge(session, actor, original) or can_work(actor, task)
    if not allowed:
        raise Forbidden(
            "Only the task's role, the case's care team or a supervisor may acknowledge it.",
            code="cannot_acknowledge",
        )
    if original.acknowledged_at is not None and original is task:
        return task  # the first acknowledgement stands
    now = clock.now()
    # On an escalation task this also closes it (and its sibling) as resolved.
    record_acknowledgement(session, original, actor=actor, now=now, how="acknowledged")
    if task is not original:
        task.acknowledged_at = now
        task.acknowledged_by_id = actor.id
    return task


def on_completed(session: Session, task: HumanTask, *, actor: User, now: datetime) -> None:
    """Completing a task acknowledges it (a stat task's ladder ends, its escalations close)."""
    if task.priority == "stat" or task.next_escalation_at is not None or task.escalation_level:
        record_acknowledgement(session, task, actor=actor, now=now, how="completed")


def complete_escalation(
    session: Session, *, task_id: int, data: Mapping[str, Any], actor: User, clock: Clock
) -> HumanTask:
    """Complete an escalation task with its small form. It also acknowledges the task it
    escalates: the person alerted has taken responsibility, so the alarm stops."""
    task = _lock(session, task_id)
    if task.kind != "escalation":
        raise NotFound("No such escalation task.", code="task_not_found")
    _require_open(task)
    if not (can_work(actor, task) or actor.has_role("supervisor")):
        raise Forbidden("This escalation is for another role.", code="wrong_role")
    validate(ESCALATION_FORM, data)
    now = clock.now()
    task.outcome = {k: data[k] for k in ("action", "note") if k in data}
    task.status = "completed"
    task.completed_at = now
    task.completed_by_id = actor.id
    task.acknowledged_at = task.acknowledged_at or now
    task.acknowledged_by_id = task.acknowledged_by_id or actor.id
    if task.assignee_id is None:
        task.assignee_id = actor.id
    audit.record(
        session,
        ESCALATION_COMPLETED,
        actor=_actor(actor),
        at=now,
        case_id=task.case_id,
        client_id=task.client_id,
        task_id=task.id,
        details={"escalates_task_id": task.escalates_task_id, "fields": sorted(task.outcome)},
    )
    if task.escalates_task_id is not None:
        original = _lock(session, task.escalates_task_id)
        if original.status == "open":
            record_acknowledgement(
                session, original, actor=actor, now=now, how="escalation_completed"
            )
    return task
