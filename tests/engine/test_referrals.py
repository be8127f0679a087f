"""Closed-loop community referrals through the persisted engine: the Gravity state machine,
consent, the 2-business-day answer deadline, the 7- and 30-day checks, do-not-contact, status
messages and their correlation, and the audit trail.

Time is a FrozenClock; timers fire the way the scheduler fires them (claim, then fire).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import audit, demo, instances, referrals, timers
from engine.cases import Client
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.inbox.models import HumanTask
from engine.instances import ProcessInstance
from engine.referrals import Consent, Referral, ReferralEvent
from engine.settings import ROOT
from engine.timers import Timer
from tests.factories import UserFactory

NEW_YORK = ZoneInfo("America/New_York")
SEND = {
    "referral_made": True,
    "need": "food",
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "contact_made": True,
    "consent_to_share_recorded": True,
}
# AHC HRSN items 7-10 summing to more than 10: a positive interpersonal-safety screen.
AHC_UNSAFE = {**demo.AHC_NO_NEEDS, "q7": 3, "q8": 3, "q9": 3, "q10": 3}
CONTACT_CHECK = {"checked_on": "2026-03-16", "method": "phone", "result": "service_started"}
ORG_CONFIRM = {
    "checked_on": "2026-03-16",
    "result": "arranging",
    "no_direct_contact_confirmed": True,
}
OUTCOME = {"outcome": "completed", "reason_code": "got_help", "information_from": "client"}
OUTREACH = {"contact_check"}  # tasks that reach out to the client themselves


# ---------------------------------------------------------------- helpers ----------
@pytest.fixture
def case_manager():
    return UserFactory(role_keys=("case_manager",))


def fire_due(drive) -> list[bool]:
    claimed = timers.claim_due_timers(drive.session, owner="test", now=drive.clock.now())
    return [
        instances.fire_timer(drive.session, timer_id=t, clock=drive.clock, site=drive.site)
        for t in claimed
    ]


def open_tasks(drive, case, bpmn_id: str | None = None) -> list[HumanTask]:
    rows = drive.session.scalars(
        select(HumanTask)
        .where(HumanTask.case_id == case.id, HumanTask.status == "open")
        .order_by(HumanTask.id)
    ).all()
    return [t for t in rows if bpmn_id is None or t.bpmn_id == bpmn_id]


def task_of(drive, referral: Referral, bpmn_id: str) -> HumanTask:
    [task] = [
        t
        for t in open_tasks(drive, _case(drive, referral), bpmn_id)
        if t.instance_id == referral.instance_id
    ]
    return task


def _case(drive, referral: Referral):
    from engine.cases import Case

    return drive.session.get(Case, referral.case_id)


def complete(drive, task: HumanTask, data: dict[str, Any], actor=None) -> instances.CommandResult:
    return instances.complete_task(
        drive.session,
        task_id=task.id,
        data=data,
        actor=actor or drive.team.worker,
        clock=drive.clock,
        site=drive.site,
    )


def planned(drive, *, needs=("food",), ahc=demo.AHC_NO_NEEDS):
    """A case whose care plan has just been completed with `needs`."""
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(ahc=ahc))
    plan = demo.care_plan(needs=needs)
    if ahc is AHC_UNSAFE and "safety" not in needs:
        plan["already_met"] = ["safety"]  # the care plan must address every screened need
    drive.complete(case, "care_plan", plan)
    return case


def referral_for(drive, case, need: str = "food") -> Referral:
    return drive.session.scalars(
        select(Referral)
        .where(Referral.case_id == case.id, Referral.need == need)
        .order_by(Referral.id.desc())
    ).first()


def send(drive, referral: Referral, **changes: Any) -> instances.CommandResult:
    data = {**SEND, "need": referral.need, **changes}
    return complete(drive, task_of(drive, referral, "send_referral"), data)


def message(drive, referral: Referral, status: str, **extra: Any) -> list[instances.CommandResult]:
    return instances.deliver_message(
        drive.session,
        name="referral_status",
        case_id=referral.case_id,
        payload={"referral_id": referral.id, "status": status, **extra},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )


def sent(drive, **kwargs: Any) -> Referral:
    case = planned(drive, **kwargs)
    referral = referral_for(drive, case)
    send(drive, referral)
    return referral


def accepted(drive, **kwargs: Any) -> Referral:
    referral = sent(drive, **kwargs)
    message(drive, referral, "accepted")
    return referral


def waiting_timers(drive, referral: Referral) -> dict[str, datetime]:
    rows = drive.session.scalars(
        select(Timer).where(Timer.instance_id == referral.instance_id, Timer.status == "waiting")
    ).all()
    return {t.bpmn_id: t.due_at for t in rows}


def instance_status(drive, referral: Referral) -> str:
    return drive.session.get(ProcessInstance, referral.instance_id).status


REASON = {"reason": "Recorded for the test."}

# How to bring a fresh referral to each status (after sending, unless draft).
PATHS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "draft": [],
    "requested": [],
    "accepted": [("accepted", {})],
    "rejected": [("rejected", REASON)],
    "cancelled": [("cancelled", REASON)],
    "in-progress": [("accepted", {}), ("in-progress", {})],
    "on-hold": [("accepted", {}), ("on-hold", REASON)],
    "completed": [("accepted", {}), ("completed", {})],
    "failed": [("accepted", {}), ("failed", REASON)],
    "entered-in-error": [("entered-in-error", {})],
}


def at_status(drive, status: str) -> Referral:
    case = planned(drive)
    referral = referral_for(drive, case)
    if status == "draft":
        return referral
    send(drive, referral)
    for step, extra in PATHS[status]:
        set_status(drive, referral, step, **extra)
    assert referral.status == status
    return referral


def set_status(drive, referral: Referral, status: str, **extra: Any) -> Any:
    """The status as its owner sets it: the organisation by message, our staff by the form."""
    if status in ("cancelled",):
        return referrals.record_status(
            drive.session,
            referral_id=referral.id,
            status=status,
            actor=drive.team.worker,
            clock=drive.clock,
            site=drive.site,
            **extra,
        )
    return message(drive, referral, status, **extra)


# ---------------------------------------------------------------- state machine ----
# CARE.md, "Closed-loop referral state machine", written out pair by pair.
LEGAL = [
    ("draft", "requested"),
    ("draft", "cancelled"),
    ("requested", "accepted"),
    ("requested", "rejected"),
    ("requested", "cancelled"),
    ("accepted", "in-progress"),
    ("accepted", "on-hold"),
    ("accepted", "completed"),
    ("accepted", "failed"),
    ("accepted", "cancelled"),
    ("in-progress", "on-hold"),
    ("in-progress", "completed"),
    ("in-progress", "failed"),
    ("in-progress", "cancelled"),
    ("on-hold", "in-progress"),
    ("on-hold", "completed"),
    ("on-hold", "failed"),
    ("on-hold", "cancelled"),
] + [(status, "entered-in-error") for status in referrals.STATUSES if status != "entered-in-error"]


def test_the_transition_table_is_exactly_care_md():
    table = {(a, b) for a in referrals.STATUSES for b in referrals.legal_next(a)}
    assert table == set(LEGAL)


@pytest.mark.parametrize(("current", "new"), LEGAL)
def test_every_legal_transition_is_applied_and_recorded(drive, current, new):
    referral = at_status(drive, current)
    before = len(referrals.referral_history(drive.session, referral.id))
    if (current, new) == ("draft", "requested"):
        send(drive, referral)
    elif (current, new) == ("draft", "cancelled"):
        complete(
            drive,
            task_of(drive, referral, "send_referral"),
            {"referral_made": False, "no_referral_reason": "Daughter already arranged meals."},
        )
    else:
        set_status(drive, referral, new, **(REASON if new in referrals.REASON_REQUIRED else {}))
    assert referral.status == new
    events = referrals.referral_history(drive.session, referral.id)
    assert len(events) == before + 1
    assert (events[-1].from_status, events[-1].to_status) == (current, new)


ILLEGAL = [
    ("draft", "accepted"),
    ("requested", "in-progress"),
    ("requested", "completed"),
    ("requested", "on-hold"),
    ("accepted", "accepted"),
    ("accepted", "rejected"),
    ("in-progress", "accepted"),
    ("on-hold", "rejected"),
    ("completed", "in-progress"),
    ("completed", "cancelled"),
    ("rejected", "accepted"),
    ("rejected", "cancelled"),
    ("failed", "completed"),
    ("cancelled", "accepted"),
    ("cancelled", "cancelled"),
    ("entered-in-error", "accepted"),
    ("entered-in-error", "entered-in-error"),
]


@pytest.mark.parametrize(("current", "new"), ILLEGAL)
def test_an_illegal_transition_is_refused_with_a_conflict(drive, current, new):
    referral = at_status(drive, current)
    events = len(referrals.referral_history(drive.session, referral.id))
    with pytest.raises(Conflict) as err:
        set_status(drive, referral, new, **REASON)
    assert err.value.code == "illegal_transition"
    drive.session.refresh(referral)
    assert referral.status == current
    assert len(referrals.referral_history(drive.session, referral.id)) == events


@pytest.mark.parametrize("status", sorted(referrals.REASON_REQUIRED))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_reason_is_required_for_rejected_cancelled_on_hold_and_failed(drive, status, reason):
    referral = at_status(drive, "requested" if status in ("rejected", "cancelled") else "accepted")
    before = referral.status
    with pytest.raises(Invalid) as err:
        set_status(drive, referral, status, **({} if reason is None else {"reason": reason}))
    assert err.value.details == [{"field": "reason", "message": "This field is required."}]
    assert referral.status == before


def test_the_reason_and_its_code_are_kept_on_the_referral_and_its_history(drive):
    referral = at_status(drive, "requested")
    message(
        drive, referral, "rejected", reason="Outside our service area.", reason_code="not_eligible"
    )
    assert (referral.status_reason, referral.reason_code) == (
        "Outside our service area.",
        "not_eligible",
    )
    last = referrals.referral_history(drive.session, referral.id)[-1]
    assert (last.reason, last.reason_code, last.source) == (
        "Outside our service area.",
        "not_eligible",
        "organisation",
    )


def test_an_unknown_coded_reason_is_refused(drive):
    referral = at_status(drive, "requested")
    with pytest.raises(Invalid) as err:
        message(drive, referral, "rejected", reason="Full.", reason_code="too_busy")
    assert err.value.details[0]["field"] == "reason_code"


@pytest.mark.parametrize("status", ["cancelled", "requested"])
def test_the_organisation_cannot_set_the_requesters_statuses(drive, status):
    referral = at_status(drive, "requested")
    with pytest.raises(Forbidden):
        message(drive, referral, status, **REASON)


def test_staff_may_record_the_organisations_answer_on_its_behalf(drive):
    referral = at_status(drive, "requested")
    referrals.record_status(
        drive.session,
        referral_id=referral.id,
        status="accepted",
        actor=drive.team.worker,
        clock=drive.clock,
        site=drive.site,
    )
    last = referrals.referral_history(drive.session, referral.id)[-1]
    assert (referral.status, last.source, last.actor_id) == (
        "accepted",
        "staff_recorded",
        drive.team.worker.id,
    )
    assert set(waiting_timers(drive, referral)) == {"contact_wait", "outcome_wait"}


def test_staff_cannot_mark_a_referral_requested_without_sending_it(drive):
    referral = at_status(drive, "draft")
    with pytest.raises(Invalid):
        referrals.record_status(
            drive.session,
            referral_id=referral.id,
            status="requested",
            actor=drive.team.worker,
            clock=drive.clock,
        )


def test_the_staff_status_form_offers_exactly_the_staff_statuses():
    schema = json.loads((ROOT / "forms" / "referral_status.schema.json").read_text())
    offered = tuple(c["const"] for c in schema["properties"]["status"]["oneOf"])
    assert offered == referrals.states.STAFF_FORM_STATUSES


# ---------------------------------------------------------------- starting ---------
def test_a_care_plan_starts_one_referral_instance_per_need(drive, session):
    case = planned(drive, needs=("food", "housing"))
    rows = referrals.referrals_for_case(session, case.id)
    assert sorted(r.need for r in rows) == ["food", "housing"]
    assert all(r.status == "draft" for r in rows)
    assert len({r.instance_id for r in rows}) == 2
    pathway = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.case_id == case.id, ProcessInstance.parent_instance_id.is_(None)
        )
    )
    for r in rows:
        instance = session.get(ProcessInstance, r.instance_id)
        assert (instance.definition.process_key, instance.parent_instance_id) == (
            "referral",
            pathway,
        )
    sends = open_tasks(drive, case, "send_referral")
    assert len(sends) == 2
    assert {t.role for t in sends} == {"social_worker"}
    assert {t.assignee_id for t in sends} == {drive.team.worker.id}


def test_the_care_plan_completion_reports_the_new_referral_tasks(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment")
    result = drive.complete(case, "care_plan", demo.care_plan(needs=("food", "housing")))
    assert sorted(t.bpmn_id for t in result.created_tasks) == ["send_referral", "send_referral"]


def test_a_replan_does_not_refer_an_open_need_twice(drive, session):
    case = planned(drive, needs=("food",), ahc=demo.AHC_NO_NEEDS)
    drive.clock.advance(days=14, seconds=1)
    fire_due(drive)
    drive.complete(case, "followup_review", demo.followup("replan"))
    drive.complete(case, "care_plan", demo.care_plan(needs=("food", "transportation")))
    needs = [r.need for r in referrals.referrals_for_case(session, case.id)]
    assert sorted(needs) == ["food", "transportation"]


def test_the_follow_up_timer_of_the_round_is_not_held_up_by_referrals(drive, session):
    case = planned(drive)
    pathway = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.case_id == case.id, ProcessInstance.parent_instance_id.is_(None)
        )
    )
    waiting = session.scalars(
        select(Timer.bpmn_id).where(Timer.instance_id == pathway, Timer.status == "waiting")
    ).all()
    assert waiting == ["followup_wait"]


# ---------------------------------------------------------------- sending ----------
def test_sending_records_the_recipient_consent_and_answer_deadline(drive, session):
    referral = sent(drive)
    assert referral.status == "requested"
    assert (referral.organization_name, referral.service_name) == (
        "Eastside Food Bank",
        "Home-delivered groceries",
    )
    assert referral.requested_by_id == drive.team.worker.id
    consent = session.get(Consent, referral.consent_id)
    assert consent.recipient == "Eastside Food Bank"
    assert consent.is_current(drive.clock.now())
    assert set(waiting_timers(drive, referral)) == {"answer_overdue"}


def test_no_referral_needed_cancels_it_with_the_reason_and_ends_the_instance(drive):
    case = planned(drive)
    referral = referral_for(drive, case)
    complete(
        drive,
        task_of(drive, referral, "send_referral"),
        {"referral_made": False, "no_referral_reason": "Client declined the food bank."},
    )
    assert (referral.status, referral.status_reason) == (
        "cancelled",
        "Client declined the food bank.",
    )
    assert instance_status(drive, referral) == "completed"


def test_the_send_form_must_name_this_referrals_need(drive):
    case = planned(drive)
    referral = referral_for(drive, case)
    with pytest.raises(Invalid) as err:
        send(drive, referral, need="housing")
    assert err.value.details[0]["field"] == "need"
    assert referral.status == "draft"


def test_a_directory_entry_gives_the_recipient(drive, session):
    resource = referrals.save_resource(
        session,
        data={
            "organization_name": "Northside Pantry",
            "service_name": "Weekly groceries",
            "category": "food",
        },
        actor=drive.team.worker,
        clock=drive.clock,
    )
    case = planned(drive)
    referral = referral_for(drive, case)
    send(drive, referral, resource_id=resource.id, organisation_name="northside  pantry")
    assert (referral.resource_id, referral.organization_name, referral.service_name) == (
        resource.id,
        "Northside Pantry",
        "Weekly groceries",
    )


def test_a_directory_entry_that_contradicts_the_organisation_is_refused(drive, session):
    resource = referrals.save_resource(
        session,
        data={"organization_name": "Northside Pantry", "service_name": "Meals", "category": "food"},
        actor=None,
        clock=drive.clock,
    )
    case = planned(drive)
    referral = referral_for(drive, case)
    with pytest.raises(Invalid) as err:
        send(drive, referral, resource_id=resource.id)
    assert err.value.details[0]["field"] == "organisation_name"


# ---------------------------------------------------------------- consent ----------
def test_no_packet_leaves_without_a_current_consent(drive):
    case = planned(drive)
    referral = referral_for(drive, case)
    with pytest.raises(Invalid) as err:
        referrals.send_referral(
            drive.session,
            referral_id=referral.id,
            organisation_name="Eastside Food Bank",
            service_name="Groceries",
            actor=drive.team.worker,
            clock=drive.clock,
        )
    assert err.value.code == "consent_required"
    assert referral.status == "draft"


def test_consent_to_another_organisation_does_not_count(drive, session):
    case = planned(drive)
    referral = referral_for(drive, case)
    referrals.record_consent(
        session,
        client_id=case.client_id,
        recipient="Westside Shelter",
        actor=drive.team.worker,
        clock=drive.clock,
    )
    with pytest.raises(Invalid) as err:
        referrals.send_referral(
            session,
            referral_id=referral.id,
            organisation_name="Eastside Food Bank",
            service_name="Groceries",
            actor=drive.team.worker,
            clock=drive.clock,
        )
    assert err.value.code == "consent_required"


def test_a_consent_on_file_is_used_rather_than_a_new_one(drive, session):
    case = planned(drive)
    referral = referral_for(drive, case)
    on_file = referrals.record_consent(
        session,
        client_id=case.client_id,
        recipient="EASTSIDE food bank",
        actor=drive.team.worker,
        clock=drive.clock,
    )
    send(drive, referral)
    assert referral.consent_id == on_file.id
    assert len(referrals.consents_for_client(session, case.client_id)) == 1


def test_a_revoked_consent_blocks_sending_even_when_the_form_confirms_consent(drive, session):
    case = planned(drive)
    referral = referral_for(drive, case)
    consent = referrals.record_consent(
        session,
        client_id=case.client_id,
        recipient="Eastside Food Bank",
        actor=drive.team.worker,
        clock=drive.clock,
    )
    drive.clock.advance(hours=1)
    referrals.revoke_consent(
        session, consent_id=consent.id, actor=drive.team.worker, clock=drive.clock
    )
    with pytest.raises(Invalid) as err:
        send(drive, referral)
    assert err.value.code == "consent_revoked"
    assert referral.status == "draft"
    assert task_of(drive, referral, "send_referral").status == "open"


def test_an_expired_consent_is_renewed_by_the_forms_confirmation(drive, session):
    case = planned(drive)
    referral = referral_for(drive, case)
    old = referrals.record_consent(
        session,
        client_id=case.client_id,
        recipient="Eastside Food Bank",
        actor=drive.team.worker,
        clock=drive.clock,
        expires_at=drive.clock.now() + timedelta(days=1),
    )
    drive.clock.advance(days=2)
    send(drive, referral, consent_expires_on="2027-01-31", consent_scope="referral")
    renewed = session.get(Consent, referral.consent_id)
    assert renewed.id != old.id
    assert renewed.scope == "referral"
    assert renewed.expires_at == datetime(2027, 2, 1, 5, 0, tzinfo=UTC)  # end of day, New York


# ---------------------------------------------------------------- deadlines --------
def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("sent_at", "due"),
    [
        # Thanksgiving (Thu 2026-11-26) inside the window: Monday, not Friday.
        (local(2026, 11, 25, 14, 0), local(2026, 11, 30, 14, 0)),
        (local(2026, 3, 2, 9, 0), local(2026, 3, 4, 9, 0)),  # an ordinary Monday
        (local(2026, 3, 6, 16, 30), local(2026, 3, 10, 16, 30)),  # Friday: over the weekend
        (local(2026, 12, 23, 10, 0), local(2026, 12, 28, 10, 0)),  # Christmas Day
    ],
)
def test_the_answer_is_due_in_2_business_days_by_the_sites_calendar(drive, sent_at, due):
    drive.clock.set(sent_at)
    referral = sent(drive)
    assert waiting_timers(drive, referral) == {"answer_overdue": due}


def test_no_answer_by_the_deadline_gives_an_urgent_re_refer_task(drive):
    drive.clock.set(local(2026, 11, 25, 14, 0))
    referral = sent(drive)
    drive.clock.set(local(2026, 11, 27, 17, 0))  # Friday after Thanksgiving: not yet
    assert fire_due(drive) == []
    assert open_tasks(drive, _case(drive, referral), "rerefer") == []
    drive.clock.set(local(2026, 11, 30, 14, 0, 1))
    assert fire_due(drive) == [True]
    task = task_of(drive, referral, "rerefer")
    assert (task.role, task.priority, task.assignee_id) == (
        "social_worker",
        "urgent",
        drive.team.worker.id,
    )
    assert referral.status == "requested"


def overdue(drive) -> Referral:
    referral = sent(drive)
    drive.clock.advance(days=3)
    assert fire_due(drive) == [True]
    return referral


def test_re_refer_elsewhere_cancels_this_referral_and_opens_a_new_one(drive, session):
    referral = overdue(drive)
    complete(
        drive,
        task_of(drive, referral, "rerefer"),
        {"decision": "refer_elsewhere", "reason": "No answer after two calls."},
    )
    assert (referral.status, referral.status_reason) == ("cancelled", "No answer after two calls.")
    assert instance_status(drive, referral) == "completed"
    new = referral_for(drive, _case(drive, referral))
    assert (new.status, new.need, new.previous_referral_id) == ("draft", "food", referral.id)
    assert task_of(drive, new, "send_referral").status == "open"
    assert (
        session.get(ProcessInstance, new.instance_id).parent_instance_id
        == session.get(ProcessInstance, referral.instance_id).parent_instance_id
    )


def test_re_refer_stop_cancels_without_a_new_referral(drive, session):
    referral = overdue(drive)
    complete(
        drive,
        task_of(drive, referral, "rerefer"),
        {"decision": "stop", "reason": "Client got food from church.", "reason_code": "got_help"},
    )
    assert referral.status == "cancelled"
    assert [r.id for r in referrals.referrals_for_case(session, referral.case_id)] == [referral.id]


def test_a_late_acceptance_closes_the_re_refer_task_and_follows_the_referral(drive):
    referral = overdue(drive)
    rerefer = task_of(drive, referral, "rerefer")
    message(drive, referral, "accepted")
    assert rerefer.status == "cancelled"
    assert referral.status == "accepted"
    assert set(waiting_timers(drive, referral)) == {"contact_wait", "outcome_wait"}


def test_a_decline_starts_a_new_referral_for_the_same_need(drive):
    referral = sent(drive)
    results = message(drive, referral, "rejected", reason="No capacity.", reason_code="no_capacity")
    assert instance_status(drive, referral) == "completed"
    new = referral_for(drive, _case(drive, referral))
    assert (new.previous_referral_id, new.status) == (referral.id, "draft")
    assert [t.bpmn_id for r in results for t in r.created_tasks] == ["send_referral"]


# ---------------------------------------------------------------- after acceptance -
def test_acceptance_schedules_the_7_day_contact_and_30_day_outcome_checks(drive):
    referral = sent(drive)
    drive.clock.advance(hours=5)
    message(drive, referral, "accepted")
    now = drive.clock.now()
    assert waiting_timers(drive, referral) == {
        "contact_wait": now + timedelta(days=7),
        "outcome_wait": now + timedelta(days=30),
    }


def test_the_contact_check_reaches_the_social_worker_after_7_days(drive):
    referral = accepted(drive)
    drive.clock.advance(days=7, seconds=1)
    assert fire_due(drive) == [True]
    task = task_of(drive, referral, "contact_check")
    assert (task.role, task.assignee_id) == ("social_worker", drive.team.worker.id)
    complete(drive, task, CONTACT_CHECK)
    assert referral.status == "accepted"
    assert instance_status(drive, referral) != "completed"  # still waiting for the outcome


def test_the_outcome_check_after_30_days_closes_the_loop(drive, case_manager):
    referral = accepted(drive)
    drive.clock.advance(days=30, seconds=1)
    assert any(fire_due(drive))  # one firing runs every due timer of an instance
    case = _case(drive, referral)
    outcome = task_of(drive, referral, "outcome_check")
    assert outcome.role == "case_manager"
    complete(drive, outcome, OUTCOME, actor=case_manager)
    assert (referral.status, referral.reason_code) == ("completed", "got_help")
    assert referrals.referral_history(drive.session, referral.id)[-1].source == "staff_recorded"
    assert instance_status(drive, referral) == "completed"
    # The terminate end also drops the contact check nobody did.
    assert [t for t in open_tasks(drive, case) if t.instance_id == referral.instance_id] == []


def test_a_failed_outcome_needs_a_reason(drive, case_manager):
    referral = accepted(drive)
    drive.clock.advance(days=30, seconds=1)
    fire_due(drive)
    with pytest.raises(Invalid) as err:
        complete(
            drive,
            task_of(drive, referral, "outcome_check"),
            {
                "outcome": "failed",
                "reason_code": "couldnt_contact",
                "information_from": "organisation",
            },
            actor=case_manager,
        )
    assert err.value.details == [{"field": "reason", "message": "This field is required."}]


def test_an_outcome_after_the_organisation_closed_the_referral_keeps_its_answer(
    drive, case_manager
):
    referral = accepted(drive)
    message(drive, referral, "completed")
    drive.clock.advance(days=30, seconds=1)
    fire_due(drive)
    complete(drive, task_of(drive, referral, "outcome_check"), OUTCOME, actor=case_manager)
    assert (referral.status, referral.reason_code) == ("completed", "got_help")
    assert instance_status(drive, referral) == "completed"


# ---------------------------------------------------------------- do not contact ---
def test_a_do_not_contact_referral_carries_contacting_subject_prohibited(drive):
    referral = sent(drive, ahc=AHC_UNSAFE)
    assert referral.do_not_contact is True
    assert referral.order_detail == "contacting-subject-prohibited"


def test_a_do_not_contact_case_gets_no_outreach_task(drive, case_manager):
    referral = accepted(drive, ahc=AHC_UNSAFE)
    case = _case(drive, referral)
    seen: set[str] = set()
    for _ in range(2):  # day 7, then day 30
        drive.clock.advance(days=15)
        fire_due(drive)
        seen |= {t.bpmn_id for t in open_tasks(drive, case)}
    assert seen & OUTREACH == set()
    confirm = task_of(drive, referral, "confirm_with_organisation")
    assert confirm.role == "case_manager"
    complete(drive, confirm, ORG_CONFIRM, actor=case_manager)
    every = drive.session.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case.id))
    assert set(every) & OUTREACH == set()


def test_without_do_not_contact_the_referral_may_contact_the_client(drive):
    referral = sent(drive)
    assert (referral.do_not_contact, referral.order_detail) == (False, None)


def test_the_send_form_can_prohibit_contact_for_a_case_without_the_flag(drive):
    case = planned(drive)
    referral = referral_for(drive, case)
    send(drive, referral, client_contact_prohibited=True)
    assert referral.order_detail == "contacting-subject-prohibited"


# ---------------------------------------------------------------- messages ---------
def test_status_messages_move_the_referral_and_keep_its_instance_listening(drive):
    referral = accepted(drive)
    for status, extra in (("in-progress", {}), ("on-hold", REASON), ("in-progress", {})):
        results = message(drive, referral, status, **extra)
        assert [r.instance.id for r in results] == [referral.instance_id]
        assert referral.status == status
        assert instance_status(drive, referral) != "completed"
    message(drive, referral, "completed")
    assert instance_status(drive, referral) != "completed"  # the 30-day outcome check remains


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error"])
def test_cancelling_an_accepted_referral_ends_its_instance_and_checks(drive, status):
    referral = accepted(drive)
    set_status(drive, referral, status, **REASON)
    assert instance_status(drive, referral) == "completed"
    assert waiting_timers(drive, referral) == {}


def test_cancelling_before_sending_closes_the_send_task(drive):
    case = planned(drive)
    referral = referral_for(drive, case)
    task = task_of(drive, referral, "send_referral")
    referrals.cancel_referral(
        drive.session,
        referral_id=referral.id,
        reason="Duplicate of a community referral.",
        actor=drive.team.worker,
        clock=drive.clock,
    )
    assert (task.status, instance_status(drive, referral)) == ("cancelled", "completed")


def test_a_status_message_reaches_only_its_referrals_instance(drive, session):
    case = planned(drive, needs=("food", "housing"))
    food, housing = referral_for(drive, case, "food"), referral_for(drive, case, "housing")
    send(drive, food)
    send(drive, housing, need="housing", organisation_name="City Housing Desk")
    other = session.get(ProcessInstance, housing.instance_id)
    version = other.version
    message(drive, food, "accepted")
    session.refresh(other)
    assert other.version == version
    assert set(waiting_timers(drive, food)) == {"contact_wait", "outcome_wait"}
    assert set(waiting_timers(drive, housing)) == {"answer_overdue"}


def test_a_message_for_another_cases_referral_is_not_found(drive):
    referral = sent(drive)
    other = drive.open_case(family_name="Other")
    with pytest.raises(NotFound):
        instances.deliver_message(
            drive.session,
            name="referral_status",
            case_id=other.id,
            payload={"referral_id": referral.id, "status": "accepted"},
            actor=None,
            clock=drive.clock,
        )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "accepted"}, "referral_id"),
        ({"referral_id": "7", "status": "accepted"}, "referral_id"),
        ({"referral_id": 1}, "status"),
    ],
)
def test_a_malformed_status_message_names_the_field(drive, payload, field):
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        instances.deliver_message(
            drive.session,
            name="referral_status",
            case_id=case.id,
            payload=payload,
            actor=None,
            clock=drive.clock,
        )
    assert [d["field"] for d in err.value.details] == [field]


def test_other_messages_still_reach_every_waiting_instance(drive):
    referral = sent(drive)
    with pytest.raises(Invalid) as err:
        instances.deliver_message(
            drive.session,
            name="nobody_waits_for_this",
            case_id=referral.case_id,
            payload={},
            actor=None,
            clock=drive.clock,
        )
    assert err.value.code == "message_not_expected"


# ---------------------------------------------------------------- case closure -----
def test_closing_the_case_cancels_unsent_referrals_and_keeps_accepted_ones(drive, session):
    case = planned(drive, needs=("food", "housing"))
    food, housing = referral_for(drive, case, "food"), referral_for(drive, case, "housing")
    send(drive, food)
    message(drive, food, "accepted")
    drive.clock.advance(days=14, seconds=1)
    fire_due(drive)
    drive.complete(case, "followup_review", demo.followup("close"))
    drive.complete(case, "close_case")
    assert (food.status, housing.status) == ("accepted", "cancelled")
    assert housing.status_reason == referrals.commands.CASE_CLOSED_REASON == "case_closed"
    live = session.scalars(
        select(ProcessInstance).where(
            ProcessInstance.case_id == case.id, ProcessInstance.status != "completed"
        )
    ).all()
    assert [i.id for i in live] == [food.instance_id]


# ---------------------------------------------------------------- audit ------------
def test_every_change_is_audited_with_ids_and_statuses_only(drive, session):
    referral = sent(drive)
    message(drive, referral, "rejected", reason="Outside our service area.")
    rows = session.scalars(
        select(audit.AuditEvent)
        .where(
            audit.AuditEvent.case_id == referral.case_id, audit.AuditEvent.category == "referral"
        )
        .order_by(audit.AuditEvent.id)
    ).all()
    mine = [r.details for r in rows if r.details["referral_id"] == referral.id]
    assert [(d.get("from"), d["to"]) for d in mine] == [
        (None, "draft"),
        ("draft", "requested"),
        ("requested", "rejected"),
    ]
    assert all(set(d) <= {"referral_id", "from", "to", "previous_referral_id"} for d in mine)
    assert all(r.action == "case:referral:updated" for r in rows)
    everything = json.dumps([r.details for r in session.scalars(select(audit.AuditEvent))])
    assert "Outside our service area" not in everything
    assert audit.verify_chain(session).ok


def test_consent_changes_are_audited(drive, session):
    case = drive.open_case()
    consent = referrals.record_consent(
        session,
        client_id=case.client_id,
        recipient="Eastside Food Bank",
        actor=drive.team.worker,
        clock=drive.clock,
    )
    referrals.revoke_consent(
        session, consent_id=consent.id, actor=drive.team.worker, clock=drive.clock
    )
    actions = session.scalars(
        select(audit.AuditEvent.action).where(
            audit.AuditEvent.client_id == case.client_id, audit.AuditEvent.category == "consent"
        )
    ).all()
    assert actions == ["client:consent:recorded", "client:consent:revoked"]


def test_a_history_row_names_who_changed_what(drive):
    referral = sent(drive)
    [created, requested] = referrals.referral_history(drive.session, referral.id)
    assert (created.to_status, requested.to_status) == ("draft", "requested")
    assert (requested.source, requested.actor) == ("requester", drive.team.worker.username)
    assert isinstance(requested, ReferralEvent)


# ---------------------------------------------------------------- directory --------
def test_find_resources_filters_by_need_age_and_language_and_ranks_nearby_first(drive, session):
    def add(name: str, **data: Any):
        return referrals.save_resource(
            session,
            data={
                "organization_name": name,
                "service_name": "Groceries",
                "category": "food",
                **data,
            },
            actor=None,
            clock=drive.clock,
        )

    far_old = add("Far Old", postal_code="10001", assured_date="2025-01-01")
    far_new = add("Far New", postal_code="10001", assured_date="2026-02-01")
    near = add("Near", postal_code="10025")
    add("Kids Only", max_age=17)
    add("Spanish Only", languages=["Spanish"])
    add("Closed", status="inactive")
    referrals.save_resource(
        session,
        data={"organization_name": "Shelter", "service_name": "Beds", "category": "housing"},
        actor=None,
        clock=drive.clock,
    )
    found = referrals.find_resources(
        session, need="food", postal_code="10025", age=67, language="English"
    )
    assert [r.id for r in found] == [near.id, far_new.id, far_old.id]


def test_a_resource_needs_its_names_and_category(drive, session):
    with pytest.raises(Invalid) as err:
        referrals.save_resource(session, data={"min_age": -1}, actor=None, clock=drive.clock)
    fields = {d["field"] for d in err.value.details}
    assert fields == {"organization_name", "service_name", "category", "min_age"}


def test_a_client_flagged_after_sending_gets_no_outreach_either(drive, session):
    referral = sent(drive)
    session.get(Client, referral.client_id).do_not_contact = True  # a later safety screen
    message(drive, referral, "accepted")
    assert referral.order_detail == "contacting-subject-prohibited"
    drive.clock.advance(days=7, seconds=1)
    fire_due(drive)
    assert task_of(drive, referral, "confirm_with_organisation").role == "case_manager"
    assert open_tasks(drive, _case(drive, referral), "contact_check") == []
