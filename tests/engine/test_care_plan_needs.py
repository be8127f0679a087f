"""Every need the screens found must be addressed by the care plan (a referral, declined with
the client's reason, or already met), GAD-7 of 10 or more adding a behavioural-health need; and
a client who declines social work at intake is not assessed, unless a screen in this admission
shows suicide risk or a safety concern."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import audit, cases, demo
from engine.assessments.models import Assessment
from engine.errors import Invalid
from engine.referrals import Referral
from tests.factories import UserFactory

GAD7_MILD = {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 1, "q6": 1, "q7": 0}  # total 6


def assessed(drive, **screens):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(**screens))
    return case


def refused(drive, case, plan) -> Invalid:
    with pytest.raises(Invalid) as err:
        drive.complete(case, "care_plan", plan)
    return err.value


def test_a_plan_that_leaves_out_a_positive_domain_is_refused_naming_it(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    err = refused(drive, case, demo.care_plan(("food",)))
    assert err.code == "needs_not_addressed"
    assert [d["domain"] for d in err.details] == ["housing"]
    assert "housing" in err.public_message
    assert "care_plan" in drive.open_tasks(case)


def test_every_missed_domain_is_named(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    err = refused(drive, case, demo.care_plan(("transportation",)))
    assert sorted(d["domain"] for d in err.details) == ["food", "housing"]


def test_declined_with_the_clients_reason_addresses_a_need(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    plan = {**demo.care_plan(("food",)), "declined": {"housing": "Staying with her son."}}
    drive.complete(case, "care_plan", plan)
    needs = drive.session.scalars(select(Referral.need).where(Referral.case_id == case.id)).all()
    assert needs == ["food"]  # a declined need is not referred


def test_declined_without_a_reason_is_refused(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    err = refused(drive, case, {**demo.care_plan(("food",)), "declined": {"housing": " "}})
    assert {d["field"] for d in err.details} >= {"declined.housing"}


def test_already_met_addresses_a_need(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    drive.complete(case, "care_plan", {**demo.care_plan(("housing",)), "already_met": ["food"]})
    assert "care_plan" not in drive.open_tasks(case)


def test_a_need_cannot_be_both_referred_and_declined(drive):
    case = assessed(drive, ahc=demo.AHC_FOOD_HOUSING)
    plan = {**demo.care_plan(("food", "housing")), "declined": {"food": "Has enough."}}
    err = refused(drive, case, plan)
    assert [d["field"] for d in err.details] == ["declined.food"]


def test_no_positive_screen_asks_nothing_of_the_plan(drive):
    case = assessed(drive)
    drive.complete(case, "care_plan", demo.care_plan(("financial",)))
    assert "care_plan" not in drive.open_tasks(case)


def test_gad7_of_10_adds_a_behavioural_health_need(drive):
    case = assessed(drive, gad7=demo.GAD7_MODERATE)
    err = refused(drive, case, demo.care_plan(("financial",)))
    assert [(d["domain"], d["flags"]) for d in err.details] == [("mental_health", ["gad7"])]
    drive.complete(case, "care_plan", demo.care_plan(("mental_health",)))


def test_gad7_of_10_flags_the_case_for_behavioural_health(drive, session):
    case = assessed(drive, gad7=demo.GAD7_MODERATE)
    session.refresh(case)
    assert case.flags.get("behavioral_health") is True


def test_gad7_below_10_adds_no_need(drive):
    case = assessed(drive, gad7=GAD7_MILD)
    drive.complete(case, "care_plan", demo.care_plan(("financial",)))
    [row] = drive.session.scalars(
        select(Assessment).where(Assessment.case_id == case.id, Assessment.instrument == "gad7")
    ).all()
    assert (row.score, row.band) == (6, "mild")


def test_the_screening_outcome_lists_the_behavioural_need(drive):
    from engine.tasks_view import view_task

    case = assessed(drive, gad7=demo.GAD7_MODERATE)
    task = drive.open_tasks(case)["care_plan"]
    detail = view_task(drive.session, task_id=task.id, actor=drive.team.worker, clock=drive.clock)
    assert detail.data["screening"]["behavioral_needs"] == ["mental_health"]
    assert "GAD-7 of 10 or more): mental_health" in detail.instructions


# --- declining social work at intake ------------------------------------------------------

DECLINED = {**demo.INTAKE, "consent_to_social_work": "declined"}


def prior_screen(drive, case, instrument: str, **result) -> None:
    """A screen already recorded in this admission (a nurse's, before the social work intake)."""
    drive.session.add(
        Assessment(
            client_id=case.client_id,
            case_id=case.id,
            instrument=instrument,
            version="1.0",
            answers={},
            score=result.get("score"),
            band=result.get("band"),
            flags=result.get("flags", []),
            risk_level=result.get("risk_level"),
            administered_by_id=drive.team.nurse.id,
            administered_at=drive.clock.now() - timedelta(hours=2),
        )
    )
    drive.session.flush()


def test_declining_ends_the_pathway_with_a_supervisor_fyi(drive, session):
    case = drive.open_case()
    result = drive.complete(case, "intake", DECLINED)
    [fyi] = result.created_tasks
    assert (fyi.bpmn_id, fyi.role, fyi.name) == (
        "declined_fyi",
        "supervisor",
        "Client declined social work",
    )
    assert "assessment" not in drive.open_tasks(case)
    actions = [e.action for e in cases.timeline(session, case.id)]
    assert audit.AuditTag.SERVICES_DECLINED in actions
    drive.complete(case, "declined_fyi")
    assert result.instance.status == "completed"


@pytest.mark.parametrize(
    ("instrument", "result", "first_task"),
    [
        # Suicide risk: the screening response's stat work, on call, as for any screen.
        ("cssrs", {"risk_level": "high"}, "crisis_response"),
        ("phq9", {"score": 3, "band": "minimal", "flags": ["suicide_ideation"]}, "cssrs_screen"),
    ],
)
def test_a_suicide_risk_on_an_earlier_screen_still_runs_the_crisis_path(
    drive, instrument, result, first_task
):
    on_call = UserFactory(role_keys=("social_worker",), on_call=True)
    case = drive.open_case()
    prior_screen(drive, case, instrument, **result)
    drive.complete(case, "intake", DECLINED)
    tasks = drive.open_tasks(case)
    assert "declined_fyi" not in tasks
    assert (tasks[first_task].priority, tasks[first_task].assignee_id) == ("stat", on_call.id)


def test_a_safety_concern_on_an_earlier_screen_keeps_the_social_worker_on_the_case(drive):
    # Interpersonal danger is not a suicide crisis (no precautions): the pathway goes on to
    # care planning with the case's worker instead of ending on the decline.
    case = drive.open_case()
    prior_screen(drive, case, "ahc_hrsn", score=12, flags=["interpersonal_safety"])
    drive.complete(case, "intake", DECLINED)
    tasks = drive.open_tasks(case)
    assert "declined_fyi" not in tasks
    assert tasks["care_plan"].assignee_id == drive.team.worker.id


def test_consenting_goes_on_to_the_assessment(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    assert set(drive.open_tasks(case)) == {"assessment"}
