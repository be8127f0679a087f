"""Discharge follow-up through the persisted engine (crisis and risk routing:
test_crisis_routing.py).

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
from engine.errors import Invalid
from engine.inbox.models import HumanTask
from engine.instances import ProcessInstance
from engine.timers import Timer
from tests.factories import UserFactory

NEW_YORK = ZoneInfo("America/New_York")
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
