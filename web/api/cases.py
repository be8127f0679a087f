"""Cases: open one (which starts its pathway), read one (audited), and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy.orm.session import Session

from engine import assessments, cases, definitions, inbox, tasks_view
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
        "postal_code": client.postal_code,
    }


def case_json(session: Session, case: cases.Case, now: datetime) -> dict[str, Any]:
    tasks = tasks_view.summarize_tasks(session, inbox.tasks_for_case(session, case.id))
    worker = case.primary_social_worker
    return {
        "id": case.id,
        "status": case.status,
        "reason": case.reason,
        "opened_at": iso(case.opened_at),
        "flags": dict(case.flags or {}),
        "do_not_contact": case.client.do_not_contact,
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
            {
                "instrument": a.instrument,
                "version": a.version,
                "score": a.score,
                "band": a.band,
                "flags": list(a.flags or []),
                "risk_level": a.risk_level,
                "administered_at": iso(a.administered_at),
            }
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
            "case": case_json(session, case, clock.now()),
        }
    deps.committed()
    return payload, 201, {"Location": url_for("api.get_case", case_id=case.id)}


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    clock = deps.clock()
    with transaction() as session:
        case = cases.view_case(session, case_id=case_id, actor=user(), clock=clock)
        return {"case": case_json(session, case, clock.now())}


@bp.get("/cases/<int:case_id>/timeline")
def case_timeline(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        # The timeline is part of the client's record: reading it is a view like any other.
        cases.view_case(session, case_id=case_id, actor=user(), clock=deps.clock())
        events = cases.timeline(session, case_id)
    return {
        "events": [
            {"at": iso(e.at), "actor": e.actor, "action": e.action, "details": e.details}
            for e in events
        ]
    }
