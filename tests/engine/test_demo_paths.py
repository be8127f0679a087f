"""Each demo client driven along its path with a frozen clock: every task lands in the right
role's queue (or with the right person) with the right due time and priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import demo, inbox
from engine.accounts.models import User
from engine.cases.models import Case, Client
from engine.clock import FrozenClock

NY = ZoneInfo("America/New_York")
# Sunday 29 Nov 2026, 10:00 New York: the Wednesday before lies before Thanksgiving.
NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


@pytest.fixture
def demo_world(session, site):
    demo.seed_users(session, password="demo-pass-123")
    clock = FrozenClock(NOW)
    assert demo.run_demo(session, clock=clock, site=site, echo=lambda _line: None)
    return clock


def _open(session, mrn):
    client = session.scalar(select(Client).where(Client.mrn == mrn))
    case_id = session.scalar(select(Case.id).where(Case.client_id == client.id))
    return {t.bpmn_id: t for t in inbox.tasks_for_case(session, case_id) if t.status == "open"}


def _user(session, task):
    return session.get(User, task.assignee_id).username if task.assignee_id else None


def test_crisis_client_gets_a_stat_crisis_response_for_the_on_call_worker(session, demo_world):
    tasks = _open(session, "DEMO-0002")
    response = tasks["crisis_response"]
    assert (response.priority, response.role, _user(session, response)) == (
        "stat",
        "social_worker",
        "alex",
    )
    assert response.due_at - response.created_at == timedelta(minutes=15)
    # No nurse on call in the demo: the supervisor holds the stat task as the safety net.
    precautions = tasks["safety_precautions"]
    assert (precautions.role, _user(session, precautions)) == ("nurse", "morgan")


def test_overdue_client_gives_the_supervisor_a_review(session, demo_world):
    tasks = _open(session, "DEMO-0003")
    assert tasks["assessment"].due_at < NOW
    review = tasks["review_overdue_assessment"]
    assert (review.role, review.assignee_id) == ("supervisor", None)


def test_discharge_around_thanksgiving_is_due_after_the_holiday(session, demo_world):
    task = _open(session, "DEMO-0004")["tcm_first_attempt"]
    created = task.created_at.astimezone(NY)
    assert (created.date().isoformat(), created.hour) == ("2026-11-25", 10)
    # Wed 25 Nov + 2 business days, Thanksgiving (Thu 26) excluded: Fri 27, Mon 30, at the
    # end of the business day.
    due = task.due_at.astimezone(NY)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-11-30", 17, 0)


def test_discharged_client_has_no_bedside_assessment_left(session, demo_world):
    tasks = _open(session, "DEMO-0004")
    assert "assessment" not in tasks
    assert tasks["phone_assessment"].role == "social_worker"
    assert _user(session, tasks["discharge_notice"]) == "alex"


def test_unreachable_client_has_two_attempts_and_a_third_open(session, demo_world):
    tasks = _open(session, "DEMO-0005")
    assert tasks["tcm_retry"].role == "social_worker"
    assert {"fuh_7_check", "fuh_30_check"} <= set(tasks)


def test_do_not_contact_client_is_flagged_and_gets_no_outreach_task(session, demo_world):
    client = session.scalar(select(Client).where(Client.mrn == "DEMO-0006"))
    assert client.do_not_contact is True
    tasks = _open(session, "DEMO-0006")
    assert not {"contact_check", "tcm_first_attempt", "tcm_retry"} & set(tasks)
    plan = tasks["plan_safe_contact"]
    assert (plan.priority, _user(session, plan)) == ("urgent", "alex")


def test_food_and_housing_client_has_one_referral_per_need(session, demo_world):
    from engine.referrals import referrals_for_case

    client = session.scalar(select(Client).where(Client.mrn == "DEMO-0001"))
    case_id = session.scalar(select(Case.id).where(Case.client_id == client.id))
    referrals = referrals_for_case(session, case_id)
    assert sorted(r.need for r in referrals) == ["food", "housing"]
    assert {r.status for r in referrals} == {"requested"}


def test_item9_screen_now_client_waits_for_a_stat_cssrs_not_for_precautions(session, demo_world):
    tasks = _open(session, "DEMO-0007")
    screen = tasks["cssrs_screen"]
    assert (screen.name, screen.priority, screen.role) == (
        "Suicide-risk screen (C-SSRS)",
        "stat",
        "social_worker",
    )
    assert screen.due_at - screen.created_at == timedelta(minutes=15)
    assert "safety_precautions" not in tasks


def test_moderate_risk_client_has_consult_plan_and_review_but_no_observation(session, demo_world):
    tasks = _open(session, "DEMO-0008")
    assert {t: tasks[t].role for t in ("bh_consult", "moderate_safety_plan", "shift_review")} == {
        "bh_consult": "physician",
        "moderate_safety_plan": "social_worker",
        "shift_review": "supervisor",
    }
    assert {tasks[t].priority for t in ("bh_consult", "moderate_safety_plan", "shift_review")} == {
        "asap"
    }
    assert "safety_precautions" not in tasks
