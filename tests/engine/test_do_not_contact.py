"""Do-not-contact reaches everything at once: open client outreach withdrawn in the same
transaction (cancelled, reason do_not_contact), one urgent "Plan safe contact" task for the
primary worker, later outreach replaced, and removing the flag left to a supervisor."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import audit, demo, instances, referrals, tasks_view, timers
from engine import client_flags as flags
from engine.errors import Forbidden, Invalid
from engine.inbox.models import HumanTask
from engine.referrals import Referral
from tests.factories import UserFactory

NEW_YORK = ZoneInfo("America/New_York")
SEND = dict(demo.REFERRAL)
OUTREACH = {"tcm_first_attempt", "tcm_retry", "contact_check", "followup_review"}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def fire_due(drive) -> None:
    for t in timers.claim_due_timers(drive.session, owner="test", now=drive.clock.now()):
        instances.fire_timer(drive.session, timer_id=t, clock=drive.clock, site=drive.site)


def rows(drive, case) -> list[HumanTask]:
    return list(
        drive.session.scalars(
            select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)
        )
    )


def discharge(drive, case) -> None:
    from engine import instances

    instances.deliver_message(
        drive.session,
        name="discharge",
        case_id=case.id,
        payload={"discharged_at": drive.clock.now().isoformat(), "disposition": "home"},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )


def all_outreach_open(drive):
    """A case with a TCM attempt, a referral client-contact check and a follow-up call open."""
    drive.clock.set(local(2026, 3, 2, 9, 0))
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(ahc=demo.AHC_FOOD_HOUSING))
    drive.complete(case, "care_plan", demo.care_plan(("food", "housing"), interval="P7D"))
    food = drive.session.scalar(
        select(Referral).where(Referral.case_id == case.id, Referral.need == "food")
    )
    sending = next(
        t for t in rows(drive, case) if t.bpmn_id == "send_referral" and t.status == "open"
    )
    from engine import instances

    instances.complete_task(
        drive.session,
        task_id=sending.id,
        data=SEND,
        actor=drive.team.worker,
        clock=drive.clock,
        site=drive.site,
    )
    referrals.handle_status_message(
        drive.session,
        case=case,
        payload={"referral_id": food.id, "status": "accepted"},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )
    drive.clock.set(local(2026, 3, 9, 11, 0))
    fire_due(drive)
    discharge(drive, case)
    assert OUTREACH - {"tcm_retry"} <= set(drive.open_tasks(case))
    return case


def set_dnc(drive, case, value: bool = True, actor=None, reason: str = "Partner threatens her."):
    return flags.set_flag(
        drive.session,
        case_id=case.id,
        flag="do_not_contact",
        value=value,
        reason=reason,
        actor=actor or drive.team.worker,
        clock=drive.clock,
        site=drive.site,
    )


def test_setting_the_flag_withdraws_every_open_outreach_task_at_once(drive):
    case = all_outreach_open(drive)
    change = set_dnc(drive, case)
    withdrawn = {t.bpmn_id: t for t in change.withdrawn}
    assert set(withdrawn) == {"tcm_first_attempt", "contact_check", "followup_review"}
    assert {(t.status, t.cancel_reason) for t in withdrawn.values()} == {
        ("cancelled", "do_not_contact")
    }
    assert OUTREACH.isdisjoint(drive.open_tasks(case))


def test_one_urgent_plan_safe_contact_task_goes_to_the_primary_worker(drive):
    case = all_outreach_open(drive)
    change = set_dnc(drive, case)
    plans = [t for t in rows(drive, case) if t.bpmn_id == "plan_safe_contact"]
    assert plans == [change.plan_task]
    plan = change.plan_task
    assert (plan.name, plan.priority, plan.assignee_id, plan.status) == (
        "Plan safe contact",
        "urgent",
        drive.team.worker.id,
        "open",
    )


def test_withdrawn_work_goes_on_without_the_client(drive):
    case = all_outreach_open(drive)
    set_dnc(drive, case)
    tasks = drive.open_tasks(case)
    # The referral check goes to the organisation; the follow-up is reviewed without a call.
    assert tasks["confirm_with_organisation"].role == "case_manager"
    assert "followup_review_safe" in tasks


def test_no_instruction_suggests_family_or_the_emergency_contact(drive):
    case = all_outreach_open(drive)
    set_dnc(drive, case)
    for task in drive.open_tasks(case).values():
        detail = tasks_view.view_task(
            drive.session, task_id=task.id, actor=drive.team.supervisor, clock=drive.clock
        )
        text = (detail.instructions or "").lower()
        for phrase in ("call the emergency contact", "through the caregiver", "(or caregiver)"):
            assert phrase not in text, (task.bpmn_id, phrase)


def test_every_task_summary_carries_the_current_flags(drive):
    case = all_outreach_open(drive)
    set_dnc(drive, case)
    summaries = tasks_view.summarize_tasks(drive.session, rows(drive, case))
    assert {s.client_flags.get("do_not_contact") for s in summaries} == {True}


def test_outreach_a_later_step_would_create_is_replaced(drive):
    drive.clock.set(local(2026, 3, 2, 9, 0))
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment")
    drive.complete(case, "care_plan", demo.care_plan(("food",), interval="P7D"))
    set_dnc(drive, case)
    drive.clock.set(local(2026, 3, 9, 11, 0))
    fire_due(drive)
    discharge(drive, case)
    every = {t.bpmn_id for t in rows(drive, case)}
    assert OUTREACH.isdisjoint(every)
    assert {"followup_review_safe", "tcm_safe_contact"} <= set(drive.open_tasks(case))


def test_an_unsafe_ahc_screen_withdraws_outreach_in_the_same_command(drive):
    drive.clock.set(local(2026, 3, 2, 9, 0))
    case = drive.open_case()
    drive.complete(case, "intake")
    discharge(drive, case)  # the bedside assessment continues by phone, the TCM call is open
    result = drive.complete(case, "phone_assessment", demo.assessment(ahc=demo.AHC_UNSAFE))
    attempt = next(t for t in rows(drive, case) if t.bpmn_id == "tcm_first_attempt")
    assert (attempt.status, attempt.cancel_reason) == ("cancelled", "do_not_contact")
    assert "plan_safe_contact" in {t.bpmn_id for t in result.created_tasks}


def test_withdrawal_is_on_the_timeline(drive, session):
    from engine import cases

    case = all_outreach_open(drive)
    set_dnc(drive, case)
    actions = [e.action for e in cases.timeline(session, case.id)]
    assert actions.count(audit.AuditTag.OUTREACH_WITHDRAWN) == 3
    assert audit.AuditTag.CASE_FLAGGED in actions


def test_setting_the_flag_needs_a_reason(drive):
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        set_dnc(drive, case, reason="  ")
    assert [d["field"] for d in err.value.details] == ["reason"]


def test_only_a_supervisor_may_remove_the_flag(drive):
    case = drive.open_case()
    set_dnc(drive, case)
    with pytest.raises(Forbidden):
        set_dnc(drive, case, value=False, reason="Client asked.")
    change = set_dnc(drive, case, value=False, actor=drive.team.supervisor, reason="Moved out.")
    assert change.changed
    assert case.client.do_not_contact is False


def test_removing_the_flag_needs_a_reason_too(drive):
    case = drive.open_case()
    set_dnc(drive, case)
    with pytest.raises(Invalid):
        set_dnc(drive, case, value=False, actor=drive.team.supervisor, reason="")


def test_setting_it_twice_changes_nothing_more(drive):
    case = drive.open_case()
    set_dnc(drive, case)
    again = set_dnc(drive, case)
    assert (again.changed, again.plan_task) == (False, None)
    assert [t.bpmn_id for t in rows(drive, case)].count("plan_safe_contact") == 1


def test_a_client_flag_reaches_the_clients_other_open_cases(drive):
    case = drive.open_case(mrn="MRN-DNC-1")
    other = drive.open_case(mrn="MRN-DNC-1")
    set_dnc(drive, case)
    assert other.flags.get("do_not_contact") is True


def test_a_role_without_casework_cannot_set_it(drive):
    case = drive.open_case()
    with pytest.raises(Forbidden):
        set_dnc(drive, case, actor=UserFactory(role_keys=("admin",)))


def test_the_reason_is_kept_in_the_flag_history_not_in_the_audit_or_the_case(drive, session):
    from engine.cases.models import CaseFlagEvent

    case = drive.open_case()
    set_dnc(drive, case, reason="Partner threatens her.")
    [event] = session.scalars(select(CaseFlagEvent).where(CaseFlagEvent.case_id == case.id))
    assert (event.flag, event.value, event.reason, event.actor_id) == (
        "do_not_contact",
        True,
        "Partner threatens her.",
        drive.team.worker.id,
    )
    details = session.scalars(
        select(audit.AuditEvent.details).where(audit.AuditEvent.case_id == case.id)
    ).all()
    assert "Partner" not in repr(details)
    assert "Partner" not in repr(case.flags)


def test_the_review_without_contact_offers_no_caregiver_and_closes_the_round(drive):
    case = all_outreach_open(drive)
    set_dnc(drive, case)
    with pytest.raises(Invalid):
        drive.complete(
            case,
            "followup_review_safe",
            {**demo.followup("close"), "contact_outcome": "reached_caregiver"},
        )
    drive.complete(case, "followup_review_safe")
    assert "close_case" in drive.open_tasks(case)


def test_a_version_without_the_boundary_event_keeps_its_task_rather_than_failing():
    """Instances of a version deployed before outreach could be withdrawn run on."""
    from engine import outreach
    from engine.workflow import runtime
    from tests.processes.test_crisis_discharge import Run

    run = Run("safe_contact", withdrawn=[])
    task = run.ready()["plan_safe_contact"]
    task.task_spec.extensions["properties"]["clientOutreach"] = "true"
    try:
        assert outreach.withdraw(run.wf) == []
        assert [t.bpmn_id for t in runtime.ready_human_tasks(run.wf)] == ["plan_safe_contact"]
    finally:
        del task.task_spec.extensions["properties"]["clientOutreach"]
