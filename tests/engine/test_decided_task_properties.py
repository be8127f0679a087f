"""Task properties a decision table sets at run time (priorityVariable, dueInVariable,
laneVariable): the value named in task data wins; a missing or invalid one falls back to the
diagram's literal property, so a bad decision output never loses a task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engine.calendar import DEFAULT_SITE
from engine.instances import projections
from engine.workflow.runtime import ReadyTask

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DECIDING = {
    "priority": "routine",
    "priorityVariable": "routing.priority",
    "dueIn": "P1D",
    "dueInVariable": "routing.due",
    "laneVariable": "routing.lane",
}


def ready(routing: Any, **props: str) -> ReadyTask:
    return ReadyTask(
        id="t1",
        bpmn_id="consult",
        name="Consult",
        lane="SocialWorker",
        properties={**DECIDING, **props},
        variable=None,
        instructions=None,
        documentation=None,
        process_id="screening_response",
        data={"routing": routing},
    )


@pytest.fixture
def new_task(session: Session) -> Callable[[ReadyTask], Any]:
    # A stat or asap task asks the on-call rota (empty here) for its holder: a real session.
    def make(task: ReadyTask) -> Any:
        instance = SimpleNamespace(id=1, case_id=None)
        return projections._new_task(session, instance, None, task, NOW, DEFAULT_SITE)  # type: ignore[arg-type]

    return make


DECIDED = {"priority": "asap", "due": "PT4H", "lane": "Physician"}


def test_the_decided_priority_due_and_lane_win(new_task: Callable[[ReadyTask], Any]) -> None:
    row = new_task(ready(DECIDED))
    assert (row.priority, row.due_at, row.role, row.lane) == (
        "asap",
        NOW + timedelta(hours=4),
        "physician",
        "Physician",
    )


@pytest.mark.parametrize(
    "routing",
    [
        {},
        {"priority": "very high", "due": "soon", "lane": ""},
        {"priority": 3, "due": 15, "lane": None},
        "not a mapping",
    ],
)
def test_a_missing_or_invalid_decision_falls_back_to_the_diagram(
    routing: Any, new_task: Callable[[ReadyTask], Any]
) -> None:
    row = new_task(ready(routing))
    assert (row.priority, row.due_at, row.role) == (
        "routine",
        NOW + timedelta(days=1),
        "social_worker",
    )
