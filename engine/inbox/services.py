"""Claim, release and assign: the inbox's own commands (audited, never touching workflow state)."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from engine import audit, drafts
from engine.accounts.models import User
from engine.accounts.services import get_user
from engine.caseload.services import record_task_handoff
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.inbox import permissions
from engine.inbox.models import HumanTask
from engine.inbox.permissions import require_open
from engine.inbox.tasks import get_task


def _audit(
    session: Session,
    tag: audit.AuditTag,
    task: HumanTask,
    actor: User,
    clock: Clock,
    **details: object,
) -> None:
    audit.record(
        session,
        tag,
        actor=audit.actor_of(actor),
        at=clock.now(),
        case_id=task.case_id,
        client_id=task.client_id,
        instance_id=task.instance_id,
        task_id=task.id,
        details={"bpmn_id": task.bpmn_id, **details},
    )


# The usual claim (an open, unclaimed task of one of the actor's roles) as one conditional
# UPDATE: it locks, checks and writes in a single round trip. When it matches nothing, the
# careful path below finds out why (gone, closed, taken, another role, or already ours).
_CLAIM = (
    update(HumanTask)
    .where(
        HumanTask.id == bindparam("task_id"),
        HumanTask.status == "open",
        HumanTask.assignee_id.is_(None),
        HumanTask.role.in_(bindparam("roles", expanding=True)),
    )
    .values(assignee_id=bindparam("actor_id"), claimed_at=bindparam("now"))
    .returning(HumanTask)
    .execution_options(populate_existing=True, synchronize_session=False)
)


def claim_task(session: Session, *, task_id: int, actor: User, clock: Clock) -> HumanTask:
    roles = sorted(actor.role_keys)
    if roles:
        claimed = session.scalars(
            _CLAIM, {"task_id": task_id, "roles": roles, "actor_id": actor.id, "now": clock.now()}
        ).one_or_none()
        if claimed is not None:
            _audit(session, audit.AuditTag.TASK_CLAIMED, claimed, actor, clock)
            return claimed
    task = get_task(session, task_id, for_update=True)
    require_open(task)
    if task.assignee_id == actor.id:
        return task
    if task.assignee_id is not None:
        raise Conflict("Someone else has already claimed this task.", code="already_claimed")
    if task.role is None or not actor.has_role(task.role):
        raise Forbidden("This task belongs to another role's queue.", code="wrong_role")
    task.assignee_id = actor.id
    task.claimed_at = clock.now()
    _audit(session, audit.AuditTag.TASK_CLAIMED, task, actor, clock)
    return task


def release_task(session: Session, *, task_id: int, actor: User, clock: Clock) -> HumanTask:
    task = get_task(session, task_id, for_update=True)
    require_open(task)
    if task.assignee_id is None:
        return task
    if task.assignee_id != actor.id and not actor.has_role(*permissions.MANAGERS):
        raise Forbidden(
            "Only the holder or a supervisor can release this task.", code="not_assignee"
        )
    previous = task.assignee_id
    task.assignee_id = None
    task.claimed_at = None
    _audit(session, audit.AuditTag.TASK_RELEASED, task, actor, clock, previous_assignee_id=previous)
    return task


# Handoff notes are kept short: they are read at a glance on the task and the case.
MAX_HANDOFF_NOTE = 2000


def assign_task(
    session: Session,
    *,
    task_id: int,
    username: str,
    actor: User,
    clock: Clock,
    note: str | None = None,
) -> HumanTask:
    """Hand a task to someone else, with an optional handoff note kept on the task and in the
    case's handoff history; the audit row says a note exists, never its text."""
    if note is not None and len(note) > MAX_HANDOFF_NOTE:
        raise Invalid(
            f"Keep the handoff note under {MAX_HANDOFF_NOTE} characters.",
            code="note_too_long",
            details=[{"field": "note", "message": f"At most {MAX_HANDOFF_NOTE} characters."}],
        )
    task = get_task(session, task_id, for_update=True)
    require_open(task)
    if not permissions.can_reassign(actor, task):
        raise Forbidden(
            "Only supervisors and administrators reassign other people's tasks.",
            code="cannot_reassign",
        )
    target = get_user(session, username)
    if not target.active:
        raise Invalid(
            f"{username} is not an active user.",
            code="inactive_user",
            details=[{"field": "user", "message": "Inactive user."}],
        )
    if task.role is not None and not target.has_role(task.role):
        raise Invalid(
            f"{username} does not have the role {task.role}.",
            code="assignee_lacks_role",
            details=[{"field": "user", "message": f"Needs the role {task.role}."}],
        )
    previous = task.assignee_id
    task.assignee_id = target.id
    task.claimed_at = clock.now()
    dropped = drafts.on_task_reassigned(session, task, now=clock.now())
    _audit(
        session,
        audit.AuditTag.TASK_ASSIGNED,
        task,
        actor,
        clock,
        previous_assignee_id=previous,
        assignee_id=target.id,
        draft_discarded=dropped,
        handoff_note=bool(note),
    )
    record_task_handoff(
        session, task=task, previous_id=previous, note=note, actor=actor, at=clock.now()
    )
    return task
