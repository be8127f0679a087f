"""The shipped care pathway driven through the persisted engine services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import audit, demo, instances, timers
from engine.assessments import Assessment
from engine.errors import Conflict, Forbidden, Invalid
from engine.instances import ProcessInstance, describe_instance
from engine.timers import Timer


def test_new_case_offers_intake_to_the_primary_social_worker(drive):
    case = drive.open_case()
    [intake] = drive.open_tasks(case).values()
    assert intake.bpmn_id == "intake"
    assert intake.role == "social_worker"
    assert intake.assignee_id == drive.team.worker.id
    assert intake.priority == "urgent"
    assert intake.due_at == drive.clock.now() + timedelta(hours=24)


def test_completing_intake_moves_to_assessment(drive):
    case = drive.open_case()
    result = drive.complete(case, "intake")
    assert [t.bpmn_id for t in result.created_tasks] == ["assessment"]
    assert set(drive.open_tasks(case)) == {"assessment"}


def test_assessment_stores_scored_instruments_not_answers_in_task_data(drive, session):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(ahc=demo.AHC_FOOD_HOUSING))
    rows = session.scalars(select(Assessment).where(Assessment.case_id == case.id)).all()
    assert {r.instrument for r in rows} == {"phq2", "cssrs", "ahc_hrsn"}
    view = describe_instance(session, _instance_id(session, case))
    assert "care_plan" in view.active


def _instance_id(session, case):
    # The pathway: the case's first instance (referrals are instances of their own).
    return session.scalar(
        select(ProcessInstance.id)
        .where(ProcessInstance.case_id == case.id)
        .order_by(ProcessInstance.id)
        .limit(1)
    )


def test_high_risk_screen_opens_crisis_tasks_at_stat_priority(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(cssrs=demo.CSSRS_HIGH))
    tasks = drive.open_tasks(case)
    assert set(tasks) == {"crisis_response", "safety_precautions", "physician_review"}
    assert tasks["crisis_response"].priority == "stat"
    assert tasks["crisis_response"].due_at == drive.clock.now() + timedelta(minutes=15)
    assert tasks["safety_precautions"].role == "nurse"
    # Nobody on call: the supervisor holds it as the safety net (a stat task is never queued).
    assert tasks["safety_precautions"].assignee_id == drive.team.supervisor.id


def test_phq9_item9_with_a_negative_cssrs_gets_resources_not_precautions(drive):
    # Issue 10: the C-SSRS given in the same screening decides, not item 9 alone.
    case = drive.open_case()
    drive.complete(case, "intake")
    phq9 = {f"q{i}": 0 for i in range(1, 10)} | {"q9": 1}
    drive.complete(case, "assessment", demo.assessment(phq2={"q1": 0, "q2": 0}, phq9=phq9))
    tasks = drive.open_tasks(case)
    assert set(tasks) == {"low_risk_followup"}


def test_positive_phq2_without_phq9_is_refused_naming_phq9(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    with pytest.raises(Invalid) as err:
        drive.complete(case, "assessment", demo.assessment(phq2={"q1": 2, "q2": 1}))
    assert {
        "field": "phq9",
        "message": "PHQ-2 is positive: complete the full PHQ-9.",
    } in err.value.details


def test_invalid_form_names_fields_and_changes_nothing(drive, session):
    case = drive.open_case()
    instance = session.get(ProcessInstance, _instance_id(session, case))
    version, audit_rows = instance.version, session.scalar(select(func.count(audit.AuditEvent.id)))
    with pytest.raises(Invalid) as err:
        drive.complete(case, "intake", {"referral_source": "martians"})
    fields = {d["field"] for d in err.value.details}
    assert {"referral_source", "reason_for_referral", "living_situation"} <= fields
    assert drive.open_tasks(case)["intake"].status == "open"
    session.refresh(instance)
    assert instance.version == version
    assert session.scalar(select(func.count(audit.AuditEvent.id))) == audit_rows


def test_nurse_cannot_complete_a_social_work_task(drive):
    case = drive.open_case()
    with pytest.raises(Forbidden):
        drive.complete(case, "intake", actor=drive.team.nurse)


def test_completed_task_cannot_be_completed_again(drive):
    case = drive.open_case()
    task = drive.open_tasks(case)["intake"]
    drive.complete(case, "intake")
    from engine.instances import complete_task

    with pytest.raises(Conflict):
        complete_task(
            drive.session,
            task_id=task.id,
            data=demo.INTAKE,
            actor=drive.team.worker,
            clock=drive.clock,
        )


def test_assessment_overdue_timer_gives_supervisor_a_review_task(drive, session):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.clock.advance(hours=24, seconds=1)
    fired = [
        instances.fire_timer(session, timer_id=t, clock=drive.clock)
        for t in timers.claim_due_timers(session, owner="t", now=drive.clock.now())
    ]
    assert fired == [True]
    tasks = drive.open_tasks(case)
    assert set(tasks) == {"assessment", "review_overdue_assessment"}
    assert tasks["review_overdue_assessment"].role == "supervisor"


def test_timer_is_not_fired_before_it_is_due(drive, session):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.clock.advance(hours=23)
    assert timers.claim_due_timers(session, owner="t", now=drive.clock.now()) == []


def test_completing_the_assessment_cancels_its_overdue_timer(drive, session):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment")
    statuses = session.scalars(
        select(Timer.status).where(Timer.instance_id == _instance_id(session, case))
    ).all()
    assert statuses == ["cancelled"]


def test_follow_up_wait_uses_the_care_plan_interval(drive, session):
    case = drive.open_case()
    for step in ("intake", "assessment"):
        drive.complete(case, step)
    drive.complete(case, "care_plan", demo.care_plan(interval="P7D"))
    waiting = session.scalars(
        select(Timer).where(
            Timer.status == "waiting", Timer.instance_id == _instance_id(session, case)
        )
    ).all()
    assert [t.bpmn_id for t in waiting] == ["followup_wait"]
    assert waiting[0].due_at == drive.clock.now() + timedelta(days=7)


def test_pathway_runs_to_the_end_with_one_replan(drive, session):
    case = drive.open_case()
    for step in ("intake", "assessment"):
        drive.complete(case, step)
    for decision in ("replan", "close"):
        drive.complete(case, "care_plan", demo.care_plan(interval="P7D"))
        drive.clock.advance(days=7, seconds=1)
        for timer_id in timers.claim_due_timers(session, owner="t", now=drive.clock.now()):
            instances.fire_timer(session, timer_id=timer_id, clock=drive.clock)
        drive.complete(case, "followup_review", demo.followup(decision))
    drive.complete(case, "close_case")
    instance = session.get(ProcessInstance, _instance_id(session, case))
    assert instance.status == "completed"
    assert drive.open_tasks(case) == {}


def test_finished_follow_up_rounds_do_not_grow_the_stored_state(drive, session):
    """Finished loop iterations are pruned on load (SPIFFWORKFLOW.md: state grows per task)."""
    case = drive.open_case()
    for step in ("intake", "assessment"):
        drive.complete(case, step)
    instance = session.get(ProcessInstance, _instance_id(session, case))
    sizes = []
    for _round in range(4):
        drive.complete(case, "care_plan", demo.care_plan(interval="P7D", needs=()))
        drive.clock.advance(days=7, seconds=1)
        for timer_id in timers.claim_due_timers(session, owner="t", now=drive.clock.now()):
            instances.fire_timer(session, timer_id=timer_id, clock=drive.clock)
        drive.complete(case, "followup_review", demo.followup("replan"))
        session.refresh(instance)
        sizes.append(len(instance.state))
    assert sizes[-1] < sizes[0] * 1.2, sizes
