"""The alarm ladder of a stat task, generically (a one-task diagram), on a FrozenClock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import alarms, cases, demo
from engine.inbox.models import HumanTask
from tests.engine.alarms.conftest import alerts, stat_case, step_through
from tests.factories import UserFactory, client_payload

MINUTE = timedelta(minutes=1)


def escalation_tasks(session, task):
    return list(
        session.scalars(
            select(HumanTask).where(HumanTask.escalates_task_id == task.id).order_by(HumanTask.id)
        )
    )


def test_holiday_3am_with_an_empty_rota_the_stat_task_has_a_holder_at_once(
    session, night, probe, primary, supervisor
):
    _, task = stat_case(session, night, probe, primary)
    assert task.assignee_id == supervisor.id
    assert task.assigned_by == "fallback"
    # The holder is told in the same transaction: one row per channel.
    assert {(n.kind, n.channel, n.recipient_user_id) for n in alerts(session, task)} == {
        ("fallback", "email", supervisor.id),
        ("fallback", "webhook", supervisor.id),
    }


def test_nobody_on_call_alerts_every_active_supervisor_and_the_first_holds_it(
    session, night, probe, primary, supervisor
):
    second = UserFactory(role_keys=("supervisor",))
    UserFactory(role_keys=("supervisor",), active=False)
    _, task = stat_case(session, night, probe, primary)
    assert task.assignee_id == supervisor.id
    assert {n.recipient_user_id for n in alerts(session, task)} == {supervisor.id, second.id}


def test_nothing_is_raised_before_15_minutes(session, night, probe, primary, supervisor):
    _, task = stat_case(session, night, probe, primary)
    assert (
        step_through(
            session,
            night,
            night.now() + 14 * MINUTE + timedelta(seconds=59),
            timedelta(seconds=1) * 59,
        )
        == 0
    )
    assert escalation_tasks(session, task) == []


def test_at_15_minutes_the_supervisor_gets_an_escalation_task(
    session, night, probe, primary, supervisor
):
    _, task = stat_case(session, night, probe, primary)
    step_through(session, night, night.now() + 15 * MINUTE, MINUTE)
    [escalation] = escalation_tasks(session, task)
    assert (escalation.kind, escalation.role, escalation.priority) == (
        "escalation",
        "supervisor",
        "stat",
    )
    assert escalation.assignee_id == supervisor.id
    assert escalation.due_at == night.now()
    assert escalation.case_id == task.case_id
    assert task.name in escalation.name
    assert escalation.instance_id is None


def test_at_30_minutes_the_physician_gets_one_too(session, night, probe, primary, supervisor):
    physician = UserFactory(role_keys=("physician",))
    _, task = stat_case(session, night, probe, primary)
    step_through(session, night, night.now() + 30 * MINUTE, MINUTE)
    roles = [(t.role, t.assignee_id) for t in escalation_tasks(session, task)]
    assert roles == [("supervisor", supervisor.id), ("physician", physician.id)]


def test_alerts_keep_coming_every_15_minutes_for_12_hours(
    session, night, probe, primary, supervisor
):
    physician = UserFactory(role_keys=("physician",))
    _, task = stat_case(session, night, probe, primary)
    step_through(session, night, night.now() + timedelta(hours=12), MINUTE)
    # 15 min: supervisor; 30 min: physician; then 45, 60, … 720: both (46 rounds).
    assert len(alerts(session, task, "escalation")) == 2 * 2  # two rungs × two channels
    re_alerts = alerts(session, task, "re_alert")
    assert len(re_alerts) == 46 * 2 * 2  # rounds × (supervisor + physician) × channels
    assert {n.recipient_user_id for n in re_alerts} == {supervisor.id, physician.id}
    times = sorted({n.created_at for n in re_alerts})
    assert times[0] - task.created_at == 45 * MINUTE
    assert {b - a for a, b in zip(times, times[1:], strict=False)} == {15 * MINUTE}
    assert task.escalation_level == 48
    assert task.acknowledged_at is None
    assert len(escalation_tasks(session, task)) == 2


def test_a_scheduler_that_was_down_catches_up_in_one_step(
    session, night, probe, primary, supervisor
):
    _, task = stat_case(session, night, probe, primary)
    night.advance(minutes=50)
    assert alarms.due(session, now=night.now()) == [task.id]
    assert alarms.escalate(session, task_id=task.id, now=night.now()) is True
    assert [t.role for t in escalation_tasks(session, task)] == ["supervisor", "physician"]
    assert alerts(session, task, "re_alert") == []
    assert task.next_escalation_at == task.created_at + 60 * MINUTE


def test_a_step_already_taken_is_not_taken_again(session, night, probe, primary, supervisor):
    _, task = stat_case(session, night, probe, primary)
    night.advance(minutes=15)
    assert alarms.escalate(session, task_id=task.id, now=night.now()) is True
    # A second scheduler that listed the task before the first took the step:
    assert alarms.escalate(session, task_id=task.id, now=night.now()) is False
    assert len(escalation_tasks(session, task)) == 1


def test_a_task_that_is_not_stat_has_no_ladder_and_no_alert(session, night, primary, supervisor):
    case, result = cases.open_case(
        session, client=client_payload(), reason="Falls", actor=primary, clock=night
    )
    [intake] = result.created_tasks
    assert intake.priority != "stat"
    assert intake.next_escalation_at is None
    assert alerts(session, intake) == []


def test_a_high_risk_screen_at_3am_on_a_holiday_puts_every_stat_task_before_a_person(drive, night):
    case = drive.open_case()
    drive.complete(case, "intake")
    result = drive.complete(case, "assessment", demo.assessment(cssrs=demo.CSSRS_HIGH))
    stat = [t for t in result.created_tasks if t.priority == "stat"]
    assert stat
    assert all(t.assignee_id == drive.team.supervisor.id for t in stat)
    assert all(t.next_escalation_at == night.now() + 15 * MINUTE for t in stat)
    for t in stat:
        assert {n.channel for n in alerts(drive.session, t)} == {"email", "webhook"}


def test_a_stat_task_without_a_ladder_gets_one_back(session, night, probe, primary, supervisor):
    _, task = stat_case(session, night, probe, primary)
    task.next_escalation_at = None  # as a task created before the ladder existed
    night.advance(hours=2)
    assert alarms.resume(session, now=night.now()) == 1
    assert alarms.due(session, now=night.now()) == [task.id]
    alarms.escalate(session, task_id=task.id, now=night.now())
    assert [t.role for t in escalation_tasks(session, task)] == ["supervisor", "physician"]
