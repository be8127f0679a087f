"""Heat on a diagram: per element of one deployed definition, open tasks now and the
median wait of its recent tasks."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.definitions.models import ProcessDefinition
from engine.errors import NotFound
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.reports.stats import median, minutes

WINDOW = timedelta(days=30)


def definition_heat(session: Session, *, definition_id: int, now: datetime) -> dict[str, Any]:
    """{"<bpmn_id>": {"open": n, "median_wait_minutes": m}}. A task's wait is creation to
    completion, or to now while it is open; tasks open now or completed in the last 30 days
    count."""
    if session.get(ProcessDefinition, definition_id) is None:
        raise NotFound("No such process definition.", code="definition_not_found")
    since = now - WINDOW
    stmt = (
        select(HumanTask.bpmn_id, HumanTask.status, HumanTask.created_at, HumanTask.completed_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.definition_id == definition_id,
            or_(
                HumanTask.status == "open",
                and_(HumanTask.status == "completed", HumanTask.completed_at >= since),
            ),
        )
    )
    waits: dict[str, list[float]] = defaultdict(list)
    open_now: dict[str, int] = defaultdict(int)
    for bpmn_id, status, created, completed in session.execute(stmt):
        if status == "open":
            open_now[bpmn_id] += 1
            waits[bpmn_id].append(minutes(created, now))
        elif completed is not None:
            waits[bpmn_id].append(minutes(created, completed))
    return {
        bpmn_id: {"open": open_now.get(bpmn_id, 0), "median_wait_minutes": median(values)}
        for bpmn_id, values in sorted(waits.items())
    }
