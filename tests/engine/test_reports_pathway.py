"""The reports on history made by the real pathway (discharge message, TCM and FUH tasks
completed through the engine): the coded outcomes reach the figures."""

from __future__ import annotations

from datetime import date

from engine import demo, reports
from tests.engine.test_discharge import REACHED, UNREACHED, discharge, local


def figures(drive, name: str) -> dict:
    period = reports.parse_period("2026-11-23", "2026-11-29", zone=drive.site.zone)
    result = reports.run_report(
        drive.session, name, period=period, filters=reports.Filters(), now=drive.clock.now()
    )
    return result.totals


def test_a_contact_recorded_in_time_counts_for_tcm(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    drive.complete(case, "tcm_first_attempt", REACHED)
    assert figures(drive, "tcm") == {
        "discharges": 1,
        "contacted_within_deadline": 1,
        "contact_within_deadline_pct": 100.0,
        "unable_to_reach": 0,
        "still_open": 0,
    }


def test_two_failed_attempts_count_as_unable_to_reach(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30))
    drive.clock.set(local(2026, 11, 30, 10, 0))
    drive.complete(case, "tcm_first_attempt", UNREACHED)
    drive.clock.set(local(2026, 11, 30, 15, 0))
    drive.complete(case, "tcm_retry", {**UNREACHED, "record_unable_to_reach": True})
    totals = figures(drive, "tcm")
    assert (totals["contacted_within_deadline"], totals["unable_to_reach"]) == (0, 1)


def test_an_attended_visit_counts_for_fuh(drive):
    case = drive.open_case()
    discharge(drive, case, local(2026, 11, 27, 10, 30), behavioral_health=True)
    visit = date(2026, 12, 3).isoformat()
    drive.complete(case, "fuh_7_check", {"visit_status": "attended", "visit_date": visit})
    totals = figures(drive, "fuh")
    assert (totals["discharges"], totals["visit_within_7_days"], totals["pending"]) == (1, 1, 1)


def test_a_care_plan_addressing_screened_needs_counts_for_screening(drive):
    case = drive.open_case()
    drive.complete(case, "intake")
    drive.complete(case, "assessment", demo.assessment(ahc=demo.AHC_FOOD_HOUSING))
    plan = {**demo.care_plan(("food",)), "declined": {"housing": "Staying with her son."}}
    drive.complete(case, "care_plan", plan)
    today = drive.clock.now().astimezone(drive.site.zone).date().isoformat()
    period = reports.parse_period(today, today, zone=drive.site.zone)
    totals = reports.run_report(
        drive.session, "screening", period=period, filters=reports.Filters(), now=drive.clock.now()
    ).totals
    assert totals["social_needs_domains_positive"] >= 2  # food and housing domains
    assert totals["social_needs_domains_addressed"] == totals["social_needs_domains_positive"]
    assert totals["social_needs_addressed_pct"] == 100.0
