"""Who holds urgent work: the rota, then the safety nets; and the rota's gaps."""

from __future__ import annotations

from datetime import timedelta

from engine import oncall
from tests.engine.alarms.conftest import shift, stat_case
from tests.factories import AdminFactory, SupervisorFactory, UserFactory

HOUR = timedelta(hours=1)


def test_the_stat_task_goes_to_whoever_is_on_call_for_its_role(
    session, night, probe, primary, supervisor
):
    on_call = UserFactory(role_keys=("social_worker",))
    shift(session, on_call, "social_worker", night.now() - HOUR)
    _, task = stat_case(session, night, probe, primary)
    assert (task.assignee_id, task.assigned_by) == (on_call.id, "rota")


def test_of_two_on_call_the_one_whose_shift_started_first_holds_it(session, night):
    early, late = UserFactory(role_keys=("physician",)), UserFactory(role_keys=("physician",))
    shift(session, late, "physician", night.now() - HOUR)
    shift(session, early, "physician", night.now() - 2 * HOUR)
    assert oncall.pick_for_role(session, role="physician", at=night.now()).assignee_id == early.id


def test_a_shift_ends_exclusively(session, night, supervisor):
    worker = UserFactory(role_keys=("social_worker",))
    shift(session, worker, "social_worker", night.now() - 8 * HOUR, hours=8)
    pick = oncall.pick_for_role(session, role="social_worker", at=night.now())
    assert (pick.assignee_id, pick.how) == (supervisor.id, "fallback")


def test_a_shift_of_a_user_who_lost_the_role_does_not_count(session, night, supervisor):
    worker = UserFactory(role_keys=("social_worker",))
    shift(session, worker, "social_worker", night.now() - HOUR)
    worker.roles = []
    session.flush()
    assert oncall.pick_for_role(session, role="social_worker", at=night.now()).how == "fallback"


def test_with_nobody_of_the_role_the_supervisor_on_call_alone_is_told(session, night, supervisor):
    on_duty = SupervisorFactory()
    shift(session, on_duty, "supervisor", night.now() - HOUR)
    pick = oncall.pick_for_role(session, role="nurse", at=night.now())
    assert (pick.assignee_id, pick.alert_ids) == (on_duty.id, [on_duty.id])


def test_without_any_supervisor_an_admin_holds_it(session, night):
    admin = AdminFactory()
    pick = oncall.pick_for_role(session, role="nurse", at=night.now())
    assert (pick.assignee_id, pick.how) == (admin.id, "fallback")


def test_the_physician_rung_falls_back_to_every_physician_then_the_supervisors(
    session, night, supervisor
):
    assert oncall.pick_escalation_target(session, role="physician", at=night.now()).alert_ids == [
        supervisor.id
    ]
    first, second = UserFactory(role_keys=("physician",)), UserFactory(role_keys=("physician",))
    pick = oncall.pick_escalation_target(session, role="physician", at=night.now())
    assert (pick.assignee_id, pick.alert_ids) == (first.id, [first.id, second.id])
    shift(session, second, "physician", night.now() - HOUR)
    pick = oncall.pick_escalation_target(session, role="physician", at=night.now())
    assert (pick.assignee_id, pick.alert_ids) == (second.id, [second.id])


def test_gaps_are_the_uncovered_stretches_of_each_role(session, night):
    worker = UserFactory(role_keys=("social_worker",))
    start = night.now()
    shift(session, worker, "social_worker", start + 2 * HOUR, hours=4)
    shift(session, worker, "social_worker", start + 5 * HOUR, hours=4)  # overlaps the first
    gaps = oncall.gaps(session, roles=["social_worker"], start=start, end=start + 12 * HOUR)
    assert [(g.starts_at - start, g.ends_at - start) for g in gaps] == [
        (timedelta(0), 2 * HOUR),
        (9 * HOUR, 12 * HOUR),
    ]
