"""Closing a case: referrals that never started are cancelled (reason case_closed, the
organisation told when it had the referral); accepted, in-progress and on-hold ones run on to
their outcome with their timers, their work passing to the case manager."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import audit, demo, instances, timers
from engine.inbox.models import HumanTask
from engine.instances import ProcessInstance
from engine.referrals import Referral
from engine.timers import Timer
from tests.factories import UserFactory

NEEDS = ("food", "housing", "transportation", "utilities", "financial", "caregiver_support")
# need -> the status it has when the case closes (draft: never sent)
STATUS_AT_CLOSURE = {
    "food": "draft",
    "housing": "requested",
    "transportation": "accepted",
    "utilities": "in-progress",
    "financial": "on-hold",
    "caregiver_support": "completed",
}
ORGANISATION_STEPS = {
    "accepted": [("accepted", {})],
    "in-progress": [("accepted", {}), ("in-progress", {})],
    "on-hold": [("accepted", {}), ("on-hold", {"reason": "Waiting list."})],
    "completed": [("accepted", {}), ("completed", {})],
}


def fire_due(drive) -> None:
    for t in timers.claim_due_timers(drive.session, owner="test", now=drive.clock.now()):
        instances.fire_timer(drive.session, timer_id=t, clock=drive.clock, site=drive.site)


def referral(drive, case, need: str) -> Referral:
    return drive.session.scalar(
        select(Referral).where(Referral.case_id == case.id, Referral.need == need)
    )


def open_rows(drive, case) -> list[HumanTask]:
    return list(
        drive.session.scalars(
            select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
        )
    )


def message(drive, ref: Referral, status: str, **extra: Any) -> None:
    instances.deliver_message(
        drive.session,
        name="referral_status",
        case_id=ref.case_id,
        payload={"referral_id": ref.id, "status": status, **extra},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )


@pytest.fixture
def closed(drive):
    """A case with referrals in every status, then closed at its 14-day follow-up."""
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment")
    drive.complete(case, "care_plan", demo.care_plan(NEEDS))
    for need, status in STATUS_AT_CLOSURE.items():
        ref = referral(drive, case, need)
        if status == "draft":
            continue
        [task] = [t for t in open_rows(drive, case) if t.instance_id == ref.instance_id]
        instances.complete_task(
            drive.session,
            task_id=task.id,
            data={**demo.REFERRAL, "need": need},
            actor=drive.team.worker,
            clock=drive.clock,
            site=drive.site,
        )
        for step, extra in ORGANISATION_STEPS.get(status, []):
            message(drive, ref, step, **extra)
    drive.clock.advance(days=14, seconds=1)
    fire_due(drive)
    drive.complete(case, "followup_review", demo.followup("close"))
    drive.complete(case, "close_case")
    return case


def test_the_case_is_closed(drive, closed):
    assert closed.status == "closed"
    assert closed.closed_at == drive.clock.now()


@pytest.mark.parametrize("need", ["food", "housing"])
def test_referrals_that_never_started_are_cancelled_as_case_closed(drive, closed, need):
    ref = referral(drive, closed, need)
    assert (ref.status, ref.status_reason) == ("cancelled", "case_closed")
    instance = drive.session.get(ProcessInstance, ref.instance_id)
    assert instance.status == "completed"


def test_the_organisation_of_a_requested_referral_is_told(drive, session, closed):
    told = session.scalars(
        select(audit.AuditEvent).where(
            audit.AuditEvent.case_id == closed.id,
            audit.AuditEvent.action == audit.AuditTag.REFERRAL_ORGANISATION_NOTIFIED,
        )
    ).all()
    assert [e.details["referral_id"] for e in told] == [referral(drive, closed, "housing").id]


@pytest.mark.parametrize("need", ["transportation", "utilities", "financial"])
def test_started_referrals_run_on_with_their_timers(drive, closed, need):
    ref = referral(drive, closed, need)
    assert ref.status == STATUS_AT_CLOSURE[need]
    instance = drive.session.get(ProcessInstance, ref.instance_id)
    assert instance.status != "completed"
    waiting = drive.session.scalars(
        select(Timer.bpmn_id).where(Timer.instance_id == ref.instance_id, Timer.status == "waiting")
    ).all()
    assert "outcome_wait" in waiting


def test_a_completed_referral_keeps_its_outcome(drive, closed):
    assert referral(drive, closed, "caregiver_support").status == "completed"


def test_the_surviving_work_belongs_to_the_case_manager(drive, closed):
    survivors = {referral(drive, closed, n).instance_id for n in ("transportation", "utilities")}
    rows = [t for t in open_rows(drive, closed) if t.instance_id in survivors]
    assert rows  # the 7-day client contact checks opened before closure
    assert {(t.role, t.assignee_id) for t in rows} == {("case_manager", None)}


def test_the_30_day_outcome_check_still_comes_to_the_case_manager(drive, closed):
    case_manager = UserFactory(role_keys=("case_manager",))
    drive.clock.advance(days=17)
    fire_due(drive)
    ref = referral(drive, closed, "transportation")
    [outcome] = [
        t
        for t in open_rows(drive, closed)
        if t.instance_id == ref.instance_id and t.bpmn_id == "outcome_check"
    ]
    assert outcome.role == "case_manager"
    instances.complete_task(
        drive.session,
        task_id=outcome.id,
        data={"outcome": "completed", "reason_code": "got_help", "information_from": "client"},
        actor=case_manager,
        clock=drive.clock,
        site=drive.site,
    )
    assert ref.status == "completed"
