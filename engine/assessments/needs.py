"""The needs a case's screens found, and whether a care plan addresses every one of them.

Positive AHC HRSN domains (housing instability or quality, food, transportation, utilities,
interpersonal safety) and behavioural-health needs (GAD-7 score of 10 or more) must each be
addressed in the care plan: a referral (`needs`), `declined` with the client's reason, or
`already_met`. The latest screen of each instrument in the case counts: a re-screen that is
negative clears the need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.assessments.models import Assessment
from engine.errors import Invalid

# AHC HRSN flag -> the care-plan need it points to (the care plan form's need keys).
NEED_OF_FLAG = {
    "housing_instability": "housing",
    "housing_quality": "housing",
    "food_insecurity": "food",
    "transportation": "transportation",
    "utilities": "utilities",
    "interpersonal_safety": "safety",
}
BEHAVIOURAL_NEED = "mental_health"
GAD7_THRESHOLD = 10  # CARE.md: GAD-7 >= 10 warrants further evaluation


@dataclass(frozen=True)
class ScreenedNeed:
    need: str  # the care plan's key
    sources: tuple[str, ...]  # the screen's flags that found it (AHC domains, gad7)


def gad7_need(score: int | None) -> bool:
    return score is not None and score >= GAD7_THRESHOLD


def _latest(session: Session, case_id: int) -> dict[str, Assessment]:
    rows = session.scalars(
        select(Assessment)
        .where(Assessment.case_id == case_id)
        .order_by(Assessment.administered_at, Assessment.id)
    )
    return {row.instrument: row for row in rows}


def screened_needs(session: Session, case_id: int) -> list[ScreenedNeed]:
    latest = _latest(session, case_id)
    found: dict[str, list[str]] = {}
    ahc = latest.get("ahc_hrsn")
    for flag in (ahc.flags or []) if ahc is not None else []:
        need = NEED_OF_FLAG.get(flag)
        if need is not None:
            found.setdefault(need, []).append(flag)
    gad7 = latest.get("gad7")
    if gad7 is not None and gad7_need(gad7.score):
        found.setdefault(BEHAVIOURAL_NEED, []).append("gad7")
    return [ScreenedNeed(need, tuple(sources)) for need, sources in found.items()]


def _addressed(plan: Mapping[str, Any]) -> tuple[set[str], dict[str, str], set[str]]:
    referred = {n for n in plan.get("needs") or [] if isinstance(n, str)}
    declined_raw = plan.get("declined") or {}
    declined = (
        {k: v for k, v in declined_raw.items() if isinstance(v, str)}
        if isinstance(declined_raw, Mapping)
        else {}
    )
    met = {n for n in plan.get("already_met") or [] if isinstance(n, str)}
    return referred, declined, met


def require_needs_addressed(session: Session, *, case_id: int, plan: Mapping[str, Any]) -> None:
    """Invalid (one detail per need, naming it) unless every screened need is referred,
    declined with the client's reason, or already met; a declined need without a reason, or a
    need both referred and declined, is refused too."""
    referred, declined, met = _addressed(plan)
    errors: list[dict[str, Any]] = []
    for need, reason in declined.items():
        if not reason.strip():
            errors.append(
                {"field": f"declined.{need}", "message": "Give the client's reason for declining."}
            )
        elif need in referred:
            errors.append(
                {
                    "field": f"declined.{need}",
                    "message": "Declined and referred at once: choose one.",
                }
            )
    for screened in screened_needs(session, case_id):
        need = screened.need
        if need in referred or need in met or declined.get(need, "").strip():
            continue
        found_by = ", ".join(screened.sources)
        errors.append(
            {
                "field": "needs",
                "domain": need,
                "flags": list(screened.sources),
                "message": (
                    f"The screen found a {need} need ({found_by}): refer it, record that the "
                    "client declined (with the reason) or that it is already met."
                ),
            }
        )
    if errors:
        names = ", ".join(sorted({e.get("domain") or e["field"] for e in errors}))
        raise Invalid(
            f"The care plan leaves out: {names}.", code="needs_not_addressed", details=errors
        )


def admission_risk(session: Session, case_id: int) -> dict[str, Any]:
    """Whether a screen already recorded in this admission (this case) shows suicide risk (any
    C-SSRS risk, or PHQ-9 item 9) or a safety concern (AHC interpersonal safety), and the
    `screening` outcome of those screens for the crisis path to read."""
    from engine.assessments.services import summarize
    from engine.instruments.scoring import ScoreResult

    latest = _latest(session, case_id)
    results = {
        key: ScoreResult(
            instrument=key,
            version=row.version,
            score=row.score,
            band=row.band,
            flags=list(row.flags or []),
            risk_level=row.risk_level,
        )
        for key, row in latest.items()
    }
    screening = summarize(results)
    suicide = screening["risk_level"] != "none" or screening["suicide_ideation"]
    safety = "safety" in screening["needs"]
    return {
        "suicide_risk": bool(suicide),
        "safety_concern": bool(safety),
        "any": bool(suicide or safety),
        "screening": screening,
    }
