"""Crisis intervention, risk routing and discharge follow-up through the persisted engine.

Time is a FrozenClock; timers fire the way the scheduler fires them (claim, then fire), so
every due time asserted here is the one a real deployment would see in the inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import demo, instances, timers
from engine.cases.models import Case
from engine.errors import Forbidden, Invalid
from engine.inbox.models import HumanTask
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
        instances.fire_timer(drive.session, timer_id=t, clock=drive.clock, site=drive.site)
        for t in claimed
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


# --- discharge ---------------------------------------------------------------------------


def discharge(drive, case, when: datetime) -> list[instances.CommandResult]:
    drive.clock.set(when)
    return instances.deliver_message(
        drive.session,
        name="discharge",
        case_id=case.id,
        payload={"discharged_at": when.isoformat()},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("discharged", "due"),
    [
        # Friday after Thanksgiving: the weekend does not count -> Tuesday, same local time.
        (local(2026, 11, 27, 10, 30), local(2026, 12, 1, 10, 30)),
        # Wednesday before Christmas: Thursday counts, Christmas and the weekend do not.
        (local(2026, 12, 23, 16, 0), local(2026, 12, 28, 16, 0)),
        (local(2026, 3, 2, 9, 0), local(2026, 3, 4, 9, 0)),
    ],
)
def test_discharge_opens_the_tcm_contact_due_in_2_business_days(drive, discharged, due):
    case = drive.open_case()
    [result] = discharge(drive, case, discharged)
    assert result.instance.definition.process_key == "discharge_followup"
    [contact] = result.created_tasks
    assert contact.bpmn_id == "tcm_first_attempt"
    assert (contact.role, contact.assignee_id, contact.priority) == (
        "social_worker",
        drive.team.worker.id,
        "urgent",
    )
    assert contact.due_at == due.astimezone(UTC)


def test_the_deadline_timer_matches_the_contact_due_time(drive, session):
    case = drive.open_case()
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == result.instance.id)).all()
    assert (timer.bpmn_id, timer.status) == ("tcm_deadline", "waiting")
    assert timer.due_at == local(2026, 12, 1, 10, 30).astimezone(UTC)


def test_discharge_starts_follow_up_beside_a_running_pathway(drive, session):
    case = drive.open_case()
    [result] = discharge(drive, case, local(2026, 3, 2, 9, 0))
    keys = {
        i.definition.process_key
        for i in session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
    }
    assert keys == {"care_pathway", "discharge_followup"}
    assert "intake" in drive.open_tasks(case)


def test_two_unreachable_attempts_then_unable_to_reach(drive):
    case = drive.open_case()
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    retry = drive.complete(case, "tcm_first_attempt", UNREACHED)
    [second] = retry.created_tasks
    assert second.bpmn_id == "tcm_retry"
    assert second.due_at == drive.clock.now() + timedelta(hours=4)
    drive.clock.set(local(2026, 11, 30, 15, 0))
    drive.complete(
        case,
        "tcm_retry",
        {**UNREACHED, "attempted_at": "2026-11-30T15:00:00-05:00", "record_unable_to_reach": True},
    )
    attempts = [
        t
        for t in drive.session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == result.instance.id)
            .order_by(HumanTask.id)
        )
        if t.status == "completed"
    ]
    assert [t.bpmn_id for t in attempts] == ["tcm_first_attempt", "tcm_retry"]
    assert result.instance.status == "completed"


def test_unable_to_reach_cannot_be_recorded_at_the_first_attempt(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    with pytest.raises(Invalid) as err:
        drive.complete(case, "tcm_first_attempt", {**UNREACHED, "record_unable_to_reach": True})
    assert err.value.details
    assert "tcm_first_attempt" in drive.open_tasks(case)


def test_supervisor_is_alerted_when_the_deadline_passes(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 12, 1, 10, 29))
    assert fire_due(drive) == []
    drive.clock.set(local(2026, 12, 1, 10, 30, 1))
    assert fire_due(drive) == [True]
    tasks = drive.open_tasks(case)
    review = tasks["tcm_overdue_review"]
    assert (review.role, review.priority) == ("supervisor", "asap")
    assert "tcm_first_attempt" in tasks


def test_contact_in_time_means_no_supervisor_alert(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    drive.complete(case, "tcm_first_attempt", REACHED)
    drive.clock.set(local(2026, 12, 2, 9, 0))
    assert fire_due(drive) == []
    assert "tcm_overdue_review" not in drive.open_tasks(case)


@pytest.mark.parametrize(("flagged", "expected"), [(True, True), (False, False)])
def test_mental_health_follow_up_only_for_a_behavioural_health_case(drive, flagged, expected):
    case = drive.open_case()
    if flagged:
        case.flags = {"behavioral_health": True}
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    created = {t.bpmn_id: t for t in result.created_tasks}
    assert ("mh_followup_check" in created) is expected
    if expected:
        check = created["mh_followup_check"]
        assert (check.role, check.priority) == ("social_worker", "urgent")
        assert check.due_at == drive.clock.now() + timedelta(days=7)


def test_a_positive_screen_flags_the_case_for_mental_health_follow_up(drive, on_call, session):
    case = crisis_case(drive)
    session.refresh(case)
    assert case.flags.get("behavioral_health") is True
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    assert "mh_followup_check" in {t.bpmn_id for t in result.created_tasks}


def test_do_not_contact_case_gets_no_outreach_task(drive, session):
    case = drive.open_case()
    session.get(Case, case.id).client.do_not_contact = True
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    assert [t.bpmn_id for t in result.created_tasks] == ["tcm_safe_contact"]
    assert result.created_tasks[0].due_at == local(2026, 12, 1, 10, 30).astimezone(UTC)
