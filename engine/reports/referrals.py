"""`referrals`: per need and organisation, what was sent and how the loop closed.

The cohort is the referrals sent in the period (requested_at: the first time the referral
left the hospital). Their later history is read from referral_events, whatever its date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.referrals.models import Referral, ReferralEvent
from engine.reports.common import Query, Report
from engine.reports.period import aware
from engine.reports.stats import median, pct

COLUMNS = [
    "need",
    "organization",
    "sent",
    "accepted",
    "rejected",
    "rejected_reasons",
    "completed",
    "loop_closed_pct",
    "median_days_to_outcome",
]
# The organisation's answer closes the loop: it took the client on and finished, or said no.
OUTCOMES = frozenset({"completed", "rejected", "failed"})


def _sent(session: Session, q: Query) -> list[Any]:
    p = q.period
    stmt = select(
        Referral.id,
        Referral.case_id,
        Referral.need,
        Referral.organization_name,
        Referral.requested_at,
    ).where(Referral.requested_at >= p.start, Referral.requested_at < p.end)
    if q.filters.user_id is not None:
        stmt = stmt.where(Referral.requested_by_id == q.filters.user_id)
    return list(session.execute(stmt))


def _events(session: Session, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        stmt = (
            select(
                ReferralEvent.referral_id,
                ReferralEvent.to_status,
                ReferralEvent.reason_code,
                ReferralEvent.at,
            )
            .where(ReferralEvent.referral_id.in_(ids[chunk : chunk + 500]))
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
        for row in session.execute(stmt):
            found[row.referral_id].append(row)
    return found


def referrals_report(session: Session, q: Query) -> Report:
    sent = _sent(session, q)
    events = _events(session, [r.id for r in sent])
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in sent:
        groups[(r.need, r.organization_name or "")].append(r)
    report = Report(COLUMNS)
    for (need, org), refs in sorted(groups.items()):
        accepted = rejected = completed = 0
        reasons: Counter[str] = Counter()
        days: list[float] = []
        for r in refs:
            history = events.get(r.id, [])
            statuses = {e.to_status for e in history}
            accepted += "accepted" in statuses
            completed += "completed" in statuses
            if "rejected" in statuses:
                rejected += 1
                reason = next(e.reason_code for e in history if e.to_status == "rejected")
                reasons[reason or "unspecified"] += 1
            outcome = next((e for e in history if e.to_status in OUTCOMES), None)
            if outcome is not None:
                days.append((aware(outcome.at) - aware(r.requested_at)).total_seconds() / 86400)
        report.add(
            {
                "need": need,
                "organization": org or None,
                "sent": len(refs),
                "accepted": accepted,
                "rejected": rejected,
                "rejected_reasons": dict(sorted(reasons.items())),
                "completed": completed,
                "loop_closed_pct": pct(len(days), len(refs)),
                "median_days_to_outcome": median(days),
            },
            {r.case_id for r in refs},
        )
    return report
