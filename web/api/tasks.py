"""Tasks: the inbox views, one task with its form, and the commands people give on a task."""

from __future__ import annotations

from typing import Any

from flask import request

from engine import alarms, inbox, instances, notes, tasks_view
from engine.cases import contacts
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.common import int_arg, json_body, task_json, transaction, user


@bp.get("/tasks")
def list_tasks() -> Any:
    view = request.args.get("view", "mine")
    sort = request.args.get("sort", inbox.DEFAULT_SORT)
    if view not in inbox.VIEWS:
        raise BadRequest(f"Unknown view; use one of {', '.join(inbox.VIEWS)}.", code="bad_view")
    if sort not in inbox.SORTS:
        raise BadRequest(f"Unknown sort; use one of {', '.join(inbox.SORTS)}.", code="bad_sort")
    limit = int_arg("limit", default=50, low=1, high=200)
    assert limit is not None
    now = deps.clock().now()
    with transaction() as session:
        page = inbox.list_tasks(
            session,
            user=user(),
            view=view,
            now=now,
            sort=sort,
            limit=limit,
            after=request.args.get("after") or None,
            client=request.args.get("client") or None,
            task_type=request.args.get("task_type") or None,
        )
        tasks = tasks_view.summarize_tasks(session, page.rows)
        counts = inbox.counts(session, user=user(), now=now)
    return {
        "tasks": [task_json(t, now) for t in tasks],
        "next_cursor": page.next_cursor,
        "counts": counts,
    }


@bp.get("/tasks/<int:task_id>")
def get_task(task_id: int) -> Any:
    clock = deps.clock()
    with transaction() as session:
        detail = tasks_view.view_task(session, task_id=task_id, actor=user(), clock=clock)
        # Outreach may use only contacts the client consented to share with (none under DNC).
        shareable = (
            contacts.shareable_contacts(
                session, case_id=detail.task.case_id, today=clock.now().date()
            )
            if detail.task.case_id is not None
            else []
        )
        contact_rows = [contacts.outreach_json(c) for c in shareable]
    body = task_json(detail.summary, clock.now())
    body.update(
        handoff_note=detail.task.handoff_note,
        contacts=contact_rows,
        note_id=detail.task.note_id,
        form_schema=detail.form_schema,
        ui_schema=detail.ui_schema,
        instructions=detail.instructions,
        can_complete=detail.can_work,
    )
    return {"task": body}


def _task_response(task_id: int, command: Any, **kwargs: Any) -> Any:
    clock = deps.clock()
    with transaction() as session:
        task = command(session, task_id=task_id, actor=user(), clock=clock, **kwargs)
        summary = tasks_view.summarize_task(session, task)
    deps.committed()
    return {"task": task_json(summary, clock.now())}


@bp.post("/tasks/<int:task_id>/claim")
def claim_task(task_id: int) -> Any:
    return _task_response(task_id, inbox.claim_task)


@bp.post("/tasks/<int:task_id>/release")
def release_task(task_id: int) -> Any:
    return _task_response(task_id, inbox.release_task)


@bp.post("/tasks/<int:task_id>/assign")
def assign_task(task_id: int) -> Any:
    body = json_body()
    username = body.get("user")
    if not isinstance(username, str) or not username.strip():
        raise BadRequest('Name the new assignee: {"user": "<username>"}.', code="missing_user")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadRequest("The handoff note must be text.", code="bad_note")
    clock = deps.clock()
    with transaction() as session:
        task = inbox.assign_task(
            session,
            task_id=task_id,
            username=username.strip(),
            actor=user(),
            clock=clock,
            note=(note or "").strip() or None,
        )
        summary = tasks_view.summarize_task(session, task)
        handoff_note = task.handoff_note
    deps.committed()
    body = task_json(summary, clock.now())
    body["handoff_note"] = handoff_note
    return {"task": body}


@bp.post("/tasks/<int:task_id>/acknowledge")
def acknowledge_task(task_id: int) -> Any:
    """200 with the task (a second acknowledgement returns the first: who and when), 403 for
    someone who may not act on it, 409 once it is closed. Who and when are also repeated at
    the top level, for clients that read only those."""
    body = _task_response(task_id, alarms.acknowledge)
    task = body["task"]
    return {
        "task": task,
        "acknowledged_at": task["acknowledged_at"],
        "acknowledged_by": task["acknowledged_by"],
    }


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int) -> Any:
    data = json_body().get("data")
    if not isinstance(data, dict):
        raise BadRequest('Send the form as {"data": {...}}.', code="missing_data")
    clock = deps.clock()
    with transaction() as session:
        # A note's mention or co-signature task has no workflow behind it.
        note_task = notes.complete_note_task(session, task_id=task_id, actor=user(), clock=clock)
        if note_task is not None:
            summary = tasks_view.summarize_task(session, note_task)
            return {"task": task_json(summary, clock.now()), "next_tasks": []}
        result = instances.complete_task(
            session, task_id=task_id, data=data, actor=user(), clock=clock, site=deps.site()
        )
        done = tasks_view.summarize_task(
            session, result.task or instances.get_task(session, task_id)
        )
        created = tasks_view.summarize_tasks(session, result.created_tasks)
    deps.committed()
    now = clock.now()
    return {"task": task_json(done, now), "next_tasks": [task_json(t, now) for t in created]}
