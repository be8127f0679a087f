"""Delivery state of a case's alerts (the notification outbox)."""

from __future__ import annotations

from typing import Any

from engine import cases, notifications
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.cases import CASE_ROLES
from web.api.common import int_arg, iso, require_roles, transaction, user


@bp.get("/notifications")
def list_notifications() -> Any:
    require_roles(*CASE_ROLES)
    case_id = int_arg("case", low=1)
    if case_id is None:
        raise BadRequest("Name the case: ?case=<id>.", code="missing_case")
    with transaction() as session:
        # Part of the case's record: the read is audited like the timeline's.
        cases.view_case(session, case_id=case_id, actor=user(), clock=deps.clock())
        rows = notifications.for_case(session, case_id=case_id)
    return {
        "notifications": [
            {
                "id": n.id,
                "kind": n.kind,
                "channel": n.channel,
                "recipient": recipient,
                "status": n.status,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "created_at": iso(n.created_at),
                "sent_at": iso(n.sent_at),
                "next_attempt_at": iso(n.next_attempt_at) if n.status == "pending" else None,
                "task_id": n.task_id,
            }
            for n, recipient in rows
        ]
    }
