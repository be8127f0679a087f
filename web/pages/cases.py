"""Cases: the list, opening a case (which starts its pathway), and one case at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine import access, cases, instruments, pages_view, screenings, tasks_view
from engine import client_flags as case_flags
from engine.alarms.tags import ACKNOWLEDGED, ESCALATED, ESCALATION_CLOSED, ESCALATION_COMPLETED
from engine.audit import AuditTag
from engine.cases.models import CARE_TEAM_ROLES
from engine.errors import CareBridgeError, Conflict, Forbidden, Invalid
from web import deps, formrender
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import CLINICAL_ROLES, localtime, role_label
from web.pages.record import case_record


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
ACTION_LABELS: dict[str, str] = {
    AuditTag.CASE_OPENED: "Case opened",
    AuditTag.CASE_VIEWED: "Case record viewed",
    AuditTag.CASE_CLOSED: "Case closed",
    AuditTag.CASE_FLAGGED: "Case flagged",
    AuditTag.CASE_UNFLAGGED: "Case flag removed",
    AuditTag.CASE_DISCHARGED: "Client discharged",
    AuditTag.SERVICES_DECLINED: "Client declined social work",
    AuditTag.OUTREACH_WITHDRAWN: "Client outreach withdrawn",
    AuditTag.INPATIENT_WORK_ENDED: "Inpatient work ended at discharge",
    AuditTag.FUH_RECORDED: "Mental-health follow-up recorded",
    AuditTag.CLIENT_VIEWED: "Client record viewed",
    AuditTag.TASK_VIEWED: "Task viewed",
    AuditTag.TASK_CLAIMED: "Task claimed",
    AuditTag.TASK_RELEASED: "Task released",
    AuditTag.TASK_ASSIGNED: "Task reassigned",
    AuditTag.DRAFT_SAVED: "Task draft saved",
    AuditTag.DRAFT_VIEWED: "Task draft reopened",
    AuditTag.DRAFT_DELETED: "Task draft discarded",
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
    AuditTag.REFERRAL_ORGANISATION_NOTIFIED: "Organisation told of the referral's end",
    AuditTag.CONSENT_RECORDED: "Consent to share recorded",
    AuditTag.CONSENT_REVOKED: "Consent to share revoked",
    AuditTag.CONSENTS_VIEWED: "Consents viewed",
    AuditTag.RESOURCE_SAVED: "Community resource saved",
    AuditTag.DEFINITION_DEPLOYED: "Pathway definition deployed",
    AuditTag.DEFINITION_MADE_CURRENT: "Pathway version made current",
    AuditTag.PROCESS_DRAFT_SAVED: "Pathway draft saved",
    AuditTag.INSTANCE_MIGRATED: "Pathway moved to a new version",
    AuditTag.USER_LOGIN: "Signed in",
    AuditTag.USER_LOGIN_FAILED: "Sign-in failed",
    AuditTag.TOKEN_CREATED: "API token created",
    AuditTag.TOKEN_REVOKED: "API token revoked",
    AuditTag.USER_LOGOUT: "Signed out",
    AuditTag.USER_UNLOCKED: "Sign-in lockout lifted",
    AuditTag.PASSWORD_CHANGED: "Password changed",
    AuditTag.AUDIT_VIEWED: "Audit trail viewed",
    AuditTag.CASE_LIST_VIEWED: "Case list viewed",
    AuditTag.INSTANCE_VIEWED: "Pathway viewed",
    AuditTag.ACCESS_REFUSED: "Access refused",
    AuditTag.BREAK_GLASS: "Break-glass access",
    AuditTag.TEAM_MEMBER_ADDED: "Care-team member added",
    AuditTag.TEAM_MEMBER_REMOVED: "Care-team member removed",
    AuditTag.BREAK_GLASS_REPORT_VIEWED: "Break-glass report viewed",
    # The alarm of stat tasks (engine.alarms) and its notifications' delivery state.
    ACKNOWLEDGED: "STAT task acknowledged",
    ESCALATED: "STAT task escalated",
    ESCALATION_CLOSED: "Escalation closed",
    ESCALATION_COMPLETED: "Escalation answered",
    "notification:pending": "Alert waiting to be delivered",
    "notification:sent": "Alert delivered",
    "notification:failed": "Alert NOT delivered",
    # The record (engine.notes, engine.cases.contacts, engine.caseload): ids only in details.
    "case:note:written": "Progress note written",
    "case:note:viewed": "Progress note read",
    "case:note:listed": "Progress notes read",
    "case:note:addendum": "Addendum added to a note",
    "case:note:cosigned": "Note co-signed",
    "case:note:mentioned": "Colleague mentioned in a note",
    "task:mention:done": "Mention marked done",
    "case:contact:added": "Contact recorded",
    "case:contact:viewed": "Contacts read",
    "case:primary_worker:moved": "Case handed to a new primary social worker",
    "task:handoff": "Task handed over",
}


@bp.get("/cases")
@login_required
def case_list() -> str:
    name = request.args.get("q", "").strip()[:120]
    status = request.args.get("status", "").strip()
    with deps.transaction() as session:
        rows = pages_view.find_cases(
            session, actor=g.user, clock=deps.clock(), name=name or None, status=status or None
        )
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
        with deps.transaction() as session:
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
    if d.get("band"):
        parts.append(str(d["band"]).replace("_", " "))
    if d.get("risk_level"):
        parts.append(f"{d['risk_level']} risk")
    if d.get("flags"):
        parts.append(", ".join(str(f).replace("_", " ") for f in d["flags"]))
    if d.get("message"):
        parts.append(f"“{d['message']}”")
    if d.get("break_glass"):
        parts.append("break-glass access")
    if d.get("channel"):
        who = d.get("recipient") or "nobody"
        parts.append(f"{d['kind']} by {d['channel']} to {who}, {d['attempts']} attempt(s)")
        if d.get("last_error"):
            parts.append(str(d["last_error"]))
    if d.get("reason") and item.action == ESCALATION_CLOSED:
        parts.append(str(d["reason"]))
    if d.get("level") and item.action == ESCALATED:
        parts.append(f"level {d['level']}" + (" (re-alert)" if d.get("re_alert") else ""))
    return " · ".join(parts)


def _instrument_title(key: str) -> str:
    try:
        return instruments.get_instrument(key).title
    except CareBridgeError:
        return key


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int) -> str:
    with deps.transaction() as session:
        overview = pages_view.case_overview(
            session, case_id=case_id, actor=g.user, clock=deps.clock()
        )
        record = case_record(session, case_id)
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
    holders = {e.user.id for e in overview.care_team if e.user is not None}
    return render_template(
        "pages/case.html",
        o=overview,
        record=record,
        c=overview.case,
        client=overview.client,
        names=names,
        timeline=timeline,
        titles=titles,
        do_not_contact=overview.client.do_not_contact
        or bool((overview.case.flags or {}).get("do_not_contact")),
        can_screen=g.user.has_role(*screenings.SCREENING_ROLES),
        screen_instruments=instruments.list_instruments(),
        others=[m for m in overview.team if m.user_id not in holders],
        team_roles=CARE_TEAM_ROLES,
        can_remove_flag=g.user.has_role(*case_flags.REMOVING_ROLES),
        can_set_flag=g.user.has_role(*case_flags.SETTING_ROLES),
    )


@bp.post("/cases/<int:case_id>/do-not-contact")
@login_required
@require_roles(*CLINICAL_ROLES)
def set_do_not_contact(case_id: int) -> Response:
    """The case page's do-not-contact form: set (with a reason), or remove (a supervisor, with
    a reason). The engine withdraws outreach and plans safe contact in the same transaction."""
    value = request.form.get("value") == "set"
    try:
        with deps.transaction() as session:
            change = case_flags.set_flag(
                session,
                case_id=case_id,
                flag="do_not_contact",
                value=value,
                reason=request.form.get("reason", ""),
                actor=g.user,
                clock=deps.clock(),
                site=deps.site(),
            )
            withdrawn = len(change.withdrawn)
    except access.RecordAccessDenied:
        raise  # a refusal of the record itself: the 403 page, audited, with break-glass
    except (Invalid, Forbidden) as exc:
        flash(exc.public_message + _first_detail(exc), "error")
        return redirect(url_for("pages.case", case_id=case_id))
    deps.committed()
    if value:
        flash(
            f"Do not contact set: {withdrawn} outreach task(s) withdrawn; "
            "plan safe contact with the client.",
            "notice",
        )
    else:
        flash("Do not contact removed.", "notice")
    return redirect(url_for("pages.case", case_id=case_id))


def _first_detail(exc: CareBridgeError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    return f" {details[0]['message']}" if details and "message" in details[0] else ""


@bp.get("/instances/<int:instance_id>/diagram.json")
@login_required
def instance_diagram(instance_id: int) -> Response:
    """The pathway's diagram(s) and which elements are completed, active or waiting."""
    with deps.transaction() as session:
        view = pages_view.instance_for_diagram(
            session, instance_id=instance_id, actor=g.user, clock=deps.clock()
        )
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
