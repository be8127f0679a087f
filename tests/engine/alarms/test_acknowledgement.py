"""Acknowledging a stat task: who may, what it ends, and completion as acknowledgement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import alarms, audit, instances
from engine.cases import team
from engine.errors import Conflict, Forbidden, Invalid
from engine.inbox.models import HumanTask
from tests.engine.alarms.conftest import alerts, stat_case, step_through
from tests.factories import NurseFactory, UserFactory

MINUTE = timedelta(minutes=1)


def escalations(session, task):
    return list(
        session.scalars(
            select(HumanTask).where(HumanTask.escalates_task_id == task.id).order_by(HumanTask.id)
        )
    )


@pytest.fixture
def escalated(session, night, probe, primary, supervisor):
    """A stat task left unacknowledged for 40 minutes: both rungs reached."""
    UserFactory(role_keys=("physician",))
    case, task = stat_case(session, night, probe, primary)
    step_through(session, night, night.now() + 40 * MINUTE, MINUTE)
    assert len(escalations(session, task)) == 2
    return case, task


def test_a_care_team_member_who_is_not_the_assignee_ends_the_chain(
    session, night, escalated, supervisor
):
    case, task = escalated
    nurse = NurseFactory()
    team.add_member(
        session,
        case_id=case.id,
        case_role="nurse",
        at=night.now(),
        added_by_id=None,
        user_id=nurse.id,
    )
    assert task.assignee_id != nurse.id
    alarms.acknowledge(session, task_id=task.id, actor=nurse, clock=night)
    assert (task.acknowledged_by_id, task.acknowledged_at) == (nurse.id, night.now())
    assert task.next_escalation_at is None
    closed = escalations(session, task)
    assert {(t.status, t.cancel_reason) for t in closed} == {("cancelled", "resolved")}
    before = len(alerts(session, task))
    assert step_through(session, night, night.now() + timedelta(hours=2), MINUTE) == 0
    assert len(alerts(session, task)) == before


def test_the_primary_social_worker_may_acknowledge(session, night, escalated, primary):
    _, task = escalated
    alarms.acknowledge(session, task_id=task.id, actor=primary, clock=night)
    assert task.acknowledged_by_id == primary.id


def test_anyone_holding_the_task_role_may_acknowledge(session, night, escalated):
    _, task = escalated
    colleague = UserFactory(role_keys=("social_worker",))
    alarms.acknowledge(session, task_id=task.id, actor=colleague, clock=night)
    assert task.acknowledged_by_id == colleague.id


def test_someone_outside_the_role_and_the_team_may_not(session, night, escalated):
    _, task = escalated
    with pytest.raises(Forbidden):
        alarms.acknowledge(session, task_id=task.id, actor=NurseFactory(), clock=night)
    assert task.acknowledged_at is None


def test_a_second_acknowledgement_returns_the_first(session, night, escalated, primary):
    _, task = escalated
    alarms.acknowledge(session, task_id=task.id, actor=primary, clock=night)
    first = task.acknowledged_at
    night.advance(minutes=2)
    again = alarms.acknowledge(
        session, task_id=task.id, actor=UserFactory(role_keys=("supervisor",)), clock=night
    )
    assert (again.acknowledged_by_id, again.acknowledged_at) == (primary.id, first)


def test_acknowledging_is_audited(session, night, escalated, primary):
    _, task = escalated
    alarms.acknowledge(session, task_id=task.id, actor=primary, clock=night)
    session.flush()
    actions = [e.action for e in audit.events_for_case(session, task.case_id, limit=200)]
    assert "case:task:acknowledged" in actions
    assert "case:task:escalation_closed" in actions


def test_a_closed_task_cannot_be_acknowledged(session, night, escalated, primary):
    _, task = escalated
    instances.complete_task(session, task_id=task.id, data={}, actor=task.assignee, clock=night)
    with pytest.raises(Conflict):
        alarms.acknowledge(session, task_id=task.id, actor=primary, clock=night)


def test_completing_the_task_acknowledges_it_and_closes_the_escalations(
    session, night, escalated, primary
):
    _, task = escalated
    instances.complete_task(session, task_id=task.id, data={}, actor=primary, clock=night)
    assert (task.status, task.acknowledged_by_id) == ("completed", primary.id)
    assert {(t.status, t.cancel_reason) for t in escalations(session, task)} == {
        ("cancelled", "resolved")
    }


def test_acknowledging_an_escalation_task_acknowledges_the_task_it_escalates(
    session, night, escalated, supervisor
):
    _, task = escalated
    supervisor_task, physician_task = escalations(session, task)
    alarms.acknowledge(session, task_id=supervisor_task.id, actor=supervisor, clock=night)
    assert task.acknowledged_by_id == supervisor.id
    assert physician_task.cancel_reason == "resolved"
    assert supervisor_task.acknowledged_by_id == supervisor.id


def test_an_escalation_task_completes_through_the_usual_command(
    session, night, escalated, supervisor
):
    _, task = escalated
    supervisor_task, physician_task = escalations(session, task)
    result = instances.complete_task(
        session,
        task_id=supervisor_task.id,
        data={"action": "reached_assignee"},
        actor=supervisor,
        clock=night,
    )
    assert result.instance.id == task.instance_id
    assert (supervisor_task.status, supervisor_task.outcome) == (
        "completed",
        {"action": "reached_assignee"},
    )
    assert task.acknowledged_by_id == supervisor.id
    assert task.status == "open"
    assert (physician_task.status, physician_task.cancel_reason) == ("cancelled", "resolved")


def test_an_escalation_form_needs_its_action(session, night, escalated, supervisor):
    _, task = escalated
    supervisor_task, _ = escalations(session, task)
    with pytest.raises(Invalid) as err:
        instances.complete_task(
            session,
            task_id=supervisor_task.id,
            data={"action": "other"},
            actor=supervisor,
            clock=night,
        )
    assert [d["field"] for d in err.value.details] == ["note"]
