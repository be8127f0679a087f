"""A task's draft: the signed-in person's unsent answers, kept while they work the form."""

from __future__ import annotations

from typing import Any

from engine import drafts
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.common import iso, json_body, transaction, user


@bp.get("/tasks/<int:task_id>/draft")
def get_task_draft(task_id: int) -> Any:
    with transaction() as session:
        draft = drafts.get_draft(
            session, task_id=task_id, actor=user(), clock=deps.clock(), cipher=deps.draft_cipher()
        )
    return {"data": draft.data, "saved_at": iso(draft.saved_at)}


@bp.put("/tasks/<int:task_id>/draft")
def put_task_draft(task_id: int) -> Any:
    data = json_body().get("data")
    if not isinstance(data, dict):
        raise BadRequest('Send the answers as {"data": {...}}.', code="missing_data")
    with transaction() as session:
        draft = drafts.save_draft(
            session,
            task_id=task_id,
            data=data,
            actor=user(),
            clock=deps.clock(),
            cipher=deps.draft_cipher(),
        )
    return {"saved_at": iso(draft.saved_at)}


@bp.delete("/tasks/<int:task_id>/draft")
def delete_task_draft(task_id: int) -> Any:
    with transaction() as session:
        drafts.delete_draft(session, task_id=task_id, actor=user(), clock=deps.clock())
    return "", 204
