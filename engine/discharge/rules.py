"""What a task's properties ask of its completion, as a TaskCompleting subscriber (wired by
engine.wiring): `coversScreenedNeeds` (a care plan must address every need the case's screens
found, else Invalid naming each), `fuhCheck` (a HEDIS FUH check: its result goes on the case
timeline), `closesCase`, and `recordsConsent` (the intake: a decline is noted, and the
admission's screens decide whether the crisis path runs anyway). It runs before the workflow
moves, so a refusal leaves everything as it was; it returns task data to add."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.assessments import needs as assessment_needs
from engine.cases.models import Case, Client
from engine.events import Registry, TaskCompleting
from engine.inbox.models import HumanTask


def _is_true(value: Any) -> bool:
    return str(value or "").lower() == "true"


def store_language(session: Session, client_id: int | None, data: Any) -> None:
    """The intake's language and interpreter need go on the client: referrals show them and
    the directory search matches on them."""
    client = session.get(Client, client_id) if client_id is not None else None
    if client is None:
        return
    language = data.get("primary_language")
    if isinstance(language, str) and language.strip():
        client.preferred_language = language.strip()[:40]
    if isinstance(data.get("interpreter_needed"), bool):
        client.interpreter_needed = data["interpreter_needed"]


def check_task_rules(session: Session, event: TaskCompleting) -> dict[str, Any]:
    properties, data = event.properties, event.form
    if event.case_id is None or not properties:
        return {}
    case_id = event.case_id
    task = session.get(HumanTask, event.task_id)  # the command's locked row, in memory
    assert task is not None
    who = audit.actor_of(session.get(User, event.actor_id))
    extra: dict[str, Any] = {}
    consent_field = properties.get("recordsConsent")
    if consent_field:
        store_language(session, task.client_id, data)
        risk = assessment_needs.admission_risk(session, case_id)
        extra["admission_risk"] = {k: risk[k] for k in ("suicide_risk", "safety_concern", "any")}
        if data.get(consent_field) == "declined":
            if risk["any"] and "screening" not in event.task_data:
                extra["screening"] = risk["screening"]
            audit.record(
                session,
                audit.AuditTag.SERVICES_DECLINED,
                actor=who,
                at=event.at,
                category="case_record",
                case_id=case_id,
                client_id=task.client_id,
                task_id=task.id,
                details={"crisis_path": risk["any"]},
            )
    if _is_true(properties.get("coversScreenedNeeds")):
        assessment_needs.require_needs_addressed(session, case_id=case_id, plan=data)
    if _is_true(properties.get("closesCase")):
        case = session.get(Case, case_id)
        assert case is not None
        case.status = "closed"
        case.closed_at = event.at
        audit.record(
            session,
            audit.AuditTag.CASE_CLOSED,
            actor=who,
            at=event.at,
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            details={"bpmn_id": task.bpmn_id},
        )
    fuh = properties.get("fuhCheck")
    if fuh:
        audit.record(
            session,
            audit.AuditTag.FUH_RECORDED,
            actor=who,
            at=event.at,
            category="behavioral_health",
            case_id=case_id,
            client_id=task.client_id,
            instance_id=task.instance_id,
            task_id=task.id,
            details={
                "check": f"{fuh}_day",
                "visit_status": data.get("visit_status"),
                "visit_date": data.get("visit_date"),
            },
        )
    return extra


def subscribe(registry: Registry) -> None:
    registry.subscribe(TaskCompleting, check_task_rules)
