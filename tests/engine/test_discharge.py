"""Discharge: the message's contract, deadlines counted from the discharge (TCM at the end of
the site's business day, HEDIS FUH at the end of day 7 and 30), one discharge per admission,
dispositions, and inpatient work ended. Time is a FrozenClock; timers fire as the scheduler
fires them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import audit, cases, demo, instances, timers
from engine.errors import Conflict, Invalid
from engine.inbox.models import HumanTask
from engine.timers import Timer

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


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def discharge(
    drive,
    case,
    when: datetime,
    *,
    arrives: datetime | None = None,
    disposition: str = "home",
    behavioral_health: bool | None = None,
    **extra: Any,
) -> list[instances.CommandResult]:
    drive.clock.set(arrives or when)
    payload: dict[str, Any] = {"discharged_at": when.isoformat(), "disposition": disposition}
    if behavioral_health is not None:
        payload["behavioral_health"] = behavioral_health
    payload.update(extra)
    return instances.deliver_message(
        drive.session,
        name="discharge",
        case_id=case.id,
        payload=payload,
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )


def created(results) -> dict[str, HumanTask]:
    return {t.bpmn_id: t for r in results for t in r.created_tasks}


def fire_due(drive) -> list[bool]:
    claimed = timers.claim_due_timers(drive.session, owner="test", now=drive.clock.now())
    return [
        instances.fire_timer(drive.session, timer_id=t, clock=drive.clock, site=drive.site)
        for t in claimed
    ]


# --- TCM: end of the site's business day on the 2nd business day after the discharge date --


@pytest.mark.parametrize(
    ("discharged", "due"),
    [
        # Monday 03:00 and 23:30: the time of day does not matter, the date does.
        (local(2026, 3, 2, 3, 0), local(2026, 3, 4, 17, 0)),
        (local(2026, 3, 2, 23, 30), local(2026, 3, 4, 17, 0)),
        # Friday: the weekend does not count.
        (local(2026, 11, 27, 10, 30), local(2026, 12, 1, 17, 0)),
        # Friday 23:30 in New York is already Saturday in UTC: still a Friday discharge.
        (local(2026, 11, 27, 23, 30), local(2026, 12, 1, 17, 0)),
        # Before Christmas: Thursday 24th counts, Friday 25th (holiday) and the weekend do not.
        (local(2026, 12, 23, 16, 0), local(2026, 12, 28, 17, 0)),
        # Before Thanksgiving (Thursday 26th).
        (local(2026, 11, 25, 9, 0), local(2026, 11, 30, 17, 0)),
        # Across the start of daylight saving time (Sunday 8 March): 17:00 EDT.
        (local(2026, 3, 6, 12, 0), local(2026, 3, 10, 17, 0)),
    ],
)
def test_tcm_contact_is_due_at_the_end_of_the_second_business_day(drive, discharged, due):
    case = drive.open_case()
    contact = created(discharge(drive, case, discharged))["tcm_first_attempt"]
    assert (contact.role, contact.assignee_id, contact.priority) == (
        "social_worker",
        drive.team.worker.id,
        "urgent",
    )
    assert contact.due_at == due.astimezone(UTC)


def test_the_deadline_timer_falls_at_the_same_instant(drive, session):
    case = drive.open_case()
    [result] = discharge(drive, case, local(2026, 3, 2, 3, 0))
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == result.instance.id)).all()
    assert (timer.bpmn_id, timer.status) == ("tcm_deadline", "waiting")
    assert timer.due_at == local(2026, 3, 4, 17, 0).astimezone(UTC)


def test_a_site_closed_day_does_not_count(drive):
    drive.site = replace(drive.site, overrides=((date(2026, 3, 3), False),))
    case = drive.open_case()
    contact = created(discharge(drive, case, local(2026, 3, 2, 10, 0)))["tcm_first_attempt"]
    assert contact.due_at == local(2026, 3, 5, 17, 0).astimezone(UTC)


def test_a_site_open_line_reopens_a_public_holiday(drive):
    drive.site = replace(drive.site, overrides=((date(2026, 11, 26), True),))
    case = drive.open_case()
    contact = created(discharge(drive, case, local(2026, 11, 25, 9, 0)))["tcm_first_attempt"]
    assert contact.due_at == local(2026, 11, 27, 17, 0).astimezone(UTC)


def test_the_site_business_day_end_sets_the_hour(drive):
    drive.site = replace(drive.site, business_day_end=time(16, 30))
    case = drive.open_case()
    contact = created(discharge(drive, case, local(2026, 3, 2, 10, 0)))["tcm_first_attempt"]
    assert contact.due_at == local(2026, 3, 4, 16, 30).astimezone(UTC)


def test_a_late_message_creates_the_task_already_overdue_with_its_true_due_time(drive):
    case = drive.open_case()
    late = local(2026, 3, 5, 9, 0)
    contact = created(discharge(drive, case, local(2026, 3, 2, 10, 0), arrives=late))[
        "tcm_first_attempt"
    ]
    assert contact.due_at == local(2026, 3, 4, 17, 0).astimezone(UTC)
    assert contact.due_at < drive.clock.now()


def test_a_late_message_alerts_the_supervisor_at_once(drive):
    case = drive.open_case()
    tasks = created(
        discharge(drive, case, local(2026, 3, 2, 10, 0), arrives=local(2026, 3, 5, 9, 0))
    )
    assert tasks["tcm_overdue_review"].role == "supervisor"
    drive.clock.advance(seconds=1)
    assert fire_due(drive) == []


def test_supervisor_is_alerted_only_after_the_end_of_the_business_day(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 12, 1, 16, 59))
    assert fire_due(drive) == []
    drive.clock.set(local(2026, 12, 1, 17, 0, 1))
    assert fire_due(drive) == [True]
    tasks = drive.open_tasks(case)
    assert (tasks["tcm_overdue_review"].role, tasks["tcm_overdue_review"].priority) == (
        "supervisor",
        "asap",
    )
    assert "tcm_first_attempt" in tasks


def test_two_unreachable_attempts_then_unable_to_reach(drive):
    case = drive.open_case()
    [result] = discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    retry = drive.complete(case, "tcm_first_attempt", UNREACHED)
    assert [t.bpmn_id for t in retry.created_tasks] == ["tcm_retry"]
    drive.clock.set(local(2026, 11, 30, 15, 0))
    drive.complete(
        case,
        "tcm_retry",
        {**UNREACHED, "attempted_at": "2026-11-30T15:00:00-05:00", "record_unable_to_reach": True},
    )
    assert "tcm_retry" not in drive.open_tasks(case)


def test_unable_to_reach_cannot_be_recorded_at_the_first_attempt(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    with pytest.raises(Invalid):
        drive.complete(case, "tcm_first_attempt", {**UNREACHED, "record_unable_to_reach": True})


def test_contact_in_time_means_no_supervisor_alert(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    drive.complete(case, "tcm_first_attempt", REACHED)
    drive.clock.set(local(2026, 12, 2, 9, 0))
    assert fire_due(drive) == []


def test_do_not_contact_client_gets_a_safe_contact_plan_due_at_the_tcm_deadline(drive, session):
    case = drive.open_case()
    case.client.do_not_contact = True
    tasks = created(discharge(drive, case, local(2026, 11, 27, 10, 30)))
    assert "tcm_first_attempt" not in tasks
    assert tasks["tcm_safe_contact"].due_at == local(2026, 12, 1, 17, 0).astimezone(UTC)


# --- HEDIS FUH: end of day 7 and end of day 30 (23:59:59 site time) ---------------------


@pytest.mark.parametrize(
    ("discharged", "due_7", "due_30"),
    [
        (
            local(2026, 11, 27, 10, 30),
            local(2026, 12, 4, 23, 59, 59),
            local(2026, 12, 27, 23, 59, 59),
        ),
        (local(2026, 3, 2, 3, 0), local(2026, 3, 9, 23, 59, 59), local(2026, 4, 1, 23, 59, 59)),
        # 23:30 local is the next day in UTC: the site's date counts.
        (
            local(2026, 3, 2, 23, 30),
            local(2026, 3, 9, 23, 59, 59),
            local(2026, 4, 1, 23, 59, 59),
        ),
    ],
)
def test_fuh_checks_are_due_at_the_end_of_day_7_and_day_30(drive, discharged, due_7, due_30):
    case = drive.open_case()
    tasks = created(discharge(drive, case, discharged, behavioral_health=True))
    assert tasks["fuh_7_check"].due_at == due_7.astimezone(UTC)
    assert tasks["fuh_30_check"].due_at == due_30.astimezone(UTC)
    assert tasks["fuh_7_check"].name == "Follow-up visit within 7 days"
    assert tasks["fuh_30_check"].name == "Follow-up visit within 30 days"


def test_no_fuh_checks_without_behavioural_health(drive):
    case = drive.open_case()
    tasks = created(discharge(drive, case, local(2026, 3, 2, 10, 0), behavioral_health=False))
    assert {"fuh_7_check", "fuh_30_check"}.isdisjoint(tasks)


def test_a_flagged_case_gets_fuh_checks_when_the_message_does_not_say(drive):
    case = drive.open_case()
    case.flags = {"behavioral_health": True}
    tasks = created(discharge(drive, case, local(2026, 3, 2, 10, 0)))
    assert {"fuh_7_check", "fuh_30_check"} <= set(tasks)


def test_fuh_check_records_the_visit_date_on_the_timeline(drive, session):
    case = drive.open_case()
    discharge(drive, case, local(2026, 3, 2, 10, 0), behavioral_health=True)
    drive.complete(case, "fuh_7_check", {"visit_status": "attended", "visit_date": "2026-03-06"})
    drive.complete(
        case, "fuh_30_check", {"visit_status": "declined", "reason": "Sees her own GP only."}
    )
    fuh = [e for e in cases.timeline(session, case.id) if e.action == audit.AuditTag.FUH_RECORDED]
    assert [
        (e.details["check"], e.details["visit_status"], e.details["visit_date"]) for e in fuh
    ] == [
        ("7_day", "attended", "2026-03-06"),
        ("30_day", "declined", None),
    ]


def test_fuh_check_needs_the_visit_date_or_the_reason(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 3, 2, 10, 0), behavioral_health=True)
    with pytest.raises(Invalid):
        drive.complete(case, "fuh_7_check", {"visit_status": "attended"})
    with pytest.raises(Invalid):
        drive.complete(case, "fuh_7_check", {"visit_status": "missed"})


# --- dispositions -------------------------------------------------------------------------


def test_expired_starts_no_outreach(drive):
    case = drive.open_case()
    tasks = created(
        discharge(
            drive, case, local(2026, 3, 2, 10, 0), disposition="expired", behavioral_health=True
        )
    )
    assert {"tcm_first_attempt", "tcm_safe_contact", "fuh_7_check", "fuh_30_check"}.isdisjoint(
        tasks
    )


def test_ama_adds_a_same_day_supervisor_review(drive):
    case = drive.open_case()
    tasks = created(discharge(drive, case, local(2026, 3, 2, 15, 0), disposition="ama"))
    review = tasks["ama_review"]
    assert (review.role, review.priority) == ("supervisor", "urgent")
    assert review.due_at == local(2026, 3, 2, 23, 59, 59).astimezone(UTC)
    assert "tcm_first_attempt" in tasks


def test_a_home_discharge_has_no_ama_review(drive):
    case = drive.open_case()
    assert "ama_review" not in created(discharge(drive, case, local(2026, 3, 2, 15, 0)))


# --- the message's contract ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"disposition": "home"}, "discharged_at"),
        ({"discharged_at": "2026-03-02T10:00:00", "disposition": "home"}, "discharged_at"),
        ({"discharged_at": "2026-03-02", "disposition": "home"}, "discharged_at"),
        ({"discharged_at": "yesterday", "disposition": "home"}, "discharged_at"),
        ({"discharged_at": "2026-03-02T10:00:00-05:00", "disposition": "moon"}, "disposition"),
        ({"discharged_at": "2026-03-02T10:00:00-05:00", "disposition": None}, "disposition"),
        (
            {
                "discharged_at": "2026-03-02T10:00:00-05:00",
                "disposition": "home",
                "behavioral_health": "yes",
            },
            "behavioral_health",
        ),
    ],
)
def test_an_invalid_discharge_names_the_field_and_changes_nothing(drive, session, payload, field):
    case = drive.open_case()
    with pytest.raises(Invalid) as err:
        instances.deliver_message(
            session,
            name="discharge",
            case_id=case.id,
            payload=payload,
            actor=None,
            clock=drive.clock,
            site=drive.site,
        )
    assert [d["field"] for d in err.value.details] == [field]
    assert case.discharged_at is None


def test_a_second_discharge_for_the_admission_is_refused(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 3, 2, 10, 0))
    with pytest.raises(Conflict) as err:
        discharge(drive, case, local(2026, 3, 3, 10, 0))
    assert err.value.code == "already_discharged"


def test_a_second_discharge_is_refused_even_after_the_pathway_finished(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 3, 2, 10, 0), disposition="expired")
    with pytest.raises(Conflict):
        discharge(drive, case, local(2026, 3, 2, 10, 0), disposition="expired")


def test_without_a_disposition_it_is_a_standard_discharge(drive, session):
    case = drive.open_case()
    results = instances.deliver_message(
        session,
        name="discharge",
        case_id=case.id,
        payload={"discharged_at": "2026-03-02T03:00:00-05:00", "behavioral_health": True},
        actor=None,
        clock=drive.clock,
        site=drive.site,
    )
    assert {"tcm_first_attempt", "fuh_7_check", "fuh_30_check"} <= set(created(results))
    assert "ama_review" not in created(results)
    assert case.discharge_disposition == "other"


def test_the_discharge_is_recorded_on_the_case(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 3, 2, 10, 0), disposition="snf")
    assert case.discharged_at == local(2026, 3, 2, 10, 0)
    assert case.discharge_disposition == "snf"


# --- inpatient work ends at discharge ---------------------------------------------------------


def test_the_bedside_assessment_becomes_a_phone_assessment(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    bedside = drive.open_tasks(case)["assessment"]
    tasks = created(discharge(drive, case, local(2026, 3, 2, 10, 0)))
    assert (bedside.status, bedside.cancel_reason) == ("cancelled", "discharged")
    phone = drive.open_tasks(case)["phone_assessment"]
    assert phone.assignee_id == drive.team.worker.id
    notice = tasks["discharge_notice"]
    assert (notice.role, notice.assignee_id) == ("social_worker", drive.team.worker.id)


def test_the_phone_assessment_routes_by_risk_like_the_bedside_one(drive, session):
    from tests.factories import UserFactory

    UserFactory(role_keys=("social_worker",), on_call=True)
    case = drive.open_case()
    drive.complete(case, "intake")
    discharge(drive, case, local(2026, 3, 2, 10, 0))
    drive.complete(case, "phone_assessment", demo.assessment(cssrs=demo.CSSRS_HIGH))
    assert "crisis_response" in drive.open_tasks(case)


def test_a_client_who_died_leaves_no_assessment_behind(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    discharge(drive, case, local(2026, 3, 2, 10, 0), disposition="expired")
    tasks = drive.open_tasks(case)
    assert {"assessment", "phone_assessment"}.isdisjoint(tasks)
    assert "discharge_notice" in tasks


def test_nothing_inpatient_open_means_no_notice(drive):
    case = drive.open_case()
    tasks = created(discharge(drive, case, local(2026, 3, 2, 10, 0)))
    assert "discharge_notice" not in tasks
    assert "intake" in drive.open_tasks(case)
