"""A task's page: instructions, the form, and claim / release / reassign."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm.session import Session
from werkzeug.wrappers import Response

from engine import access, alarms, drafts, inbox, instances, notes, tasks_view
from engine.cases import contacts
from engine.errors import Conflict, Forbidden, Invalid
from engine.forms import field_errors
from web import deps, formrender
from web.auth import login_required
from web.pages import bp
from web.pages.common import back, localtime, reader_zone, role_label
from web.pages.instructions import render_instructions


def _detail(task_id: int, *, record_view: bool) -> tasks_view.TaskDetail:
    with deps.transaction() as session:
        return tasks_view.view_task(
            session, task_id=task_id, actor=g.user, clock=deps.clock(), record_view=record_view
        )


def _page(
    detail: tasks_view.TaskDetail,
    *,
    values: Mapping[str, list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    restored: drafts.Draft | None = None,
) -> tuple[str, int]:
    fields = _fields(detail)
    if values is None:
        values = {
            **formrender.schema_defaults(detail.form_schema or {}),
            **_previous_text(detail, fields),
        }
    errors = errors or {}
    html = render_template(
        "pages/task.html",
        d=detail,
        outreach_contacts=_outreach_contacts(detail),
        task=detail.task,
        form_html=(
            formrender.render(fields, values, errors, zone=reader_zone())
            if detail.can_work
            else None
        ),
        form_title=(detail.form_schema or {}).get("title"),
        form_description=(detail.form_schema or {}).get("description"),
        error_summary=_summary(fields, errors),
        instructions=render_instructions(detail.instructions_template, detail.data),
        problem=problem,
        restored=restored,
        # The new holder is told a reassignment dropped someone else's unsent answers.
        draft_discarded=(
            detail.task.draft_discarded_at
            if detail.task.assignee_id == g.user.id and detail.task.status == "open"
            else None
        ),
    )
    return html, status


def _outreach_contacts(detail: tasks_view.TaskDetail) -> list[dict[str, Any]]:
    if detail.task.case_id is None:
        return []
    with deps.transaction() as session:
        rows = contacts.shareable_contacts(
            session, case_id=detail.task.case_id, today=deps.clock().now().date()
        )
        return [contacts.outreach_json(c) for c in rows]


def _fields(detail: tasks_view.TaskDetail) -> list[formrender.Field]:
    schema = detail.form_schema
    return formrender.build(schema, detail.ui_schema or {}) if schema else []


def _previous_text(
    detail: tasks_view.TaskDetail, fields: list[formrender.Field]
) -> dict[str, list[str]]:
    """A repeated task (the next care-plan round) starts from the last round's wording. Only
    free text is carried over: a choice such as 'close the case' must be made afresh."""
    previous = detail.data.get(detail.task.variable or "") if detail.task.variable else None
    if not isinstance(previous, dict):
        return {}
    text = {f.name for top in fields for f in top.walk() if f.widget in ("text", "textarea")}
    # A masked value (engine.access) is never carried into a form, where it would be saved.
    return {
        k: v
        for k, v in formrender.initial_values(previous).items()
        if k in text and access.MASKED not in v
    }


def _summary(fields: list[formrender.Field], errors: Mapping[str, str]) -> list[dict[str, str]]:
    """Every error, in form order, each linking to its field (unplaced ones last)."""
    by_name = {f.name: f for top in fields for f in top.walk()}
    # An instrument's error already lists its unanswered items: they are not listed again.
    groups = [n for n, f in by_name.items() if f.widget == "fieldset" and n in errors]
    out = []
    for name, f in by_name.items():
        if any(name.startswith(g + ".") for g in groups):
            continue
        if name in errors:
            # A message that already names its field is not prefixed with the label again.
            title = "" if errors[name].startswith(f.title) else f.title
            out.append({"href": f"#{f.id}", "title": title, "message": errors[name]})
    for name, message in formrender.unplaced(fields, errors).items():
        out.append({"href": "#task-form", "title": name, "message": message})
    return out


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int) -> tuple[str, int]:
    detail = _detail(task_id, record_view=True)
    draft = _my_draft(task_id) if detail.can_work else None
    if draft is None:
        return _page(detail)
    return _page(detail, values=draft[1], restored=draft[0])


def _my_draft(task_id: int) -> tuple[drafts.Draft, dict[str, list[str]]] | None:
    """The person's autosaved answers, as the form's raw values, when they left some."""
    with deps.transaction() as session:
        draft = drafts.find_draft(
            session, task_id=task_id, actor=g.user, clock=deps.clock(), cipher=deps.draft_cipher()
        )
    if draft is None:
        return None
    values = {
        k: [str(x) for x in v]
        for k, v in draft.data.items()
        if isinstance(k, str) and k != "csrf_token" and isinstance(v, list)
    }
    return draft, values


@bp.post("/tasks/<int:task_id>")
@login_required
def complete(task_id: int) -> Any:
    values = formrender.values_from_form(request.form)
    values.pop("csrf_token", None)
    parsed = formrender.Parsed({}, {})
    try:
        with deps.transaction() as session:
            detail = tasks_view.view_task(
                session, task_id=task_id, actor=g.user, clock=deps.clock(), record_view=False
            )
            fields = _fields(detail)
            parsed = formrender.parse(fields, values, zone=reader_zone())
            if parsed.errors:
                # Text that is not even a number: report it with every other problem at once.
                raise Invalid(
                    "Some fields need attention.",
                    code="form_invalid",
                    details=field_errors(detail.form_schema or {}, parsed.data),
                )
            # A note's mention or co-signature task has no workflow behind it.
            done = notes.complete_note_task(
                session, task_id=task_id, actor=g.user, clock=deps.clock()
            )
            if done is not None:
                notice = f"{detail.task.name}: done."
            else:
                result = instances.complete_task(
                    session,
                    task_id=task_id,
                    data=parsed.data,
                    actor=g.user,
                    clock=deps.clock(),
                    site=deps.site(),
                )
                notice = _next_steps(session, detail.task.name, result)
    except Invalid as exc:
        errors = formrender.errors_by_field(exc.details, parsed.errors)
        if not errors:
            errors = {"(form)": exc.public_message}
        return _page(_detail(task_id, record_view=False), values=values, errors=errors, status=422)
    except Conflict as exc:
        message = (
            "Someone else completed this task before you submitted. Your answers were not saved."
            if exc.code in ("task_closed", "task_gone")
            else exc.public_message
        )
        return _page(_detail(task_id, record_view=False), problem=message, status=409)
    deps.committed()
    flash(notice, "notice")
    return redirect(url_for("pages.inbox"))


def _next_steps(session: Session, done: str, result: instances.CommandResult) -> str:
    """`Intake completed. Next: Psychosocial assessment, with Alex Rivera (due …).`"""
    if not result.created_tasks:
        if result.instance.status == "completed":
            return f"{done} completed. The pathway is complete."
        return f"{done} completed. Nothing new to do yet: the pathway is waiting."
    names = tasks_view.usernames(
        session, [t.assignee_id for t in result.created_tasks], display=True
    )
    steps = []
    for t in result.created_tasks:
        holder = (
            f"with {names[t.assignee_id]}"
            if t.assignee_id in names
            else f"in the {role_label(t.role)} queue"
        )
        steps.append(f"{t.name}, {holder} (due {localtime(t.due_at)})")
    return f"{done} completed. Next: " + "; ".join(steps) + "."


def _act(action: str, task_id: int, **kwargs: Any) -> tuple[str, str | None, str | None]:
    """Run claim/release/assign; returns (task name, role, holder's name)."""
    command: dict[str, Callable[..., inbox.HumanTask]] = {
        "claim": inbox.claim_task,
        "release": inbox.release_task,
        "assign": inbox.assign_task,
        "acknowledge": alarms.acknowledge,
    }
    with deps.transaction() as session:
        task = command[action](session, task_id=task_id, actor=g.user, clock=deps.clock(), **kwargs)
        holder = tasks_view.usernames(session, [task.assignee_id], display=True).get(
            task.assignee_id or 0
        )
        return task.name, task.role, holder


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int) -> Response:
    try:
        name, _, _ = _act("claim", task_id)
    except (Conflict, Invalid) as exc:
        flash(exc.public_message, "error")
        return back()
    flash(f"You hold “{name}” now.", "notice")
    return back("pages.task", task_id=task_id)


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id: int) -> Response:
    try:
        name, role, _ = _act("release", task_id)
    except (Conflict, Invalid) as exc:
        flash(exc.public_message, "error")
        return back()
    flash(f"“{name}” is back in the {role_label(role)} queue.", "notice")
    return back()


@bp.post("/tasks/<int:task_id>/acknowledge")
@login_required
def acknowledge(task_id: int) -> Response:
    try:
        name, _, _ = _act("acknowledge", task_id)
    except (Conflict, Forbidden) as exc:
        flash(exc.public_message, "error")
        return back("pages.task", task_id=task_id)
    deps.committed()
    flash(f"You acknowledged “{name}”: the alarm has stopped.", "notice")
    return back("pages.task", task_id=task_id)


@bp.post("/tasks/<int:task_id>/assign")
@login_required
def assign(task_id: int) -> Response:
    username = request.form.get("user", "").strip()
    try:
        if not username:
            raise Invalid("Choose who should take this task.", code="assignee_missing")
        note = request.form.get("note", "").strip()[:2000] or None
        name, _, holder = _act("assign", task_id, username=username, note=note)
    except (Conflict, Invalid) as exc:
        flash(exc.public_message, "error")
        return back("pages.task", task_id=task_id)
    flash(f"“{name}” is now with {holder or username}.", "notice")
    return back("pages.task", task_id=task_id)
