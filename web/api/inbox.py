"""The live inbox's poll and the supervisors' bulk reassignment."""

from __future__ import annotations

from typing import Any

from flask import request

from engine import inbox
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.common import json_body, transaction, user


@bp.get("/inbox/summary")
def inbox_summary() -> Any:
    """Cheap enough to poll every few seconds; 304 when nothing changed (If-None-Match)."""
    with transaction() as session:
        found = inbox.summary(session, user=user(), now=deps.clock().now())
    if found.etag in request.if_none_match:
        return "", 304, {"ETag": f'"{found.etag}"', "Cache-Control": "no-cache, private"}
    body = {"counts": found.counts, "latest_id": found.latest_id, "etag": found.etag}
    return body, 200, {"ETag": f'"{found.etag}"', "Cache-Control": "no-cache, private"}


@bp.post("/tasks/bulk-assign")
def bulk_assign() -> Any:
    body = json_body()
    ids = body.get("task_ids")
    username = body.get("user")
    note = body.get("note", "")
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        raise BadRequest('List the tasks: {"task_ids": [1, 2, ...]}.', code="bad_task_ids")
    if not isinstance(username, str) or not username.strip():
        raise BadRequest('Name the new assignee: {"user": "<username>"}.', code="missing_user")
    if not isinstance(note, str):
        raise BadRequest("The handoff note must be text.", code="bad_note")
    with transaction() as session:
        result = inbox.bulk_assign(
            session,
            task_ids=ids,
            username=username.strip(),
            note=note,
            actor=user(),
            clock=deps.clock(),
        )
    deps.committed()
    return {
        "assigned": result.assigned,
        "refused": [{"id": r.id, "code": r.code, "message": r.message} for r in result.refused],
    }
