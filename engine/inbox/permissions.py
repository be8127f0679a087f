"""Who may work on, claim and hand over a task, and whether it can still be worked."""

from __future__ import annotations

from engine.accounts.models import User
from engine.errors import Conflict, Forbidden
from engine.inbox.models import HumanTask

MANAGERS = ("supervisor", "admin")


def require_open(task: HumanTask) -> None:
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.", code="task_closed")


def can_work(user: User, task: HumanTask) -> bool:
    in_role = task.role is not None and user.has_role(task.role)
    if task.assignee_id is not None:
        # A supervisor holding urgent work only as the safety net (nobody of the role was on
        # call) must not stop the first person of the role who arrives from doing it.
        return task.assignee_id == user.id or (task.assigned_by == "fallback" and in_role)
    return in_role


def require_can_work(user: User, task: HumanTask) -> None:
    if not can_work(user, task):
        if task.assignee_id is not None:
            raise Forbidden("This task is assigned to someone else.", code="not_assignee")
        raise Forbidden("This task belongs to another role's queue.", code="wrong_role")


def can_see(user: User, task: HumanTask) -> bool:
    return (
        can_work(user, task)
        or user.has_role(*MANAGERS)
        or (task.role is not None and user.has_role(task.role))
    )


def can_reassign(user: User, task: HumanTask) -> bool:
    """Managers hand over anyone's task; a worker may delegate a task they hold."""
    return user.has_role(*MANAGERS) or task.assignee_id == user.id
