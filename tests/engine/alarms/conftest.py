"""A deployed one-task diagram whose task is stat (the ladder is generic: any diagram), a
case on it, and helpers that move the clock the way the scheduler would."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import alarms, audit, cases, definitions, oncall
from engine.accounts.models import User
from engine.clock import FrozenClock
from engine.inbox.models import HumanTask
from engine.notifications import Notification
from tests.factories import SupervisorFactory, UserFactory, client_payload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn"
NEW_YORK = ZoneInfo("America/New_York")
# Christmas Day, 03:00 in New York: a public holiday in the middle of the night.
HOLIDAY_3AM = datetime(2026, 12, 25, 3, 0, tzinfo=NEW_YORK)


@pytest.fixture
def night(clock: FrozenClock) -> FrozenClock:
    clock.set(HOLIDAY_3AM)
    return clock


def deploy_probe(session: Session) -> str:
    name = "stat_probe.bpmn"
    [deployed] = definitions.deploy(
        session, {name: (FIXTURES / name).read_bytes()}, now=datetime(2026, 1, 1, tzinfo=NEW_YORK)
    )
    return deployed.definition.process_key


@pytest.fixture
def probe(session: Session) -> str:
    return deploy_probe(session)


@pytest.fixture
def primary(session: Session) -> User:
    return UserFactory(role_keys=("social_worker",))


def stat_case(
    session: Session, clock: FrozenClock, key: str, worker: User
) -> tuple[cases.Case, HumanTask]:
    """A case whose pathway is the probe: its one task is stat and ready at once."""
    case, result = cases.open_case(
        session,
        client=client_payload(),
        reason="Low mood after a stroke",
        actor=worker,
        clock=clock,
        pathway=key,
    )
    [task] = result.created_tasks
    return case, task


def step_through(session: Session, clock: FrozenClock, until: datetime, every: timedelta) -> int:
    """Advance the clock in steps, taking due escalations as the scheduler would."""
    raised = 0
    while clock.now() + every <= until:
        clock.advance(every)
        for task_id in alarms.due(session, now=clock.now()):
            raised += alarms.escalate(session, task_id=task_id, now=clock.now())
    return raised


def alerts(session: Session, task: HumanTask, kind: str | None = None) -> list[Notification]:
    """The outbox rows about a task and its escalation tasks."""
    ids = [task.id] + list(
        session.scalars(select(HumanTask.id).where(HumanTask.escalates_task_id == task.id))
    )
    stmt = select(Notification).where(Notification.task_id.in_(ids))
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt.order_by(Notification.id)))


def shift(session: Session, user: User, role: str, start: datetime, hours: float = 8) -> None:
    oncall.add_shift(
        session,
        data=oncall.ShiftInput(
            role=role,
            user=user.username,
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(hours=hours)).isoformat(),
        ),
        actor=audit.SYSTEM,
        at=start,
    )


@pytest.fixture
def supervisor(session: Session) -> User:
    return SupervisorFactory()
