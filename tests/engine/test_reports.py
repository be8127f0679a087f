"""Each report's figures on a crafted history (exact numbers), with a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engine import reports
from engine.calendar import Site
from engine.clock import FrozenClock
from engine.errors import BadRequest
from tests.factories import NurseFactory, SocialWorkerFactory
from tests.report_history import FIRST, LAST, History, utc


@pytest.fixture
def history(session: Session) -> History:
    return History(session)


def run(
    session: Session, clock: FrozenClock, name: str, *, last=LAST, **filters: Any
) -> reports.Report:
    period = reports.parse_period(FIRST.isoformat(), last.isoformat(), zone=Site().zone)
    return reports.run_report(
        session, name, period=period, filters=reports.Filters(**filters), now=clock.now()
    )


def by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple, dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in rows}


def _task_history(h: History) -> None:
    h.task("intake", created=utc(23), completed=utc(23, 16), due=utc(24))
    h.task("intake", created=utc(24), completed=utc(24, 17), due=utc(24, 16))
    h.task("intake", created=utc(25), completed=utc(25, 15, 30), due=utc(26))
    h.task("intake", created=utc(26), due=utc(1, 12, month=3))  # open, overdue now
    h.task("intake", created=utc(10), due=utc(10, month=3))  # open, from before the period
    h.task("intake", created=utc(20), completed=utc(2, 13, month=3))  # neither in the period
    # Created 22:00 New York on the 22nd (before the period), completed 01:00 on the 23rd.
    h.task("assessment", role="nurse", created=utc(23, 3), completed=utc(23, 6), due=utc(23, 5))


def test_tasks_report_counts_each_task_type_and_role(session, clock, history):
    _task_history(history)
    rows = by(run(session, clock, "tasks").rows, "bpmn_id", "role")
    assert rows[("intake", "social_worker")] == {
        "bpmn_id": "intake",
        "name": "Intake",
        "role": "social_worker",
        "created": 4,
        "completed": 3,
        "completed_on_time_pct": 66.7,
        "median_minutes_to_complete": 60.0,
        "p90_minutes_to_complete": 120.0,
        "open_now": 2,
        "overdue_now": 1,
    }
    assert rows[("assessment", "nurse")] == {
        "bpmn_id": "assessment",
        "name": "Assessment",
        "role": "nurse",
        "created": 0,
        "completed": 1,
        "completed_on_time_pct": 0.0,
        "median_minutes_to_complete": 180.0,
        "p90_minutes_to_complete": 180.0,
        "open_now": 0,
        "overdue_now": 0,
    }


def test_tasks_report_team_filter_keeps_one_role(session, clock, history):
    _task_history(history)
    rows = run(session, clock, "tasks", team="nurse").rows
    assert [(r["bpmn_id"], r["role"]) for r in rows] == [("assessment", "nurse")]


def test_crisis_report_buckets_stat_tasks_by_site_week(session, clock, history):
    waits = {23: 5, 24: 20, 25: 10}
    for day, minutes in waits.items():
        t = history.task("crisis_assessment", priority="stat", created=utc(day))
        t.acknowledged_at = utc(day) + timedelta(minutes=minutes)
        if day == 24:
            history.task(
                "esc",
                kind="escalation",
                priority="stat",
                created=utc(24, 15, 15),
                escalates_task_id=t.id,
            )
    unanswered = history.task("crisis_assessment", priority="stat", created=utc(26))
    for step in (15, 30):
        history.task(
            "esc",
            kind="escalation",
            priority="stat",
            created=utc(26, 15, step),
            escalates_task_id=unanswered.id,
        )
    # 01:00 New York on Monday 2 March: the next ISO week.
    late = history.task("crisis_assessment", priority="stat", created=utc(2, 6, month=3))
    late.acknowledged_at = utc(2, 6, 3, month=3)
    history.task("intake", created=utc(25))  # routine: not a crisis
    report = run(session, clock, "crisis", last=FIRST + timedelta(days=7))
    assert report.rows == [
        {
            "week": "2026-W09",
            "stat_tasks": 4,
            "acknowledged": 3,
            "median_minutes_to_acknowledge": 10.0,
            "p90_minutes_to_acknowledge": 20.0,
            "max_minutes_to_acknowledge": 20.0,
            "escalations_fired": 3,
            "acknowledged_within_15_min_pct": 50.0,
        },
        {
            "week": "2026-W10",
            "stat_tasks": 1,
            "acknowledged": 1,
            "median_minutes_to_acknowledge": 3.0,
            "p90_minutes_to_acknowledge": 3.0,
            "max_minutes_to_acknowledge": 3.0,
            "escalations_fired": 0,
            "acknowledged_within_15_min_pct": 100.0,
        },
    ]


def _tcm(h: History, day: int, *attempts: tuple, disposition: str = "home") -> None:
    case = h.case(discharged_at=utc(day), discharge_disposition=disposition)
    deadline = utc(day + 2, 22)
    for i, (completed, outcome) in enumerate(attempts):
        h.task(
            "tcm_first_attempt" if i == 0 else "tcm_retry",
            case=case,
            process_key="discharge_followup",
            created=utc(day),
            due=deadline if i == 0 else utc(day + 5),
            completed=completed,
            outcome=outcome,
        )


def test_tcm_report_counts_contacts_within_the_deadline(session, clock, history):
    reached, unreachable = {"outcome": "reached"}, {"outcome": "unreachable"}
    _tcm(history, 23, (utc(24), reached))  # in time
    _tcm(history, 24, (utc(24), unreachable), (utc(27), reached))  # reached after the deadline
    _tcm(
        history,
        25,
        (utc(25), unreachable),
        (utc(26), {**unreachable, "record_unable_to_reach": True}),
    )
    _tcm(history, 26, (None, None))  # first attempt still open
    _tcm(history, 26, (None, None), disposition="expired")  # no outreach after a death
    _tcm(history, 20, (utc(21), reached))  # discharged before the period
    report = run(session, clock, "tcm")
    expected = {
        "discharges": 4,
        "contacted_within_deadline": 1,
        "contact_within_deadline_pct": 25.0,
        "unable_to_reach": 1,
        "still_open": 1,
    }
    assert report.rows == [{"week": "2026-W09", **expected}]
    assert report.totals == expected


def _fuh(h: History, day: int, *checks: tuple) -> None:
    case = h.case(discharged_at=utc(day), discharge_disposition="home")
    for bpmn_id, outcome in checks:
        h.task(
            bpmn_id,
            case=case,
            process_key="discharge_followup",
            created=utc(day),
            completed=utc(day + 1) if outcome else None,
            outcome=outcome,
        )


def test_fuh_report_rates_visits_within_7_and_30_days(session, clock, history):
    attended = {"visit_status": "attended"}
    _fuh(history, 23, ("fuh_7_check", {**attended, "visit_date": "2026-03-02"}))
    _fuh(
        history,
        24,
        ("fuh_7_check", {"visit_status": "missed"}),
        ("fuh_30_check", {**attended, "visit_date": "2026-03-10"}),
    )
    _fuh(history, 25, ("fuh_7_check", None))
    _tcm(history, 25, (utc(25), {"outcome": "reached"}))  # no FUH checks: not in the measure
    report = run(session, clock, "fuh")
    expected = {
        "discharges": 3,
        "visit_within_7_days": 1,
        "fuh_7_day_pct": 33.3,
        "visit_within_30_days": 2,
        "fuh_30_day_pct": 66.7,
        "pending": 1,
    }
    assert report.rows == [{"week": "2026-W09", **expected}]
    assert report.totals == expected


def test_referrals_report_closes_the_loop_per_need_and_organisation(session, clock, history):
    case = history.case()
    food, housing = "Eastside Food Bank", "City Housing Help Desk"
    history.referral(
        "food",
        food,
        case=case,
        sent=utc(23),
        events=[("accepted", utc(24)), ("completed", utc(26))],
    )
    history.referral(
        "food", food, case=case, sent=utc(24), events=[("rejected", utc(25), "no_capacity")]
    )
    history.referral("food", food, case=case, sent=utc(25), events=[])
    history.referral("housing", housing, case=case, sent=utc(26), events=[("accepted", utc(27))])
    history.referral("food", food, case=case, sent=utc(10), events=[("completed", utc(24))])
    rows = by(run(session, clock, "referrals").rows, "need")
    assert rows[("food",)] == {
        "need": "food",
        "organization": food,
        "sent": 3,
        "accepted": 1,
        "rejected": 1,
        "rejected_reasons": {"no_capacity": 1},
        "completed": 1,
        "loop_closed_pct": 66.7,
        "median_days_to_outcome": 2.0,
    }
    assert rows[("housing",)] == {
        "need": "housing",
        "organization": housing,
        "sent": 1,
        "accepted": 1,
        "rejected": 0,
        "rejected_reasons": {},
        "completed": 0,
        "loop_closed_pct": 0.0,
        "median_days_to_outcome": None,
    }


def caseload_history(h: History) -> tuple[Any, Any]:
    sw1, sw2 = SocialWorkerFactory(username="ana"), SocialWorkerFactory(username="ben")
    NurseFactory()
    h.case(worker=sw1, opened_at=utc(24))
    h.case(worker=sw1)
    h.case(worker=sw1, status="closed", closed_at=utc(27))
    h.case(worker=sw2, opened_at=utc(25))
    h.task("intake", assignee_id=sw1.id, created=utc(20), due=utc(3, month=3))
    h.task("intake", assignee_id=sw1.id, created=utc(20), due=utc(1, month=3))
    h.task("crisis", assignee_id=sw1.id, priority="stat", created=utc(25), completed=utc(25, 16))
    return sw1, sw2


def test_caseload_report_has_one_row_per_worker(session, clock, history):
    caseload_history(history)
    rows = run(session, clock, "caseload").rows
    assert rows == [
        {
            "user": "ana",
            "name": "Ana",
            "open_cases": 2,
            "new_this_period": 1,
            "closed": 1,
            "open_tasks": 2,
            "overdue": 1,
            "stat_in_period": 1,
        },
        {
            "user": "ben",
            "name": "Ben",
            "open_cases": 1,
            "new_this_period": 1,
            "closed": 0,
            "open_tasks": 0,
            "overdue": 0,
            "stat_in_period": 0,
        },
    ]


def test_screening_report_counts_bands_positives_and_addressed_needs(session, clock, history):
    case, other = history.case(), history.case()
    for _ in range(2):
        history.screen("phq2", case=case, at=utc(24), band="negative", flags=[])
    history.screen("phq2", case=other, at=utc(25), band="positive", flags=["phq2_positive"])
    history.screen("phq2", case=other, at=utc(20), band="positive", flags=["phq2_positive"])
    history.screen(
        "ahc_hrsn",
        case=case,
        at=utc(24),
        band=None,
        flags=["food_insecurity", "housing_instability"],
    )
    history.task(
        "care_plan",
        case=case,
        created=utc(25),
        completed=utc(25, 16),
        outcome={"needs_addressed": ["food"]},
    )
    report = run(session, clock, "screening")
    assert report.rows == [
        {
            "instrument": "ahc_hrsn",
            "band": None,
            "screens": 1,
            "positive": 1,
            "positive_pct": 100.0,
        },
        {
            "instrument": "phq2",
            "band": "negative",
            "screens": 2,
            "positive": 0,
            "positive_pct": 0.0,
        },
        {
            "instrument": "phq2",
            "band": "positive",
            "screens": 1,
            "positive": 1,
            "positive_pct": 100.0,
        },
    ]
    assert report.totals == {
        "instruments": {
            "ahc_hrsn": {"screens": 1, "positive": 1, "positive_pct": 100.0},
            "phq2": {"screens": 3, "positive": 1, "positive_pct": 33.3},
        },
        "social_needs_domains_positive": 2,
        "social_needs_domains_addressed": 1,
        "social_needs_addressed_pct": 50.0,
    }


@pytest.mark.parametrize(
    ("start", "end"), [("2026-03-02", "2026-03-01"), ("2026-02-30", "2026-03-01"), ("", "x")]
)
def test_bad_periods_are_refused(start, end):
    with pytest.raises(BadRequest):
        reports.parse_period(start, end, zone=Site().zone)


def test_task_outcome_keeps_codes_and_never_free_text():
    data = {"outcome": "reached", "notes": "Spoke with daughter", "attempted_at": "x"}
    assert reports.outcome_of("tcm_first_attempt", data) == {"outcome": "reached"}
    assert reports.outcome_of("intake", data) is None


def test_care_plan_outcome_lists_every_addressed_need():
    plan = {"needs": ["food"], "declined": {"housing": "has a plan"}, "already_met": ["utilities"]}
    outcome = reports.outcome_of("care_plan", plan, covers_needs=True)
    assert outcome == {"needs_addressed": ["food", "housing", "utilities"]}
