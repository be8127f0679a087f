"""Cases: the list, opening a case (which starts its pathway), and one case at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine import cases, instruments, pages_view, tasks_view
from engine.audit import AuditTag
from engine.errors import CareBridgeError, Conflict, Invalid
from web import deps, formrender
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import CLINICAL_ROLES, localtime, role_label


@dataclass(frozen=True)
class ClientField:
    name: str
    label: str
    type: str = "text"
    required: bool = False
    hint: str = ""
    maxlength: int = 120


CLIENT_FIELDS = (
    ClientField("given_name", "Given name", required=True),
    ClientField("family_name", "Family name", required=True),
    ClientField("birth_date", "Date of birth", "date", required=True),
    ClientField(
        "mrn",
        "Medical record number (MRN)",
        hint="If the client is already known, the existing record is used.",
        maxlength=40,
    ),
    ClientField("phone", "Phone", "tel", maxlength=40),
    ClientField("preferred_language", "Preferred language", maxlength=40),
    ClientField("postal_code", "Postal code", maxlength=20),
)

# Every audit tag has a label (tests/web/pages checks none is missing).
ACTION_LABELS = {
    AuditTag.CASE_OPENED: "Case opened",
    AuditTag.CASE_VIEWED: "Case record viewed",
    AuditTag.CASE_CLOSED: "Case closed",
    AuditTag.CASE_FLAGGED: "Case flagged",
    AuditTag.CLIENT_VIEWED: "Client record viewed",
    AuditTag.TASK_VIEWED: "Task viewed",
    AuditTag.TASK_CLAIMED: "Task claimed",
    AuditTag.TASK_RELEASED: "Task released",
    AuditTag.TASK_ASSIGNED: "Task reassigned",
    AuditTag.TASK_COMPLETED: "Task completed",
    AuditTag.TASK_CREATED: "Task created",
    AuditTag.INSTANCE_STARTED: "Pathway started",
    AuditTag.INSTANCE_COMPLETED: "Pathway finished",
    AuditTag.MESSAGE_RECEIVED: "Message received",
    AuditTag.MESSAGE_ACCEPTED: "Message accepted from its sender",
    AuditTag.TIMER_FIRED: "Timer fired",
    AuditTag.ASSESSMENT_RECORDED: "Screening recorded",
    AuditTag.REFERRAL_UPDATED: "Referral updated",
    AuditTag.REFERRAL_VIEWED: "Referral viewed",
    AuditTag.CONSENT_RECORDED: "Consent to share recorded",
    AuditTag.CONSENT_REVOKED: "Consent to share revoked",
    AuditTag.CONSENTS_VIEWED: "Consents viewed",
    AuditTag.RESOURCE_SAVED: "Community resource saved",
    AuditTag.DEFINITION_DEPLOYED: "Pathway definition deployed",
    AuditTag.USER_LOGIN: "Signed in",
    AuditTag.USER_LOGIN_FAILED: "Sign-in failed",
    AuditTag.TOKEN_CREATED: "API token created",
    AuditTag.TOKEN_REVOKED: "API token revoked",
    AuditTag.USER_LOGOUT: "Signed out",
    AuditTag.USER_UNLOCKED: "Sign-in lockout lifted",
    AuditTag.PASSWORD_CHANGED: "Password changed",
    AuditTag.AUDIT_VIEWED: "Audit trail viewed",
}


@bp.get("/cases")
@login_required
def case_list() -> str:
    name = request.args.get("q", "").strip()[:120]
    status = request.args.get("status", "").strip()
    with deps.sessions().begin() as session:
        rows = pages_view.find_cases(session, name=name or None, status=status or None)
        counts = pages_view.open_task_counts(session, [c.id for c in rows])
    return render_template("pages/cases.html", cases=rows, counts=counts, q=name, status=status)


def _new_form(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return (
        render_template("pages/case_new.html", fields=CLIENT_FIELDS, values=values, errors=errors),
        status,
    )


@bp.get("/cases/new")
@login_required
@require_roles(*CLINICAL_ROLES)
def new_case() -> Any:
    return _new_form({}, {})


@bp.post("/cases/new")
@login_required
@require_roles(*CLINICAL_ROLES)
def open_case() -> Any:
    values = {
        f"client.{f.name}": request.form.get(f"client.{f.name}", "").strip() for f in CLIENT_FIELDS
    }
    values["reason"] = request.form.get("reason", "").strip()
    client = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("client.") and v}
    try:
        with deps.sessions().begin() as session:
            case, started = cases.open_case(
                session,
                client=client,
                reason=values["reason"],
                actor=g.user,
                clock=deps.clock(),
                site=deps.site(),
            )
            case_id, who = case.id, case.client.display_name
            names = tasks_view.usernames(
                session, [t.assignee_id for t in started.created_tasks], display=True
            )
            steps = [
                f"{t.name}, "
                + (
                    f"with {names[t.assignee_id]}"
                    if t.assignee_id in names
                    else f"in the {role_label(t.role)} queue"
                )
                + f" (due {localtime(t.due_at)})"
                for t in started.created_tasks
            ]
    except Invalid as exc:
        errors = formrender.errors_by_field(exc.details)
        if not values["reason"]:
            # The engine stops at the first bad part; say everything that is missing at once.
            errors.setdefault("reason", "This field is required.")
        return _new_form(values, errors or {"reason": exc.public_message}, 422)
    except Conflict as exc:
        return _new_form(values, {"client.mrn": exc.public_message}, 409)
    deps.committed()
    next_steps = f" Next: {'; '.join(steps)}." if steps else ""
    flash(f"Case opened for {who}.{next_steps}", "notice")
    return redirect(url_for("pages.case", case_id=case_id))


def _describe(item: pages_view.TimelineItem, names: dict[int, str]) -> str:
    d = item.details
    parts: list[str] = []
    if item.task_name:
        parts.append(item.task_name)
    elif d.get("bpmn_id"):
        parts.append(str(d["bpmn_id"]))
    if d.get("process"):
        version = f" v{d['version']}" if d.get("version") else ""
        parts.append(f"{d['process']}{version}")
    if d.get("role") and item.action == "case:task:created":
        parts.append(f"{role_label(d['role'])} queue")
    if d.get("priority") and d["priority"] != "routine":
        parts.append(str(d["priority"]).upper())
    if d.get("assignee_id"):
        parts.append("to " + names.get(d["assignee_id"], f"user {d['assignee_id']}"))
    if d.get("instrument"):
        parts.append(_instrument_title(str(d["instrument"])))
    if d.get("flags"):
        parts.append(", ".join(str(f).replace("_", " ") for f in d["flags"]))
    if d.get("message"):
        parts.append(f"“{d['message']}”")
    if d.get("break_glass"):
        parts.append("break-glass access")
    return " · ".join(parts)


def _instrument_title(key: str) -> str:
    try:
        return instruments.get_instrument(key).title
    except CareBridgeError:
        return key


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int) -> str:
    with deps.sessions().begin() as session:
        overview = pages_view.case_overview(
            session, case_id=case_id, actor=g.user, clock=deps.clock()
        )
        names = dict(overview.names)
        names.update(
            tasks_view.usernames(
                session, [e.details.get("assignee_id") for e in overview.timeline], display=True
            )
        )
    timeline = [
        {
            "at": e.at,
            "actor": e.actor,
            "label": ACTION_LABELS.get(e.action, e.action),
            "detail": _describe(e, names),
            "action": e.action,
        }
        for e in overview.timeline
    ]
    titles = {a.instrument: _instrument_title(a.instrument) for a in overview.assessments}
    return render_template(
        "pages/case.html",
        o=overview,
        c=overview.case,
        client=overview.client,
        names=names,
        timeline=timeline,
        titles=titles,
        do_not_contact=overview.client.do_not_contact
        or bool((overview.case.flags or {}).get("do_not_contact")),
    )


@bp.get("/instances/<int:instance_id>/diagram.json")
@login_required
def instance_diagram(instance_id: int) -> Response:
    """The pathway's diagram(s) and which elements are completed, active or waiting."""
    with deps.sessions().begin() as session:
        view = pages_view.instance_for_diagram(session, instance_id=instance_id)
        definition = view.definition
        files = dict(definition.files)
        main = definition.main_file
    diagrams = [{"name": main, "xml": files.pop(main, definition.bpmn_xml)}]
    diagrams += [{"name": n, "xml": x} for n, x in sorted(files.items()) if n.endswith(".bpmn")]
    return jsonify(
        {
            "diagrams": diagrams,
            "markers": {
                "completed": sorted(view.completed),
                "active": sorted(view.active),
                "waiting": sorted(view.waiting),
            },
        }
    )
