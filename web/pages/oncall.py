"""/admin/on-call: the rota, adding and deleting shifts, and the gaps of the next 14 days in
the roles that receive crisis work (supervisors and admins)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine import accounts, instances, oncall
from engine.errors import Invalid
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import reader_zone

MANAGERS = ("admin", "supervisor")
HORIZON = timedelta(days=14)


def _local_input(value: str) -> str:
    """A `datetime-local` field (no zone) read in the reader's zone, as ISO 8601 with offset."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value  # the engine names the field as not a date and time
    if naive.tzinfo is not None:
        return value
    return naive.replace(tzinfo=reader_zone()).isoformat()


@bp.get("/admin/on-call")
@login_required
@require_roles(*MANAGERS)
def on_call() -> tuple[str, int] | str:
    return _page()


def _page(errors: list[dict[str, str]] | None = None, status: int = 200) -> tuple[str, int] | str:
    now = deps.clock().now()
    with deps.transaction() as session:
        shifts = oncall.list_shifts(session, start=now - timedelta(days=1), end=now + HORIZON)
        gaps = oncall.gaps(session, roles=oncall.CRISIS_ROLES, start=now, end=now + HORIZON)
        people = {role: accounts.users_with_role(session, role) for role in accounts.ROLE_KEYS}
        names = {u.id: u.display_name for users in people.values() for u in users}
    html = render_template(
        "pages/admin_on_call.html",
        shifts=shifts,
        gaps=gaps,
        people=people,
        names=names,
        roles=accounts.ROLE_KEYS,
        errors={e["field"]: e["message"] for e in errors or []},
        form=request.form if errors else {},
        now=now,
    )
    return (html, status) if errors else html


@bp.post("/admin/on-call")
@login_required
@require_roles(*MANAGERS)
def add_on_call() -> tuple[str, int] | str | Response:
    data = oncall.ShiftInput(
        role=request.form.get("role", ""),
        user=request.form.get("user", ""),
        starts_at=_local_input(request.form.get("starts_at", "")),
        ends_at=_local_input(request.form.get("ends_at", "")),
    )
    try:
        with deps.transaction() as session:
            oncall.add_shift(
                session, data=data, actor=instances.actor_of(g.user), at=deps.clock().now()
            )
    except Invalid as exc:
        return _page(exc.details if isinstance(exc.details, list) else [], status=422)
    flash("Shift added.", "notice")
    return redirect(url_for("pages.on_call"))


@bp.post("/admin/on-call/<int:shift_id>/delete")
@login_required
@require_roles(*MANAGERS)
def delete_on_call(shift_id: int) -> Response:
    with deps.transaction() as session:
        oncall.delete_shift(
            session, shift_id=shift_id, actor=instances.actor_of(g.user), at=deps.clock().now()
        )
    flash("Shift deleted.", "notice")
    return redirect(url_for("pages.on_call"))
