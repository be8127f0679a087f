"""Reassigning several tasks at once, with one handoff note (supervisors and admins).

Per task, not all-or-nothing: a task someone completed or that the new holder's roles do not
fit is refused with its reason, and the others are handed over. A supervisor clearing an
absent worker's queue should not have to redo the whole selection for one closed task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.accounts.services import get_user
from engine.clock import Clock
from engine.errors import CareBridgeError, Forbidden, Invalid, NotFound
from engine.inbox.permissions import MANAGERS
from engine.inbox.services import MAX_HANDOFF_NOTE, assign_task

MAX_TASKS = 200
MAX_NOTE = MAX_HANDOFF_NOTE


@dataclass(frozen=True)
class Refusal:
    id: int
    code: str
    message: str


@dataclass
class BulkResult:
    assigned: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def bulk_assign(
    session: Session,
    *,
    task_ids: Sequence[int],
    username: str,
    note: str,
    actor: User,
    clock: Clock,
) -> BulkResult:
    if not actor.has_role(*MANAGERS):
        raise Forbidden(
            "Only supervisors and administrators reassign tasks in bulk.", code="role_required"
        )
    note = note.strip()
    if not note:
        raise Invalid(
            "Write a handoff note: the new holder needs to know where the work stands.",
            code="missing_note",
            details=[{"field": "note", "message": "Handoff note is required."}],
        )
    if len(note) > MAX_NOTE:
        raise Invalid(
            f"Keep the handoff note under {MAX_NOTE} characters.",
            code="note_too_long",
            details=[{"field": "note", "message": f"At most {MAX_NOTE} characters."}],
        )
    ids = list(dict.fromkeys(task_ids))
    if not ids or len(ids) > MAX_TASKS:
        raise Invalid(
            f"Select between 1 and {MAX_TASKS} tasks.",
            code="bad_selection",
            details=[{"field": "task_ids", "message": f"1 to {MAX_TASKS} task ids."}],
        )
    try:
        target = get_user(session, username)
    except NotFound:
        raise Invalid(
            f"There is no user named {username!r}.",
            code="user_not_found",
            details=[{"field": "user", "message": "Unknown user."}],
        ) from None
    if not target.active:
        raise Invalid(
            f"{username} is not an active user.",
            code="inactive_user",
            details=[{"field": "user", "message": "Inactive user."}],
        )
    result = BulkResult()
    for task_id in ids:
        try:
            # assign_task checks everything before it changes anything, so a refusal leaves
            # the task (and the transaction) as it was.
            assign_task(
                session, task_id=task_id, username=username, actor=actor, clock=clock, note=note
            )
        except CareBridgeError as exc:
            result.refused.append(Refusal(task_id, exc.code, exc.public_message))
        else:
            result.assigned.append(task_id)
    return result
