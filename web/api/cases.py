"""Cases: open one (which starts its pathway), read one (audited), and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy.orm.session import Session

from engine import (
    access,
    assessments,
    caseload,
    cases,
    definitions,
    inbox,
    outreach,
    screenings,
    tasks_view,
)
from engine import client_flags as case_flags
from engine.errors import Invalid
from web import deps
from web.api import bp
from web.api.common import (
    CLINICAL_ROLES,
    iso,
    json_body,
    require_roles,
    task_json,
    transaction,
    user,
)

CASE_ROLES = (*CLINICAL_ROLES, "admin")


def _client_json(client: cases.Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "given_name": client.given_name,
        "family_name": client.family_name,
        "birth_date": iso(client.birth_date),
        "mrn": client.mrn,
        "phone": client.phone,
        "preferred_language": client.preferred_language,
        "interpreter_needed": client.interpreter_needed,
        "postal_code": client.postal_code,
    }


def _assessment_json(a: Any, sensitive: bool) -> dict[str, Any]:
    answers, hidden = access.mask_answers(a.instrument, a.answers or {}, sensitive=sensitive)
    return {
        "instrument": a.instrument,
        "version": a.version,
        "score": a.score,
        "band": a.band,
        "flags": list(a.flags or []),
        "risk_level": a.risk_level,
        "administered_at": iso(a.administered_at),
        "answers": answers,
        "masked_items": hidden,
    }


def case_json(
    session: Session, case: cases.Case, now: datetime, *, sensitive: bool = False
) -> dict[str, Any]:
    tasks = tasks_view.summarize_tasks(session, inbox.tasks_for_case(session, case.id))
    worker = case.primary_social_worker
    return {
        "id": case.id,
        "status": case.status,
        "reason": case.reason,
        "opened_at": iso(case.opened_at),
        "flags": dict(case.flags or {}),
        "client_flags": outreach.client_flags(case),
        "do_not_contact": case.client.do_not_contact,
        "discharged_at": iso(case.discharged_at),
        "discharge_disposition": case.discharge_disposition,
        "closed_at": iso(case.closed_at),
        "client": _client_json(case.client),
        "primary_social_worker": worker.username if worker is not None else None,
        "tasks": [task_json(t, now) for t in tasks],
        "instances": [
            {
                "id": i.id,
                "process_key": i.definition.process_key,
                "version": i.definition.version,
                "status": i.status,
            }
            for i in cases.instances_for_case(session, case.id)
        ],
        "assessments": [
            _assessment_json(a, sensitive)
            for a in assessments.assessments_for_case(session, case.id)
        ],
    }


@bp.post("/cases")
def open_case() -> Any:
    require_roles(*CASE_ROLES)
    body = json_body()
    pathway = body.get("pathway", "care_pathway")
    clock = deps.clock()
    with transaction() as session:
        if (
            not isinstance(pathway, str)
            or definitions.latest_definition(session, pathway, missing_ok=True) is None
        ):
            raise Invalid(
                "No such pathway is deployed.",
                code="invalid_case",
                details=[
                    {"field": "pathway", "message": "Name a deployed process, e.g. care_pathway."}
                ],
            )
        case, started = cases.open_case(
            session,
            client=body.get("client"),  # open_case names a missing or malformed client
            reason=body.get("reason"),
            actor=user(),
            clock=clock,
            pathway=pathway,
            site=deps.site(),
        )
        payload = {
            "id": case.id,
            "case_id": case.id,
            "instance_id": started.instance.id,
            "case": case_json(session, case, clock.now(), sensitive=True),
        }
    deps.committed()
    return payload, 201, {"Location": url_for("api.get_case", case_id=case.id)}


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    clock = deps.clock()
    with transaction() as session:
        read = cases.read_case(session, case_id=case_id, actor=user(), clock=clock)
        body = case_json(session, read.case, clock.now(), sensitive=read.access.sensitive)
        body["access"] = access_json(read.access)
        body["handoffs"] = [
            caseload.handoff_json(session, h) for h in caseload.handoffs_of_case(session, case_id)
        ]
        body["handoff"] = next((h for h in body["handoffs"] if h["task_id"] is None), None)
        return {"case": body}


def access_json(granted: access.CaseAccess) -> dict[str, Any]:
    return {
        "basis": str(granted.basis),
        "sensitive": granted.sensitive,
        "break_glass_until": iso(granted.break_glass_until),
    }


@bp.get("/cases/<int:case_id>/timeline")
def case_timeline(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        # The timeline is part of the client's record: reading it is a view like any other.
        read = cases.read_case(
            session, case_id=case_id, actor=user(), clock=deps.clock(), section="timeline"
        )
        events = cases.timeline(session, case_id, sensitive=read.access.sensitive)
    return {
        "events": [
            {"at": iso(e.at), "actor": e.actor, "action": e.action, "details": e.details}
            for e in events
        ]
    }


@bp.post("/cases/<int:case_id>/screenings")
def screen_now(case_id: int) -> Any:
    require_roles(*screenings.SCREENING_ROLES)
    body = json_body()
    clock = deps.clock()
    with transaction() as session:
        screen = screenings.screen_now(
            session,
            case_id=case_id,
            instrument=body.get("instrument"),
            answers=body.get("answers"),
            actor=user(),
            clock=clock,
            site=deps.site(),
        )
        created = tasks_view.summarize_tasks(session, screen.created_tasks)
        payload = {
            "assessment": screen.result.as_dict(),
            "created_tasks": [task_json(t, clock.now()) for t in created],
            "assessment_id": screen.assessment.id,
            "instance_id": screen.instance.id,
        }
    deps.committed()
    return payload, 201


@bp.post("/cases/<int:case_id>/break-glass")
def break_glass(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    body = json_body()
    with transaction() as session:
        grant = access.break_glass(
            session,
            case_id=case_id,
            reason=body.get("reason"),
            actor=user(),
            clock=deps.clock(),
            minutes=deps.deps().settings.break_glass_minutes,
        )
        payload = {"grant": grant_json(grant, user().username)}
    return payload, 201


def grant_json(grant: access.BreakGlassGrant, username: str) -> dict[str, Any]:
    return {
        "id": grant.id,
        "case_id": grant.case_id,
        "client_id": grant.client_id,
        "user": username,
        "reason": grant.reason,
        "granted_at": iso(grant.granted_at),
        "expires_at": iso(grant.expires_at),
    }


@bp.post("/cases/<int:case_id>/flags")
def set_case_flag(case_id: int) -> Any:
    """`{"flag": "do_not_contact", "set": true|false, "reason": "..."}`: setting withdraws the
    case's open client outreach at once and opens one "Plan safe contact" task; removing needs
    a supervisor. Both need a reason."""
    require_roles(*CASE_ROLES)
    body = json_body()
    clock = deps.clock()
    with transaction() as session:
        change = case_flags.set_flag(
            session,
            case_id=case_id,
            flag=body.get("flag"),
            value=body.get("set"),
            reason=body.get("reason"),
            actor=user(),
            clock=clock,
            site=deps.site(),
        )
        now = clock.now()
        withdrawn = tasks_view.summarize_tasks(session, change.withdrawn)
        plan = (
            tasks_view.summarize_task(session, change.plan_task)
            if change.plan_task is not None
            else None
        )
        payload = {
            "case_id": change.case.id,
            "changed": change.changed,
            "client_flags": outreach.client_flags(change.case),
            "withdrawn_tasks": [task_json(t, now) for t in withdrawn],
            "plan_task": task_json(plan, now) if plan is not None else None,
        }
    deps.committed()
    return payload
