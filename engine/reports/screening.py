"""`screening`: screens by instrument and band, how many were positive, and whether the
social needs they found were addressed in a care plan."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.assessments.models import Assessment
from engine.assessments.needs import NEED_OF_FLAG
from engine.inbox.models import HumanTask
from engine.reports.common import Query, Report
from engine.reports.stats import pct

COLUMNS = ["instrument", "band", "screens", "positive", "positive_pct"]
NOT_A_FINDING = frozenset({"incomplete"})


def is_positive(flags: list[Any] | None) -> bool:
    """A screen is positive when its instrument raised any finding flag (CARE.md cut-offs:
    PHQ-2 >= 3, a C-SSRS yes, an AHC domain, ...); `incomplete` is not a finding."""
    return any(f not in NOT_A_FINDING for f in flags or [])


def _screens(session: Session, q: Query) -> list[Any]:
    p = q.period
    stmt = select(
        Assessment.id,
        Assessment.case_id,
        Assessment.instrument,
        Assessment.band,
        Assessment.flags,
    ).where(Assessment.administered_at >= p.start, Assessment.administered_at < p.end)
    if q.filters.user_id is not None:
        stmt = stmt.where(Assessment.administered_by_id == q.filters.user_id)
    return list(session.execute(stmt))


def _addressed(session: Session, case_ids: list[int]) -> dict[int, set[str]]:
    """Per case, the needs its completed care plans addressed (referral, declined, met)."""
    found: dict[int, set[str]] = defaultdict(set)
    for chunk in range(0, len(case_ids), 500):
        stmt = select(HumanTask.case_id, HumanTask.outcome).where(
            HumanTask.case_id.in_(case_ids[chunk : chunk + 500]),
            HumanTask.status == "completed",
            HumanTask.outcome.is_not(None),
        )
        for case_id, outcome in session.execute(stmt):
            if isinstance(outcome, dict):
                found[case_id] |= set(outcome.get("needs_addressed") or [])
    return found


def screening_report(session: Session, q: Query) -> Report:
    screens = _screens(session, q)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for s in screens:
        groups[(s.instrument, s.band or "")].append(s)
    report = Report(COLUMNS)
    per_instrument: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (instrument, band), rows in sorted(groups.items()):
        positive = sum(is_positive(r.flags) for r in rows)
        report.add(
            {
                "instrument": instrument,
                "band": band or None,
                "screens": len(rows),
                "positive": positive,
                "positive_pct": pct(positive, len(rows)),
            },
            {r.case_id for r in rows},
        )
        per_instrument[instrument][0] += len(rows)
        per_instrument[instrument][1] += positive
    # Positive AHC domains: one per (case, domain) screened positive in the period.
    domains = {
        (s.case_id, flag)
        for s in screens
        if s.instrument == "ahc_hrsn" and s.case_id is not None
        for flag in s.flags or []
        if flag in NEED_OF_FLAG
    }
    addressed = _addressed(session, sorted({c for c, _ in domains}))
    met = sum(NEED_OF_FLAG[flag] in addressed.get(case, set()) for case, flag in domains)
    report.totals = {
        "instruments": {
            key: {"screens": n, "positive": pos, "positive_pct": pct(pos, n)}
            for key, (n, pos) in sorted(per_instrument.items())
        },
        "social_needs_domains_positive": len(domains),
        "social_needs_domains_addressed": met,
        "social_needs_addressed_pct": pct(met, len(domains)),
    }
    return report
