"""Scoring the instruments inside a completed task form.

Answers are validated and scored, stored as Assessment rows, and replaced in the task data
by a small `screening` outcome the gateways read (risk level, flags, needs, bands)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, events, instruments
from engine.accounts.models import User
from engine.assessments.models import Assessment
from engine.assessments.needs import BEHAVIOURAL_NEED, NEED_OF_FLAG, gad7_need
from engine.cases.models import Case
from engine.errors import Invalid
from engine.forms import instrument_fields
from engine.inbox.models import HumanTask

RISK_ORDER = ("none", "low", "moderate", "high")


def summarize(
    results: Mapping[str, instruments.ScoreResult],
    answers: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The small outcome that enters task data; never the full answers. `answers` (by
    instrument key) lets `reasons` name the suicide-risk answers that raised a flag, so a
    crisis task can show them."""
    cssrs = results.get("cssrs")
    phq9 = results.get("phq9")
    phq2 = results.get("phq2")
    ahc = results.get("ahc_hrsn")
    needs: list[str] = []
    for flag in ahc.flags if ahc else []:
        need = NEED_OF_FLAG.get(flag)
        if need and need not in needs:
            needs.append(need)
    gad7 = results.get("gad7")
    behavioural_needs = [BEHAVIOURAL_NEED] if gad7 is not None and gad7_need(gad7.score) else []
    suicide_ideation = bool(phq9 and "suicide_ideation" in phq9.flags)
    item9_declined = bool(phq9 and SUICIDE_ITEM in phq9.declined)
    risk = cssrs.risk_level if cssrs and cssrs.risk_level else "none"
    return {
        "risk_level": risk,
        "suicide_ideation": suicide_ideation,
        # A refused item 9 is unknown suicide risk, not "no": it asks for a C-SSRS too.
        "suicide_item_declined": item9_declined,
        "cssrs_done": cssrs is not None,
        "cssrs_incomplete": bool(cssrs and instruments.INCOMPLETE_FLAG in cssrs.flags),
        "incomplete": sorted(k for k, r in results.items() if r.declined),
        "crisis": risk == "high",
        "safety_plan_needed": risk in ("moderate", "high"),
        "phq2_positive": bool(phq2 and "positive" in phq2.flags),
        "do_not_contact": bool(ahc and "interpersonal_safety" in ahc.flags),
        "needs": needs,
        # Behavioural-health needs the care plan must address too (GAD-7 >= 10).
        "behavioral_needs": behavioural_needs,
        "bands": {k: r.band for k, r in results.items() if r.band},
        "scores": {k: r.score for k, r in results.items() if r.score is not None},
        "reasons": risk_reasons(results, answers or {}),
    }


SUICIDE_ITEM = "q9"  # PHQ-9 item 9
# C-SSRS answers that raise risk when "yes", in the screener's order.
CSSRS_RISK_ITEMS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")


def risk_reasons(
    results: Mapping[str, instruments.ScoreResult], answers: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Short lines such as "PHQ-9 item 9 (…): Several days" for the answers that raised
    suicide risk or left it unknown; the wording is the instrument's own item text."""
    lines: list[str] = []
    phq9 = results.get("phq9")
    given = answers.get("phq9") or {}
    if phq9 is not None and SUICIDE_ITEM in given:
        value = given[SUICIDE_ITEM]
        if value == instruments.DECLINED or (isinstance(value, int) and value >= 1):
            lines.append(_reason("phq9", SUICIDE_ITEM, value, "PHQ-9 item 9"))
    cssrs = results.get("cssrs")
    given = answers.get("cssrs") or {}
    if cssrs is not None:
        for item_id in CSSRS_RISK_ITEMS:
            value = given.get(item_id)
            if value is True or value == instruments.DECLINED:
                label = f"C-SSRS {item_id[1:].replace('_recent', ' (past 3 months)')}"
                lines.append(_reason("cssrs", item_id, value, label))
    return lines


def _reason(key: str, item_id: str, value: Any, label: str) -> str:
    item = instruments.get_instrument(key).item(item_id)
    if value == instruments.DECLINED:
        shown = instruments.DECLINED_LABEL.lower()
    else:
        option = item.option(value)
        shown = option.label if option is not None else str(value)
    return f"{label} ({item.text}): {shown}"


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
            actor=audit.actor_of(actor),
            at=now,
            category=_category(key),
            case_id=task.case_id,
            client_id=task.client_id,
            task_id=task.id,
            details={"assessment_id": row.id, "instrument": key, "version": row.version},
        )
    summary = summarize(results, {key: data[field] for field, key in present.items()})
    if case is not None:
        flag_case(session, case, summary, actor, now, task_id=task.id)
    clean = {k: v for k, v in data.items() if k not in present}
    return clean, {"screening": summary}


def _category(key: str) -> str:
    return "behavioral_health" if key in ("phq2", "phq9", "gad7", "cssrs") else "social_needs"


def record_assessment(
    session: Session,
    *,
    case: Case,
    result: instruments.ScoreResult,
    answers: Mapping[str, Any],
    actor: User,
    now: datetime,
) -> Assessment:
    """Store a screen given outside a task form (screen now) and put its result on the case
    timeline. The audit row names the result (band, risk level, flags), never the answers."""
    row = Assessment(
        client_id=case.client_id,
        case_id=case.id,
        task_id=None,
        instrument=result.instrument,
        version=result.version,
        answers=dict(answers),
        score=result.score,
        band=result.band,
        flags=list(result.flags),
        risk_level=result.risk_level,
        administered_by_id=actor.id,
        administered_at=now,
    )
    session.add(row)
    session.flush()  # the audit row needs its id
    audit.record(
        session,
        audit.AuditTag.ASSESSMENT_RECORDED,
        actor=audit.actor_of(actor),
        at=now,
        category=_category(result.instrument),
        case_id=case.id,
        client_id=case.client_id,
        details={
            "assessment_id": row.id,
            "instrument": result.instrument,
            "version": result.version,
            "source": "screen_now",
            "score": result.score,
            "band": result.band,
            "risk_level": result.risk_level,
            "flags": list(result.flags),
        },
    )
    return row


def flag_case(
    session: Session,
    case: Case,
    summary: dict[str, Any],
    actor: User,
    now: datetime,
    *,
    task_id: int | None = None,
) -> None:
    """Flag the case (and client) as the screens say; `task_id`: the task whose form held
    the screens, when a task completion scored them."""
    flags = dict(case.flags or {})
    changed = []
    if summary["do_not_contact"] and not case.client.do_not_contact:
        case.client.do_not_contact = True  # FHIR orderDetail contacting-subject-prohibited
        flags["do_not_contact"] = True
        changed.append("do_not_contact")
    behavioural = (
        summary["risk_level"] != "none"
        or summary["suicide_ideation"]
        or summary.get("suicide_item_declined", False)
        or summary["bands"].get("phq9") in ("moderate", "moderately_severe", "severe")
        or bool(summary.get("behavioral_needs"))
    )
    if behavioural and not flags.get("behavioral_health"):
        flags["behavioral_health"] = True
        changed.append("behavioral_health")
    if changed:
        case.flags = flags
        audit.record(
            session,
            audit.AuditTag.CASE_FLAGGED,
            actor=audit.actor_of(actor),
            at=now,
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            details={"flags": changed},
        )
        events.emit(
            session,
            events.CaseFlagChanged(
                case_id=case.id,
                client_id=case.client_id,
                flags=tuple(changed),
                actor_id=actor.id,
                at=now,
                task_id=task_id,
            ),
        )


def assessments_for_case(session: Session, case_id: int) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.id)
        )
    )
