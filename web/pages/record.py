"""The social worker's record on the pages: the caseload (landing tab for social workers),
the supervisors' overview, and the case page's notes, contacts and handoff forms."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from engine import caseload, notes
from engine.cases import contacts
from engine.errors import CareBridgeError, Conflict, Invalid
from web import deps
from web.auth import login_required
from web.pages import bp

SORTS = {
    "case": lambda r: r.case_id,
    "client": lambda r: r.client.lower(),
    "due": lambda r: (r.earliest_due is None, r.earliest_due),
    "contact": lambda r: (r.days_since_contact is None, -(r.days_since_contact or 0)),
    "tasks": lambda r: -r.open_tasks,
    "discharge": lambda r: (r.expected_discharge_at is None, r.expected_discharge_at),
}


@bp.get("/caseload")
@login_required
def caseload_page() -> str:
    sort = request.args.get("sort", "due")
    key = SORTS.get(sort, SORTS["due"])
    with deps.transaction() as session:
        owner, rows = caseload.caseload(
            session, actor=g.user, clock=deps.clock(), username=request.args.get("user")
        )
    return render_template(
        "pages/caseload.html",
        owner=owner,
        rows=sorted(rows, key=key),
        sort=sort,
        sorts=SORTS,
        now=deps.clock().now(),
    )


@bp.get("/caseload/team")
@login_required
def team_caseloads_page() -> str:
    with deps.transaction() as session:
        workers = caseload.team_overview(session, actor=g.user, clock=deps.clock())
    return render_template("pages/caseload_team.html", workers=workers)


def _problem(exc: CareBridgeError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    fields = "; ".join(f"{d['field']}: {d['message']}" for d in details if "field" in d)
    return f"{exc.public_message} {fields}".strip()


def _back(case_id: int, anchor: str) -> Any:
    return redirect(url_for("pages.case", case_id=case_id) + anchor)


@bp.post("/cases/<int:case_id>/notes")
@login_required
def write_note_page(case_id: int) -> Any:
    form = request.form
    payload: dict[str, Any] = {"type": form.get("type", ""), "body": form.get("body", "")}
    if form.get("minutes", "").strip():
        try:
            payload["minutes"] = int(form["minutes"])
        except ValueError:
            payload["minutes"] = form["minutes"]  # the schema names the field
    if form.get("sensitive"):
        payload["sensitive"] = True
    participants = [p.strip() for p in form.get("participants", "").split(",") if p.strip()]
    if participants:
        payload["participants"] = participants
    fields = {
        k.removeprefix("fields."): v.strip()
        for k, v in form.items()
        if k.startswith("fields.") and v.strip()
    }
    if fields:
        payload["fields"] = fields
    try:
        with deps.transaction() as session:
            view = notes.write_note(
                session, case_id=case_id, payload=payload, actor=g.user, clock=deps.clock()
            )
            status = view.status
    except Invalid as exc:
        flash(_problem(exc), "error")
        return _back(case_id, "#notes-title")
    deps.committed()
    flash(f"Note saved and signed ({status}).", "notice")
    return _back(case_id, "#notes-title")


@bp.post("/notes/<int:note_id>/addenda")
@login_required
def add_addendum_page(note_id: int) -> Any:
    with deps.transaction() as session:
        case_id = notes.case_of_note(session, note_id)
    try:
        with deps.transaction() as session:
            notes.add_addendum(
                session,
                note_id=note_id,
                body=request.form.get("body", ""),
                actor=g.user,
                clock=deps.clock(),
            )
    except Invalid as exc:
        flash(_problem(exc), "error")
        return _back(case_id, f"#note-{note_id}")
    flash("Addendum added.", "notice")
    return _back(case_id, f"#note-{note_id}")


@bp.post("/notes/<int:note_id>/cosign")
@login_required
def cosign_note_page(note_id: int) -> Any:
    try:
        with deps.transaction() as session:
            view = notes.cosign_note(session, note_id=note_id, actor=g.user, clock=deps.clock())
            case_id = view.note.case_id
    except Conflict as exc:
        flash(exc.public_message, "error")
        return redirect(url_for("pages.inbox"))
    flash("Note co-signed.", "notice")
    return _back(case_id, f"#note-{note_id}")


@bp.post("/cases/<int:case_id>/contacts")
@login_required
def add_contact_page(case_id: int) -> Any:
    form = request.form
    consent = None
    if form.get("consent_scope", "").strip():
        consent = {
            "scope": form["consent_scope"].strip(),
            "expires_on": form.get("consent_expires_on", "").strip() or None,
        }
    payload = {
        "name": form.get("name", ""),
        "relationship": form.get("relationship", ""),
        "phone": form.get("phone", ""),
        "preferred_language": form.get("preferred_language", ""),
        "interpreter_needed": bool(form.get("interpreter_needed")),
        "consent_to_share": consent,
        "is_legal_decision_maker": bool(form.get("is_legal_decision_maker")),
    }
    try:
        with deps.transaction() as session:
            contacts.add_contact(
                session, case_id=case_id, payload=payload, actor=g.user, clock=deps.clock()
            )
    except Invalid as exc:
        flash(_problem(exc), "error")
        return _back(case_id, "#contacts-title")
    flash("Contact recorded.", "notice")
    return _back(case_id, "#contacts-title")


@bp.post("/cases/<int:case_id>/primary-worker")
@login_required
def move_primary_worker_page(case_id: int) -> Any:
    try:
        with deps.transaction() as session:
            caseload.move_primary_worker(
                session,
                case_id=case_id,
                username=request.form.get("user", ""),
                note=request.form.get("note", ""),
                actor=g.user,
                clock=deps.clock(),
            )
    except Invalid as exc:
        flash(_problem(exc), "error")
        return _back(case_id, "#handoff-title")
    flash("The case has a new primary social worker.", "notice")
    return _back(case_id, "#handoff-title")


def case_record(session: Any, case_id: int) -> dict[str, Any]:
    """What the case page shows of the record: notes (filtered by ?type= and ?q=), contacts,
    the latest primary-worker handoff, and whom a supervisor may hand the case to."""
    clock = deps.clock()
    note_type = request.args.get("type") or None
    q = (request.args.get("q") or "").strip()[:200]
    listed = notes.list_notes(
        session,
        case_id=case_id,
        actor=g.user,
        clock=clock,
        note_type=note_type if note_type in notes.NOTE_TYPES else None,
        q=q or None,
    )
    moved = next(
        (h for h in caseload.handoffs_of_case(session, case_id) if h.task_id is None), None
    )
    managers = g.user.has_role(*caseload.MANAGERS)
    return {
        "notes": listed,
        "q": q,
        "type": note_type,
        "types": notes.NOTE_TYPES,
        "can_write": g.user.has_role(*notes.WRITERS),
        "can_cosign": g.user.has_role("supervisor"),
        "contacts": contacts.case_contacts(session, case_id),
        "relationships": contacts.RELATIONSHIPS,
        "today": clock.now().date(),
        "handoff": caseload.handoff_json(session, moved) if moved is not None else None,
        "handoff_at": moved.at if moved is not None else None,
        "workers": caseload.social_workers(session) if managers else [],
    }
