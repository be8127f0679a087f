"""Drafts as a TaskCompleted subscriber (wired by engine.wiring): once a task is completed its
submitted answers are in the record, so every draft of it goes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.drafts.services import on_task_completed
from engine.events import Registry, TaskCompleted
from engine.inbox.models import HumanTask


def task_completed(session: Session, event: TaskCompleted) -> None:
    task = session.get(HumanTask, event.task_id)
    if task is not None:
        on_task_completed(session, task)


def subscribe(registry: Registry) -> None:
    registry.subscribe(TaskCompleted, task_completed)
