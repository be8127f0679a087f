"""Suicide-risk routing through the persisted engine: the psychosocial assessment and a
screen-now both reach the same decision, and the tasks land with the priority, due time and
role the decision gives them, in the same command. Time is a FrozenClock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import demo, instances, screenings
from engine.assessments import Assessment, assessments_for_case
from engine.cases.models import Case
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.timers import Timer
from tests.factories import AdminFactory, UserFactory

CSSRS_MODERATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
CSSRS_LOW = {"q1": True, "q2": False, "q6": False}
CSSRS_DECLINED = {"q1": True, "q2": "declined", "q6": False}
PHQ9_ITEM9 = {f"q{i}": 0 for i in range(1, 9)} | {"q9": 1}
UNSAFE = {"safety_issue_reason": "Left alone at shift change.", "safety_issue_action": "HCA sent."}


@pytest.fixture
def on_call():
    return UserFactory(role_keys=("social_worker",), on_call=True)


def assess(drive, case, **screens):
    drive.complete(case, "intake")
    return drive.complete(case, "assessment", demo.assessment(**screens))


def screen_now(drive, case, instrument, answers, actor=None):
    return screenings.screen_now(
        drive.session,
        case_id=case.id,
        instrument=instrument,
        answers=answers,
        actor=actor or drive.team.worker,
        clock=drive.clock,
        site=drive.site,
    )


def by_id(tasks):
    return {t.bpmn_id: t for t in tasks}


# --- through the assessment ----------------------------------------------------------------


def test_high_risk_assessment_creates_stat_crisis_tasks_in_the_same_command(drive, on_call):
    case = drive.open_case()
    created = by_id(assess(drive, case, cssrs=demo.CSSRS_HIGH).created_tasks)
    assert set(created) == {"crisis_response", "safety_precautions", "physician_review"}
    response, precautions = created["crisis_response"], created["safety_precautions"]
    review = created["physician_review"]
    assert (review.role, review.priority) == ("physician", "stat")
    assert (response.role, response.priority, response.assignee_id) == (
        "social_worker",
        "stat",
        on_call.id,
    )
    assert (precautions.role, precautions.priority) == ("nurse", "stat")
    assert response.due_at == drive.clock.now() + timedelta(minutes=15)
    assert precautions.due_at == drive.clock.now() + timedelta(minutes=15)
    assert response.process_key == "crisis_intervention"


def test_the_crisis_diagram_leaves_escalation_to_the_engine_no_timers(drive, on_call, session):
    case = drive.open_case()
    assess(drive, case, cssrs=demo.CSSRS_HIGH)
    waiting = session.scalars(select(Timer.bpmn_id).where(Timer.status == "waiting")).all()
    assert waiting == []  # the assessment's own overdue timer went with the assessment


def test_moderate_assessment_gives_an_asap_physician_consult_plan_and_review(drive, on_call):
    case = drive.open_case()
    created = by_id(assess(drive, case, cssrs=CSSRS_MODERATE).created_tasks)
    assert set(created) == {"bh_consult", "moderate_safety_plan", "shift_review"}
    assert {k: (t.role, t.priority) for k, t in created.items()} == {
        "bh_consult": ("physician", "asap"),
        "moderate_safety_plan": ("social_worker", "asap"),
        "shift_review": ("supervisor", "asap"),
    }
    assert created["bh_consult"].due_at == drive.clock.now() + timedelta(hours=4)
    assert created["shift_review"].due_at == drive.clock.now() + timedelta(hours=8)


def test_moderate_path_done_leads_on_to_care_planning(drive, on_call):
    physician = UserFactory(role_keys=("physician",))
    case = drive.open_case()
    assess(drive, case, cssrs=CSSRS_MODERATE)
    drive.complete(case, "bh_consult", actor=physician)
    # asap work goes to whoever is on call for its role (the supervisor review: the only
    # supervisor, as a safety net).
    drive.complete(case, "moderate_safety_plan", actor=on_call)
    drive.complete(case, "shift_review")
    assert set(drive.open_tasks(case)) == {"care_plan"}


def test_low_assessment_gives_a_routine_resources_task_due_next_day(drive):
    case = drive.open_case()
    created = by_id(assess(drive, case, cssrs=CSSRS_LOW).created_tasks)
    assert set(created) == {"low_risk_followup"}
    task = created["low_risk_followup"]
    assert (task.role, task.priority) == ("social_worker", "routine")
    assert task.due_at == drive.clock.now() + timedelta(days=1)


def test_incomplete_cssrs_is_stored_incomplete_and_routes_like_moderate(drive, session):
    case = drive.open_case()
    created = by_id(assess(drive, case, cssrs=CSSRS_DECLINED).created_tasks)
    assert set(created) == {"bh_consult", "moderate_safety_plan", "shift_review"}
    [row] = [a for a in assessments_for_case(session, case.id) if a.instrument == "cssrs"]
    assert (row.band, row.risk_level, row.flags) == (None, "moderate", ["incomplete"])
    assert row.answers["q2"] == "declined"


def test_an_unsafe_crisis_response_needs_reason_and_action(drive, on_call):
    case = drive.open_case()
    assess(drive, case, cssrs=demo.CSSRS_HIGH)
    with pytest.raises(Invalid) as err:
        drive.complete(case, "crisis_response", {**demo.CRISIS, "client_safe": False}, on_call)
    assert {"safety_issue_reason", "safety_issue_action"} <= {d["field"] for d in err.value.details}
    assert "crisis_response" in drive.open_tasks(case)  # nothing changed


def test_an_unsafe_crisis_response_escalates_to_the_supervisor_at_stat(drive, on_call):
    case = drive.open_case()
    assess(drive, case, cssrs=demo.CSSRS_HIGH)
    result = drive.complete(
        case, "crisis_response", {**demo.CRISIS, "client_safe": False, **UNSAFE}, on_call
    )
    escalation = by_id(result.created_tasks)["response_escalation"]
    assert (escalation.role, escalation.priority) == ("supervisor", "stat")
    assert escalation.due_at == drive.clock.now() + timedelta(minutes=15)


def test_precautions_not_in_place_escalate_to_the_supervisor_at_stat(drive, on_call):
    case = drive.open_case()
    assess(drive, case, cssrs=demo.CSSRS_HIGH)
    result = drive.complete(
        case, "safety_precautions", {**demo.SAFETY, "belongings_searched": False, **UNSAFE}
    )
    escalation = by_id(result.created_tasks)["precautions_escalation"]
    assert (escalation.role, escalation.priority) == ("supervisor", "stat")


# --- screen now ----------------------------------------------------------------------------


def test_screen_now_item9_creates_the_stat_cssrs_screen_at_once(drive, on_call):
    case = drive.open_case()
    screen = screen_now(drive, case, "phq9", PHQ9_ITEM9)
    [task] = screen.created_tasks
    assert task.name == "Suicide-risk screen (C-SSRS)"
    assert (task.role, task.priority, task.assignee_id) == ("social_worker", "stat", on_call.id)
    assert task.due_at == drive.clock.now() + timedelta(minutes=15)
    assert (screen.result.score, screen.result.band) == (1, "minimal")
    assert "suicide_ideation" in screen.result.flags


def test_screen_now_item9_declined_is_incomplete_and_still_asks_for_a_cssrs(drive):
    case = drive.open_case()
    screen = screen_now(drive, case, "phq9", PHQ9_ITEM9 | {"q9": "declined"})
    assert (screen.result.score, screen.result.band) == (None, None)
    assert screen.result.flags == ["incomplete"]
    assert [t.bpmn_id for t in screen.created_tasks] == ["cssrs_screen"]


def test_cssrs_screen_result_routes_the_case(drive, on_call):
    case = drive.open_case()
    screen_now(drive, case, "phq9", PHQ9_ITEM9)
    result = drive.complete(
        case, "cssrs_screen", {"setting": "bedside", "cssrs": demo.CSSRS_HIGH}, on_call
    )
    assert {t.bpmn_id for t in result.created_tasks} == {
        "crisis_response",
        "safety_precautions",
        "physician_review",
    }
    instruments = [a.instrument for a in assessments_for_case(drive.session, case.id)]
    assert instruments == ["phq9", "cssrs"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (demo.CSSRS_HIGH, {"crisis_response", "safety_precautions", "physician_review"}),
        (CSSRS_MODERATE, {"bh_consult", "moderate_safety_plan", "shift_review"}),
        (CSSRS_DECLINED, {"bh_consult", "moderate_safety_plan", "shift_review"}),
        (CSSRS_LOW, {"low_risk_followup"}),
        (demo.CSSRS_NONE, set()),
    ],
)
def test_screen_now_cssrs_routes_by_risk(drive, answers, expected):
    case = drive.open_case()
    screen = screen_now(drive, case, "cssrs", answers)
    assert {t.bpmn_id for t in screen.created_tasks} == expected


def test_screen_now_ahc_unsafe_flags_do_not_contact(drive, session):
    case = drive.open_case()
    screen_now(drive, case, "ahc_hrsn", demo.AHC_UNSAFE, actor=drive.team.worker)
    assert session.get(Case, case.id).client.do_not_contact is True


def test_screen_now_stores_the_assessment_and_puts_the_result_on_the_timeline(drive, session):
    from engine import cases

    case = drive.open_case()
    screen = screen_now(drive, case, "gad7", {f"q{i}": 2 for i in range(1, 8)})
    row = session.get(Assessment, screen.assessment.id)
    assert (row.score, row.band, row.task_id) == (14, "moderate", None)
    [event] = [
        e for e in cases.timeline(session, case.id) if e.action == "case:assessment:recorded"
    ]
    assert event.details["band"] == "moderate"
    assert event.details["source"] == "screen_now"


def test_screen_now_names_the_bad_item(drive):
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        screen_now(drive, case, "phq9", PHQ9_ITEM9 | {"q3": 7})
    assert [d["field"] for d in err.value.details] == ["q3"]


def test_screen_now_unknown_instrument_is_invalid(drive):
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        screen_now(drive, case, "prapare", {})
    assert [d["field"] for d in err.value.details] == ["instrument"]


def test_screen_now_unknown_case_is_not_found(drive):
    with pytest.raises(NotFound):
        screenings.screen_now(
            drive.session,
            case_id=987654,
            instrument="phq9",
            answers=PHQ9_ITEM9,
            actor=drive.team.nurse,
            clock=drive.clock,
        )


def test_screen_now_on_a_closed_case_is_a_conflict(drive, session):
    case = drive.open_case()
    session.get(Case, case.id).status = "closed"
    with pytest.raises(Conflict):
        screen_now(drive, case, "phq9", PHQ9_ITEM9)


def test_screen_now_by_an_administrator_is_forbidden(drive):
    case = drive.open_case()
    with pytest.raises(Forbidden):
        screen_now(drive, case, "phq9", PHQ9_ITEM9, actor=AdminFactory())


def close_through_the_pathway(drive, case) -> None:
    from engine import timers

    for step in ("intake", "assessment", "care_plan"):
        drive.complete(case, step)
    drive.clock.advance(days=30)
    for timer_id in timers.claim_due_timers(drive.session, owner="t", now=drive.clock.now()):
        instances.fire_timer(drive.session, timer_id=timer_id, clock=drive.clock)
    drive.complete(case, "followup_review", demo.followup("close"))
    drive.complete(case, "close_case")


def test_the_pathway_ending_closes_the_case(drive, session):
    case = drive.open_case()
    close_through_the_pathway(drive, case)
    row = session.get(Case, case.id)
    assert (row.status, row.closed_at) == ("closed", drive.clock.now())


def test_screen_now_after_the_pathway_closed_the_case_is_a_conflict(drive):
    case = drive.open_case()
    close_through_the_pathway(drive, case)
    with pytest.raises(Conflict):
        screen_now(drive, case, "phq9", PHQ9_ITEM9)


def test_a_finished_screening_response_does_not_close_the_case(drive, session):
    case = drive.open_case()
    screen_now(drive, case, "cssrs", CSSRS_LOW)
    drive.complete(case, "low_risk_followup")
    assert session.get(Case, case.id).status == "open"


def test_the_cssrs_screen_needs_only_the_cssrs_answers(drive, on_call):
    case = drive.open_case()
    screen_now(drive, case, "phq9", PHQ9_ITEM9)
    result = drive.complete(case, "cssrs_screen", {"cssrs": CSSRS_LOW}, on_call)
    assert [t.bpmn_id for t in result.created_tasks] == ["low_risk_followup"]
