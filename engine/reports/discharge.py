"""`tcm` and `fuh`: transitional-care contact and mental-health follow-up after discharge.

The cohort is the discharges in the period (cases.discharged_at, site-zone days), except
deaths in hospital (`expired`: no outreach at all). Outcomes come from the discharge
follow-up tasks' coded results (engine.reports.outcomes), see docs/discharge.md.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.models import Case
from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report
from engine.reports.outcomes import FUH_TASKS, TCM_TASKS
from engine.reports.period import aware
from engine.reports.stats import pct

TCM_COLUMNS = [
    "week",
    "discharges",
    "contacted_within_deadline",
    "contact_within_deadline_pct",
    "unable_to_reach",
    "still_open",
]
FUH_COLUMNS = [
    "week",
    "discharges",
    "visit_within_7_days",
    "fuh_7_day_pct",
    "visit_within_30_days",
    "fuh_30_day_pct",
    "pending",
]
_TCM_OPEN = (*TCM_TASKS, "tcm_safe_contact")


def _discharges(session: Session, q: Query) -> list[Any]:
    p = q.period
    stmt = select(Case.id, Case.discharged_at).where(
        Case.discharged_at >= p.start,
        Case.discharged_at < p.end,
        Case.discharge_disposition.is_distinct_from("expired"),
    )
    if q.filters.user_id is not None:
        stmt = stmt.where(Case.primary_social_worker_id == q.filters.user_id)
    return list(session.execute(stmt.order_by(Case.discharged_at, Case.id)))


def _tasks(session: Session, case_ids: list[int], bpmn_ids: tuple[str, ...]) -> dict[int, list]:
    # By element id only: the TCM steps run in a called process (`tcm_contact`).
    found: dict[int, list[HumanTask]] = defaultdict(list)
    for chunk in range(0, len(case_ids), 500):
        stmt = select(HumanTask).where(
            HumanTask.case_id.in_(case_ids[chunk : chunk + 500]),
            HumanTask.bpmn_id.in_(bpmn_ids),
        )
        for task in session.scalars(stmt):
            found[task.case_id].append(task)  # type: ignore[index]
    return found


def _tcm_state(tasks: list[HumanTask]) -> tuple[bool, bool, bool]:
    """(contacted within the deadline, unable to reach, still open) for one discharge."""
    first = [t for t in tasks if t.bpmn_id == "tcm_first_attempt"]
    deadline = aware(min(t.due_at for t in first)) if first else None
    reached = [
        t
        for t in tasks
        if t.status == "completed" and (t.outcome or {}).get("outcome") == "reached"
    ]
    in_time = deadline is not None and any(aware(t.completed_at) <= deadline for t in reached)  # type: ignore[arg-type]
    unable = not reached and any(
        t.status == "completed" and (t.outcome or {}).get("record_unable_to_reach") is True
        for t in tasks
    )
    still_open = any(t.status == "open" for t in tasks)
    return in_time, unable, still_open


def tcm_report(session: Session, q: Query) -> Report:
    cohort = _discharges(session, q)
    tasks = _tasks(session, [c.id for c in cohort], _TCM_OPEN)
    weeks: dict[str, list[Any]] = defaultdict(list)
    for c in cohort:
        weeks[q.period.week_of(c.discharged_at)].append(c)
    report = Report(TCM_COLUMNS)
    sums = dict.fromkeys(("discharges", "contacted", "unable", "open"), 0)
    for week, cases in sorted(weeks.items()):
        states = [_tcm_state(tasks.get(c.id, [])) for c in cases]
        contacted = sum(s[0] for s in states)
        unable, still_open = sum(s[1] for s in states), sum(s[2] for s in states)
        report.add(
            {
                "week": week,
                "discharges": len(cases),
                "contacted_within_deadline": contacted,
                "contact_within_deadline_pct": pct(contacted, len(cases)),
                "unable_to_reach": unable,
                "still_open": still_open,
            },
            {c.id for c in cases},
        )
        for key, n in zip(sums, (len(cases), contacted, unable, still_open), strict=True):
            sums[key] += n
    report.totals = {
        "discharges": sums["discharges"],
        "contacted_within_deadline": sums["contacted"],
        "contact_within_deadline_pct": pct(sums["contacted"], sums["discharges"]),
        "unable_to_reach": sums["unable"],
        "still_open": sums["open"],
    }
    return report


def _visit_day(task: HumanTask) -> date | None:
    outcome = task.outcome or {}
    if task.status != "completed" or outcome.get("visit_status") != "attended":
        return None
    try:
        return date.fromisoformat(str(outcome.get("visit_date")))
    except ValueError:
        return None


def _fuh_state(discharge_day: date, tasks: list[HumanTask]) -> tuple[bool, bool, bool]:
    """(visit within 7 days, visit within 30 days, a check still open)."""
    visits = [d for d in map(_visit_day, tasks) if d is not None and d >= discharge_day]
    within_7 = any(d <= discharge_day + timedelta(days=7) for d in visits)
    within_30 = any(d <= discharge_day + timedelta(days=30) for d in visits)
    return within_7, within_30, any(t.status == "open" for t in tasks)


def fuh_report(session: Session, q: Query) -> Report:
    discharged = _discharges(session, q)
    tasks = _tasks(session, [c.id for c in discharged], tuple(FUH_TASKS))
    # Only discharges that got FUH checks (a behavioural-health stay) are in the measure.
    cohort = [c for c in discharged if c.id in tasks]
    weeks: dict[str, list[Any]] = defaultdict(list)
    for c in cohort:
        weeks[q.period.week_of(c.discharged_at)].append(c)
    report = Report(FUH_COLUMNS)
    sums = [0, 0, 0, 0]
    for week, cases in sorted(weeks.items()):
        states = [_fuh_state(q.period.local_day(c.discharged_at), tasks[c.id]) for c in cases]
        seven, thirty = sum(s[0] for s in states), sum(s[1] for s in states)
        pending = sum(s[2] for s in states)
        report.add(
            {
                "week": week,
                "discharges": len(cases),
                "visit_within_7_days": seven,
                "fuh_7_day_pct": pct(seven, len(cases)),
                "visit_within_30_days": thirty,
                "fuh_30_day_pct": pct(thirty, len(cases)),
                "pending": pending,
            },
            {c.id for c in cases},
        )
        for i, n in enumerate((len(cases), seven, thirty, pending)):
            sums[i] += n
    report.totals = {
        "discharges": sums[0],
        "visit_within_7_days": sums[1],
        "fuh_7_day_pct": pct(sums[1], sums[0]),
        "visit_within_30_days": sums[2],
        "fuh_30_day_pct": pct(sums[2], sums[0]),
        "pending": sums[3],
    }
    return report
