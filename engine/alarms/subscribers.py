"""What the core's events mean for alarms, as subscribers of engine.events (wired at start-up
by engine.wiring; engine.instances never calls alarms):

* TaskCreated: a new stat task starts its ladder and alerts its holder at once;
* TaskCancelled: a task the workflow closed ends its ladder and closes its escalations;
* TaskCompleted: completing a task acknowledges it;
* StandaloneTaskCompleting: an escalation task (no workflow) is completed here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.alarms.acknowledgement import complete_escalation, on_completed
from engine.alarms.ladder import start, stop_for_closed
from engine.clock import FrozenClock
from engine.errors import NotFound
from engine.events import (
    Registry,
    StandaloneTaskCompleting,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
)
from engine.inbox.models import HumanTask


def _task(session: Session, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)  # the command's row: from the identity map
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    return task


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def task_created(session: Session, event: TaskCreated) -> None:
    if event.priority == "stat":  # the in-memory check first: most tasks start no ladder
        start(session, [_task(session, event.task_id)], now=event.at)


def task_cancelled(session: Session, event: TaskCancelled) -> None:
    stop_for_closed(session, [_task(session, event.task_id)], now=event.at)


def task_completed(session: Session, event: TaskCompleted) -> None:
    task = _task(session, event.task_id)
    on_completed(session, task, actor=_user(session, event.actor_id), now=event.at)


def standalone_task_completing(session: Session, event: StandaloneTaskCompleting) -> int | None:
    """An escalation task: complete it; the result names its original task's instance."""
    if event.kind != "escalation":
        return None
    done = complete_escalation(
        session,
        task_id=event.task_id,
        data=event.form,
        actor=_user(session, event.actor_id),
        clock=FrozenClock(event.at),
    )
    original = session.get(HumanTask, done.escalates_task_id) if done.escalates_task_id else None
    if original is None or original.instance_id is None:
        raise NotFound("The escalated task is gone.", code="task_not_found")
    return original.instance_id


def subscribe(registry: Registry) -> None:
    registry.subscribe(TaskCreated, task_created)
    registry.subscribe(TaskCancelled, task_cancelled)
    registry.subscribe(TaskCompleted, task_completed)
    registry.subscribe(StandaloneTaskCompleting, standalone_task_completing)
