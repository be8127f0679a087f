"""The alarm ladder of a stat task nobody has acknowledged.

15 minutes after the task was created the supervisor on call is alerted and gets an
escalation task; at 30 minutes the physician on call too; from then on, every 15 minutes,
both are alerted again, with no end, until someone acknowledges or completes the task.

The state is two columns of the task (`escalation_level`, `next_escalation_at`), so a step
is taken in the same transaction that records it: the scheduler lists due tasks, then takes
each step under the task's row lock and re-checks it is still due. Two schedulers, or one
that crashed half-way, cannot take a step twice. A scheduler that was down catches up in one
step (both rungs at once if need be) rather than replaying every missed re-alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, notifications
from engine.alarms.tags import ESCALATED, ESCALATION_CLOSED
from engine.inbox.models import PRIORITY_RANK, HumanTask
from engine.oncall.assignment import pick_escalation_target, pick_for_role

log = logging.getLogger("carebridge.alarms")

STEP = timedelta(minutes=15)
# Rung → the role it brings in.
RUNGS = {1: "supervisor", 2: "physician"}
_WHY = {
    1: "not acknowledged 15 minutes after it was created",
    2: "not acknowledged 30 minutes after it was created",
}


def start(session: Session, tasks: Iterable[HumanTask], *, now: datetime) -> None:
    """New tasks of a command: a stat one starts its ladder and alerts its holder at once
    (every supervisor when it fell to them because nobody is on call)."""
    for task in tasks:
        if task.priority != "stat" or task.kind != "bpmn":
            continue
        task.escalation_level = 0
        task.next_escalation_at = task.created_at + STEP
        if task.assigned_by == "fallback":
            pick = pick_for_role(session, role=task.role, at=now)
            recipients = pick.alert_ids or ([task.assignee_id] if task.assignee_id else [])
            kind, reason = "fallback", "nobody on call for the role"
        else:
            recipients = [task.assignee_id] if task.assignee_id else []
            kind, reason = "stat_task", "new STAT task"
        if not recipients:
            log.error("STAT task %s has nobody to hold it: no supervisor or admin exists", task.id)
        notifications.alert(
            session, kind=kind, task=task, recipient_ids=recipients, reason=reason, now=now
        )


def due(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(HumanTask.id)
            .where(HumanTask.next_escalation_at <= now, HumanTask.status == "open")
            .order_by(HumanTask.next_escalation_at, HumanTask.id)
            .limit(limit)
        )
    )


def next_due(session: Session) -> datetime | None:
    return session.scalar(
        select(HumanTask.next_escalation_at)
        .where(HumanTask.next_escalation_at.is_not(None), HumanTask.status == "open")
        .order_by(HumanTask.next_escalation_at)
        .limit(1)
    )


def _lock(session: Session, task_id: int) -> HumanTask | None:
    return session.scalars(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def escalate(session: Session, *, task_id: int, now: datetime) -> bool:
    """Take the task's due step, if it is still due; True when something was raised."""
    task = _lock(session, task_id)
    if task is None or task.next_escalation_at is None or task.next_escalation_at > now:
        return False
    if task.status != "open" or task.acknowledged_at is not None:
        task.next_escalation_at = None
        return False
    reached = int((now - task.created_at) / STEP)
    level = task.escalation_level
    for rung, role in RUNGS.items():
        if level < rung <= reached:
            _open_escalation(session, task, rung=rung, role=role, now=now)
    if reached > max(RUNGS) and level >= max(RUNGS):
        _re_alert(session, task, reached=reached, now=now)
    task.escalation_level = max(reached, level)
    task.next_escalation_at = task.created_at + STEP * (task.escalation_level + 1)
    return True


def _open_escalation(
    session: Session, original: HumanTask, *, rung: int, role: str, now: datetime
) -> HumanTask:
    pick = pick_escalation_target(session, role=role, at=now)
    task = HumanTask(
        kind="escalation",
        instance_id=None,
        spiff_task_id=None,
        bpmn_id=f"escalation_{role}",
        name=f"Not acknowledged (case {original.case_id}): {original.name}"[:255],
        process_key=original.process_key,
        lane=None,
        role=role,
        case_id=original.case_id,
        client_id=original.client_id,
        status="open",
        assignee_id=pick.assignee_id,
        assigned_by=pick.how,
        claimed_at=now if pick.assignee_id else None,
        priority="stat",
        priority_rank=PRIORITY_RANK["stat"],
        due_at=now,
        created_at=now,
        escalates_task_id=original.id,
        escalation_level=rung,
    )
    session.add(task)
    session.flush()
    _audit_escalation(
        session,
        original,
        now=now,
        details={
            "level": rung,
            "role": role,
            "escalation_task_id": task.id,
            "assignee_id": pick.assignee_id,
        },
    )
    notifications.alert(
        session,
        kind="escalation",
        task=task,
        recipient_ids=pick.alert_ids,
        reason=f"STAT task {original.id} {_WHY[rung]}",
        now=now,
    )
    return task


def _audit_escalation(
    session: Session, original: HumanTask, *, now: datetime, details: dict[str, object]
) -> None:
    """An escalation step or re-alert, recorded against the stat task it is about."""
    audit.record(
        session,
        ESCALATED,
        actor=audit.SYSTEM,
        at=now,
        case_id=original.case_id,
        client_id=original.client_id,
        instance_id=original.instance_id,
        task_id=original.id,
        details=details,
    )


def _re_alert(session: Session, original: HumanTask, *, reached: int, now: datetime) -> None:
    recipients: list[int] = []
    for role in RUNGS.values():
        recipients += pick_escalation_target(session, role=role, at=now).alert_ids
    minutes = int(reached * STEP.total_seconds() // 60)
    _audit_escalation(
        session,
        original,
        now=now,
        details={"level": reached, "re_alert": True, "recipients": sorted(set(recipients))},
    )
    notifications.alert(
        session,
        kind="re_alert",
        task=original,
        recipient_ids=recipients,
        reason=f"STAT task {original.id} still not acknowledged after {minutes} minutes",
        now=now,
    )


def close_escalations(
    session: Session, original: HumanTask, *, reason: str, now: datetime
) -> list[HumanTask]:
    """End the ladder of `original` and close its open escalation tasks (status cancelled,
    `cancel_reason` = reason)."""
    original.next_escalation_at = None
    if original.escalation_level == 0:
        return []  # no rung reached: no escalation task exists
    closed = list(
        session.scalars(
            select(HumanTask).where(
                HumanTask.escalates_task_id == original.id, HumanTask.status == "open"
            )
        )
    )
    for task in closed:
        task.status = "cancelled"
        task.cancel_reason = reason
        task.completed_at = now
        audit.record(
            session,
            ESCALATION_CLOSED,
            actor=audit.SYSTEM,
            at=now,
            case_id=task.case_id,
            client_id=task.client_id,
            task_id=task.id,
            details={"escalates_task_id": original.id, "reason": reason},
        )
    return closed


def stop_for_closed(session: Session, tasks: Iterable[HumanTask], *, now: datetime) -> None:
    """Tasks the workflow cancelled (a boundary event, a finished pathway) end their ladder."""
    for task in tasks:
        if task.next_escalation_at is not None or task.escalation_level:
            close_escalations(session, task, reason="original_closed", now=now)


def resume(session: Session, *, now: datetime) -> int:
    """Start the ladder of open, unacknowledged stat tasks that have none (created before
    this code, or by a repair): the next step is due at once, and catches up in one go."""
    stalled = list(
        session.scalars(
            select(HumanTask).where(
                HumanTask.status == "open",
                HumanTask.kind == "bpmn",
                HumanTask.priority == "stat",
                HumanTask.acknowledged_at.is_(None),
                HumanTask.next_escalation_at.is_(None),
            )
        )
    )
    for task in stalled:
        task.next_escalation_at = min(task.created_at + STEP * (task.escalation_level + 1), now)
    return len(stalled)
