"""Crisis intervention, risk routing and discharge follow-up through the persisted engine.

Time is a FrozenClock; timers fire the way the scheduler fires them (claim, then fire), so
every due time asserted here is the one a real deployment would see in the inbox.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import demo, instances, timers
from engine.errors import Forbidden, Invalid
from engine.instances import ProcessInstance
from engine.timers import Timer
from tests.factories import UserFactory

NEW_YORK = ZoneInfo("America/New_York")
ACKNOWLEDGE = {"response": "at_bedside"}
ESCALATION = {"action": "reached_worker", "client_safe": True}
UNREACHED = {
    "attempted_at": "2026-11-30T10:00:00-05:00",
    "method": "phone",
    "outcome": "unreachable",
    "unreachable_reason": "no_answer",
}
REACHED = {
    "attempted_at": "2026-11-30T10:00:00-05:00",
    "method": "phone",
    "outcome": "reached",
    "topics_covered": ["medications", "appointments"],
}
PHQ9_ITEM9_ONLY = {f"q{i}": 0 for i in range(1, 10)} | {"q9": 1}  # total 1: "minimal"
CSSRS_MODERATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}


@pytest.fixture
def on_call():
    return UserFactory(role_keys=("social_worker",), on_call=True)


def fire_due(drive) -> list[bool]:
    claimed = timers.claim_due_timers(drive.session, owner="test", now=drive.clock.now())
    return [
        timers.fire(drive.session, timer_id=t, clock=drive.clock, site=drive.site) for t in claimed
    ]


def assess(drive, case, **screens) -> instances.CommandResult:
    drive.complete(case, "intake")
    return drive.complete(case, "assessment", demo.assessment(**screens))


def crisis_case(drive):
    case = drive.open_case()
    assess(drive, case, cssrs=demo.CSSRS_HIGH)
    return case


def timer_statuses(session, case, *bpmn_ids: str) -> list[str]:
    return list(
        session.scalars(
            select(Timer.status)
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.case_id == case.id, Timer.bpmn_id.in_(bpmn_ids))
        )
    )


# --- crisis ------------------------------------------------------------------------------


def test_high_risk_screen_alerts_the_on_call_worker_in_the_same_command(drive, on_call):
    case = drive.open_case()
    result = assess(drive, case, cssrs=demo.CSSRS_HIGH)
    created = {t.bpmn_id: t for t in result.created_tasks}
    assert set(created) == {"acknowledge_crisis", "safety_precautions"}
    alert = created["acknowledge_crisis"]
    assert (alert.role, alert.assignee_id, alert.priority) == ("social_worker", on_call.id, "stat")
    assert alert.due_at == drive.clock.now() + timedelta(minutes=15)
    assert alert.process_key == "crisis_intervention"


def test_safety_precautions_go_to_the_nurse_queue_at_stat(drive, on_call):
    precautions = drive.open_tasks(crisis_case(drive))["safety_precautions"]
    assert (precautions.role, precautions.assignee_id, precautions.priority) == (
        "nurse",
        None,
        "stat",
    )


def test_without_anyone_on_call_the_alert_stays_with_the_primary_worker(drive):
    alert = drive.open_tasks(crisis_case(drive))["acknowledge_crisis"]
    assert alert.assignee_id == drive.team.worker.id


def test_only_the_on_call_worker_may_acknowledge(drive, on_call):
    case = crisis_case(drive)
    with pytest.raises(Forbidden):
        drive.complete(case, "acknowledge_crisis", ACKNOWLEDGE, actor=drive.team.worker)


def test_phq9_item9_with_a_minimal_total_starts_the_crisis(drive, on_call):
    case = drive.open_case()
    assess(drive, case, phq2={"q1": 0, "q2": 0}, phq9=PHQ9_ITEM9_ONLY)
    tasks = drive.open_tasks(case)
    assert set(tasks) == {"acknowledge_crisis", "safety_precautions"}
    assert tasks["acknowledge_crisis"].assignee_id == on_call.id


def test_moderate_risk_gets_an_urgent_safety_plan_and_no_stat_task(drive, on_call):
    case = drive.open_case()
    result = assess(drive, case, cssrs=CSSRS_MODERATE)
    tasks = drive.open_tasks(case)
    assert set(tasks) == {"safety_plan"}
    assert tasks["safety_plan"].priority == "urgent"
    assert tasks["safety_plan"].due_at == drive.clock.now() + timedelta(hours=8)
    assert all(t.priority != "stat" for t in result.created_tasks)
    drive.complete(case, "safety_plan", demo.SAFETY_PLAN)
    assert set(drive.open_tasks(case)) == {"care_plan"}


def test_the_safety_plan_form_is_validated(drive):
    case = drive.open_case()
    assess(drive, case, cssrs=CSSRS_MODERATE)
    with pytest.raises(Invalid) as err:
        drive.complete(case, "safety_plan", {"plan_status": "completed"})
    assert {"warning_signs", "making_environment_safe"} <= {d["field"] for d in err.value.details}


def test_no_escalation_timer_fires_before_15_minutes(drive, on_call):
    crisis_case(drive)
    drive.clock.advance(minutes=14, seconds=59)
    assert fire_due(drive) == []


def test_unacknowledged_alert_escalates_to_the_supervisor_after_15_minutes(drive, on_call):
    case = crisis_case(drive)
    drive.clock.advance(minutes=15, seconds=1)
    assert fire_due(drive) == [True]
    tasks = drive.open_tasks(case)
    escalation = tasks["crisis_not_acknowledged"]
    assert (escalation.role, escalation.priority) == ("supervisor", "stat")
    assert escalation.due_at == drive.clock.now() + timedelta(minutes=15)
    assert "acknowledge_crisis" in tasks


def test_still_unacknowledged_after_30_minutes_notifies_the_physician(drive, on_call):
    case = crisis_case(drive)
    drive.clock.advance(minutes=15, seconds=1)
    fire_due(drive)
    drive.clock.advance(minutes=15)
    assert fire_due(drive) == [True]
    tasks = drive.open_tasks(case)
    assert tasks["crisis_physician_escalation"].role == "physician"
    assert tasks["crisis_physician_escalation"].priority == "stat"
    assert {"acknowledge_crisis", "crisis_not_acknowledged"} <= set(tasks)


def test_acknowledging_in_time_cancels_the_escalation(drive, on_call, session):
    case = crisis_case(drive)
    drive.clock.advance(minutes=10)
    drive.complete(case, "acknowledge_crisis", ACKNOWLEDGE, actor=on_call)
    # The called process runs inside the pathway's instance: its timers are the pathway's.
    statuses = timer_statuses(
        session, case, "acknowledgement_overdue", "acknowledgement_still_overdue"
    )
    assert statuses == ["cancelled", "cancelled"]
    drive.clock.advance(hours=1)
    assert fire_due(drive) == []
    assert set(drive.open_tasks(case)) == {"crisis_response", "safety_precautions"}


def test_crisis_runs_through_to_care_planning(drive, on_call):
    case = crisis_case(drive)
    drive.clock.advance(minutes=5)
    drive.complete(case, "acknowledge_crisis", ACKNOWLEDGE, actor=on_call)
    drive.complete(case, "safety_precautions")
    assert drive.open_tasks(case)["crisis_response"].assignee_id == on_call.id
    drive.complete(case, "crisis_response", actor=on_call)
    # The safety plan goes back to the case's own worker, who knows the client.
    assert drive.open_tasks(case)["crisis_safety_plan"].assignee_id == drive.team.worker.id
    drive.complete(case, "crisis_safety_plan")
    assert set(drive.open_tasks(case)) == {"care_plan"}


def test_escalation_tasks_can_be_worked_by_their_roles(drive, on_call):
    physician = UserFactory(role_keys=("physician",))
    case = crisis_case(drive)
    drive.clock.advance(minutes=31)
    # One firing catches up with both due timers; the second claim finds nothing left to do.
    assert fire_due(drive) == [True, False]
    drive.complete(case, "crisis_not_acknowledged", ESCALATION)
    drive.complete(case, "crisis_physician_escalation", ESCALATION, actor=physician)
    assert {"crisis_not_acknowledged", "crisis_physician_escalation"}.isdisjoint(
        drive.open_tasks(case)
    )
