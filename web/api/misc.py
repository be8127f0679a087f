"""Process instances, messages from other systems, instrument scoring and the audit trail."""

from __future__ import annotations

from typing import Any

from engine import audit, cases, instances, instruments
from engine.errors import BadRequest, Invalid
from web import deps
from web.api import bp
from web.api.cases import CASE_ROLES
from web.api.common import (
    credential,
    int_arg,
    iso,
    json_body,
    require_roles,
    token_scopes,
    transaction,
    user,
)
from web.converters import MAX_ROW_ID


@bp.get("/process-instances/<int:instance_id>")
def get_instance(instance_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        view = cases.view_instance(
            session, instance_id=instance_id, actor=user(), clock=deps.clock()
        )
        i = view.instance
        return {
            "instance": {
                "id": i.id,
                "status": i.status,
                "process_key": i.definition.process_key,
                "version": i.definition.version,
                "case_id": i.case_id,
                "next_timer_at": iso(i.next_timer_at),
                "completed": sorted(view.completed),
                "active": sorted(view.active),
                "waiting": sorted(view.waiting),
            }
        }


@bp.post("/messages")
@token_scopes("referral", "adt", "hl7")
def deliver_message() -> Any:
    # Who may send what is decided per message kind (engine.instances.message_rules).
    body = json_body()
    name, case_id, payload = body.get("name"), body.get("case_id"), body.get("payload", {})
    errors = []
    if not isinstance(name, str) or not name.strip():
        errors.append({"field": "name", "message": "Name the message."})
    if not isinstance(case_id, int) or isinstance(case_id, bool) or not 1 <= case_id <= MAX_ROW_ID:
        errors.append({"field": "case_id", "message": "Must be a case id (a whole number)."})
    if not isinstance(payload, dict):
        errors.append({"field": "payload", "message": "Must be an object."})
    # The isinstance tests repeat the checks above so that the type checker sees them.
    if errors or not isinstance(name, str) or not isinstance(case_id, int):
        raise Invalid("The message needs attention.", code="invalid_message", details=errors)
    with transaction() as session:
        instances.authorize_message(
            session,
            name=name.strip(),
            case_id=case_id,
            credential=credential(),
            at=deps.clock().now(),
        )
        results = instances.deliver_message(
            session,
            name=name.strip(),
            case_id=case_id,
            payload=payload,
            actor=user(),
            clock=deps.clock(),
            site=deps.site(),
        )
        delivered = [r.instance.id for r in results]
    deps.committed()
    return {"delivered": delivered}


def _instruments_dir() -> Any:
    return deps.deps().settings.forms_dir / "instruments"


@bp.get("/instruments")
def list_instruments() -> Any:
    return {
        "instruments": [
            {"key": i.key, "title": i.title, "version": i.version, "attribution": i.attribution}
            for i in instruments.list_instruments(instruments_dir=_instruments_dir())
        ]
    }


@bp.post("/instruments/<key>/score")
def score_instrument(key: str) -> Any:
    answers = json_body().get("answers")
    if not isinstance(answers, dict):
        raise BadRequest('Send the answers as {"answers": {"q1": ...}}.', code="missing_answers")
    return instruments.score(key, answers, instruments_dir=_instruments_dir()).as_dict()


@bp.get("/audit")
def audit_events() -> Any:
    require_roles("admin")
    case_id = int_arg("case", low=1, high=MAX_ROW_ID)
    if case_id is None:
        raise BadRequest("Name the case: /api/v1/audit?case=<id>.", code="missing_case")
    limit = int_arg("limit", default=500, low=1, high=1000)
    assert limit is not None
    clock = deps.clock()
    with transaction() as session:
        case = cases.get_case(session, case_id)
        events = audit.events_for_case(session, case_id, limit=limit)
        body = {
            "events": [
                {
                    "id": e.id,
                    "at": iso(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "category": e.category,
                    "case_id": e.case_id,
                    "client_id": e.client_id,
                    "task_id": e.task_id,
                    "details": e.details,
                }
                for e in events
            ]
        }
        # Reading who saw a client is itself a read of the client's record.
        audit.record(
            session,
            audit.AuditTag.AUDIT_VIEWED,
            actor=instances.actor_of(user()),
            at=clock.now(),
            category="audit",
            case_id=case.id,
            client_id=case.client_id,
            details={"events": len(events)},
        )
    return body
