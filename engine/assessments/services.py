"""Scoring the instruments inside a completed task form.

Answers are validated and scored, stored as Assessment rows, and replaced in the task data
by a small `screening` outcome the gateways read (risk level, flags, needs, bands)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, instruments
from engine.accounts.models import User
from engine.assessments.models import Assessment
from engine.cases.models import Case
from engine.errors import Invalid
from engine.forms import instrument_fields
from engine.inbox.models import HumanTask

# AHC HRSN flag -> the care-plan need it points to.
NEED_OF_FLAG = {
    "housing_instability": "housing",
    "housing_quality": "housing",
    "food_insecurity": "food",
    "transportation": "transportation",
    "utilities": "utilities",
    "interpersonal_safety": "safety",
}
RISK_ORDER = ("none", "low", "moderate", "high")


def summarize(results: Mapping[str, instruments.ScoreResult]) -> dict[str, Any]:
    """The small outcome that enters task data; never the answers."""
    cssrs = results.get("cssrs")
    phq9 = results.get("phq9")
    phq2 = results.get("phq2")
    ahc = results.get("ahc_hrsn")
    needs: list[str] = []
    for flag in ahc.flags if ahc else []:
        need = NEED_OF_FLAG.get(flag)
        if need and need not in needs:
            needs.append(need)
    suicide_ideation = bool(phq9 and "suicide_ideation" in phq9.flags)
    risk = cssrs.risk_level if cssrs and cssrs.risk_level else "none"
    return {
        "risk_level": risk,
        "suicide_ideation": suicide_ideation,
        "crisis": risk == "high" or suicide_ideation,
        "safety_plan_needed": risk in ("moderate", "high"),
        "phq2_positive": bool(phq2 and "positive" in phq2.flags),
        "do_not_contact": bool(ahc and "interpersonal_safety" in ahc.flags),
        "needs": needs,
        "bands": {k: r.band for k, r in results.items() if r.band},
        "scores": {k: r.score for k, r in results.items() if r.score is not None},
    }


def score_form(
    session: Session, task: HumanTask, data: dict[str, Any], actor: User, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (form data without the instrument answers, top-level task data to add: the
    `screening` outcome the gateways read). Forms without instruments pass through."""
    from engine.instances.models import ProcessInstance

    instance = session.get(ProcessInstance, task.instance_id)
    schema = instance.definition.forms.get(task.form) if instance and task.form else None
    fields = instrument_fields(schema or {})
    present = {f: k for f, k in fields.items() if data.get(f) is not None}
    if not present:
        return data, {}
    results: dict[str, instruments.ScoreResult] = {}
    errors: list[dict[str, str]] = []
    for field, key in present.items():
        try:
            results[key] = instruments.score(key, data[field])
        except Invalid as exc:
            # Scoring always names fields: its details are a list of {field, message}.
            details = cast(list[dict[str, str]], exc.details)
            errors += [{"field": f"{field}.{d['field']}", "message": d["message"]} for d in details]
    if (
        "phq2" in results
        and "positive" in results["phq2"].flags
        and "phq9" in fields
        and "phq9" not in results
    ):
        errors.append({"field": "phq9", "message": "PHQ-2 is positive: complete the full PHQ-9."})
    if errors:
        raise Invalid("Some screening answers need attention.", code="form_invalid", details=errors)
    case = session.get(Case, task.case_id) if task.case_id else None
    rows: dict[str, Assessment] = {}  # by form field: two fields may use one instrument
    for field, key in present.items():
        r = results[key]
        rows[field] = Assessment(
            client_id=task.client_id,
            case_id=task.case_id,
            task_id=task.id,
            instrument=key,
            version=r.version,
            answers=dict(data[field]),
            score=r.score,
            band=r.band,
            flags=list(r.flags),
            risk_level=r.risk_level,
            administered_by_id=actor.id,
            administered_at=now,
        )
    session.add_all(rows.values())
    session.flush()  # one multi-row INSERT for all of them: the audit rows need their ids
    for row in rows.values():
        key = row.instrument
        audit.record(
            session,
            audit.AuditTag.ASSESSMENT_RECORDED,
            actor=audit.Actor(actor.id, actor.username),
            at=now,
            category="behavioral_health"
            if key in ("phq2", "phq9", "gad7", "cssrs")
            else "social_needs",
            case_id=task.case_id,
            client_id=task.client_id,
            task_id=task.id,
            details={"assessment_id": row.id, "instrument": key, "version": row.version},
        )
    summary = summarize(results)
    if case is not None:
        _flag_case(session, case, summary, actor, now)
    clean = {k: v for k, v in data.items() if k not in present}
    return clean, {"screening": summary}


def _flag_case(
    session: Session, case: Case, summary: dict[str, Any], actor: User, now: datetime
) -> None:
    flags = dict(case.flags or {})
    changed = []
    if summary["do_not_contact"] and not case.client.do_not_contact:
        case.client.do_not_contact = True  # FHIR orderDetail contacting-subject-prohibited
        flags["do_not_contact"] = True
        changed.append("do_not_contact")
    behavioural = (
        summary["risk_level"] != "none"
        or summary["suicide_ideation"]
        or summary["bands"].get("phq9") in ("moderate", "moderately_severe", "severe")
    )
    if behavioural and not flags.get("behavioral_health"):
        flags["behavioral_health"] = True
        changed.append("behavioral_health")
    if changed:
        case.flags = flags
        audit.record(
            session,
            audit.AuditTag.CASE_FLAGGED,
            actor=audit.Actor(actor.id, actor.username),
            at=now,
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            details={"flags": changed},
        )


def assessments_for_case(session: Session, case_id: int) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.id)
        )
    )
