"""Drafts: one per task and person, sealed with a DraftCipher, audited by ids only.

A draft is the person's own: nobody else reads it, not even a supervisor. It goes when the
task completes (its answers are then in the record) or changes hands (the new holder is told
one existed through `HumanTask.draft_discarded_at`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.accounts.models import User
from engine.clock import Clock
from engine.drafts.crypto import DraftCipher
from engine.drafts.models import TaskDraft
from engine.errors import Conflict, Invalid, NotFound
from engine.inbox.models import HumanTask
from engine.inbox.permissions import require_can_work

# A form's answers are a few kilobytes; this keeps a runaway client from filling the table.
MAX_DRAFT_BYTES = 256 * 1024
# A draft's first save is audited, and then a save after a pause this long (a new sitting).
AUDIT_SAVES_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class Draft:
    data: dict[str, Any]
    saved_at: datetime


def _task(session: Session, task_id: int, actor: User, clock: Clock) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    if task.case_id is not None:
        access.require_case_read(session, user=actor, case_id=task.case_id, now=clock.now())
    return task


def _audit(
    session: Session, tag: audit.AuditTag, task: HumanTask, actor: User, now: datetime
) -> None:
    audit.record(
        session,
        tag,
        actor=audit.actor_of(actor),
        at=now,
        category="case_record",
        case_id=task.case_id,
        client_id=task.client_id,
        instance_id=task.instance_id,
        task_id=task.id,
        details={"bpmn_id": task.bpmn_id},
    )


def _row(session: Session, task_id: int, user_id: int) -> TaskDraft | None:
    return session.scalars(
        select(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_id == user_id)
    ).one_or_none()


def save_draft(
    session: Session,
    *,
    task_id: int,
    data: dict[str, Any],
    actor: User,
    clock: Clock,
    cipher: DraftCipher,
) -> Draft:
    """Keep the actor's unsent answers to an open task they may work (409 once it closed)."""
    task = _task(session, task_id, actor, clock)
    if task.status != "open":
        raise Conflict(
            f"This task is already {task.status}; its draft was not kept.", code="task_closed"
        )
    require_can_work(actor, task)
    sealed = cipher.seal(data)
    if len(sealed) > MAX_DRAFT_BYTES:
        raise Invalid("This draft is too large to keep.", code="draft_too_large")
    now = clock.now()
    row = _row(session, task.id, actor.id)
    if row is None:
        row = TaskDraft(task_id=task.id, user_id=actor.id, ciphertext=sealed, saved_at=now)
        session.add(row)
        audited = True
    else:
        # Autosave runs every few seconds: one audit row per stretch of work, not per save.
        audited = now - row.saved_at >= AUDIT_SAVES_EVERY
        row.ciphertext = sealed
        row.saved_at = now
    if audited:
        _audit(session, audit.AuditTag.DRAFT_SAVED, task, actor, now)
    return Draft(data, now)


def get_draft(
    session: Session, *, task_id: int, actor: User, clock: Clock, cipher: DraftCipher
) -> Draft:
    """The actor's draft of a task; NotFound when there is none (or it was sealed under a key
    this install no longer has)."""
    task = _task(session, task_id, actor, clock)
    row = _row(session, task.id, actor.id)
    data = cipher.open(row.ciphertext) if row is not None else None
    if row is None or data is None:
        raise NotFound("You have no draft of this task.", code="draft_not_found")
    _audit(session, audit.AuditTag.DRAFT_VIEWED, task, actor, clock.now())
    return Draft(data, row.saved_at)


def find_draft(
    session: Session, *, task_id: int, actor: User, clock: Clock, cipher: DraftCipher
) -> Draft | None:
    """get_draft for a page that shows a draft when there is one."""
    try:
        return get_draft(session, task_id=task_id, actor=actor, clock=clock, cipher=cipher)
    except NotFound:
        return None


def delete_draft(session: Session, *, task_id: int, actor: User, clock: Clock) -> bool:
    """Drop the actor's draft; False when there was none."""
    task = _task(session, task_id, actor, clock)
    row = _row(session, task.id, actor.id)
    if row is None:
        return False
    session.delete(row)
    _audit(session, audit.AuditTag.DRAFT_DELETED, task, actor, clock.now())
    return True


def on_task_completed(session: Session, task: HumanTask) -> None:
    """The submitted answers are in the record now: every draft of the task goes."""
    session.execute(delete(TaskDraft).where(TaskDraft.task_id == task.id))


def on_task_reassigned(session: Session, task: HumanTask, *, now: datetime) -> bool:
    """Drafts of anyone but the new holder go; the task remembers that one existed so its new
    holder is told to check with the previous one. True when a draft was dropped."""
    others = list(
        session.scalars(
            select(TaskDraft).where(
                TaskDraft.task_id == task.id, TaskDraft.user_id != task.assignee_id
            )
        )
    )
    for row in others:
        session.delete(row)
    if others:
        task.draft_discarded_at = now
    return bool(others)
