"""The coded result the quality reports count (TCM, FUH, care-plan needs; codes only), kept on
the task as a TaskCompleted subscriber (wired by engine.wiring)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.events import Registry, TaskCompleted
from engine.inbox.models import HumanTask
from engine.reports.outcomes import outcome_of


def task_completed(session: Session, event: TaskCompleted) -> None:
    task = session.get(HumanTask, event.task_id)
    if task is None:
        return
    covers = str(event.properties.get("coversScreenedNeeds")) in ("true", "True")
    task.outcome = outcome_of(event.bpmn_id, event.form, covers_needs=covers) or task.outcome


def subscribe(registry: Registry) -> None:
    registry.subscribe(TaskCompleted, task_completed)
