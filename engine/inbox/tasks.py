"""Reading one human task row: what the inbox's commands and the instance commands share
(whether it can still be worked is engine.inbox.permissions.require_open).

Kept here, with the projection's model, so that engine/instances uses the inbox and the inbox
never needs engine/instances (no cycle between the two packages)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.inbox.models import HumanTask

_TASK = select(HumanTask).where(HumanTask.id == bindparam("id"))
_TASK_FOR_UPDATE = _TASK.with_for_update().execution_options(populate_existing=True)


def get_task(session: Session, task_id: int, *, for_update: bool = False) -> HumanTask:
    if for_update:
        task = session.scalars(_TASK_FOR_UPDATE, {"id": task_id}).one_or_none()
    else:
        task = session.get(HumanTask, task_id)  # may come from the identity map
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    return task
