"""A case's care team and break-glass access, from the case page (engine/cases/team.py,
engine/access)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for

from engine import access, cases
from engine.cases import team
from engine.errors import Conflict, Invalid
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import CLINICAL_ROLES


@bp.post("/cases/<int:case_id>/break-glass")
@login_required
@require_roles(*CLINICAL_ROLES, "admin")
def break_glass(case_id: int) -> Any:
    try:
        with deps.transaction() as session:
            access.break_glass(
                session,
                case_id=case_id,
                reason=request.form.get("reason", ""),
                actor=g.user,
                clock=deps.clock(),
                minutes=deps.deps().settings.break_glass_minutes,
            )
    except Invalid as exc:
        flash(exc.public_message, "error")
        return redirect(url_for("pages.case", case_id=case_id))
    flash("Break-glass access granted. Supervisors can see this use.", "notice")
    return redirect(url_for("pages.case", case_id=case_id))


@bp.post("/cases/<int:case_id>/team")
@login_required
def add_team_member(case_id: int) -> Any:
    form = request.form
    try:
        with deps.transaction() as session:
            team.add_to_team(
                session,
                case=cases.get_case(session, case_id),
                actor=g.user,
                clock=deps.clock(),
                case_role=form.get("case_role", ""),
                username=form.get("user", "").strip() or None,
                name=form.get("name", "").strip() or None,
                organisation=form.get("organisation", "").strip() or None,
                phone=form.get("phone", "").strip() or None,
            )
    except (Invalid, Conflict) as exc:
        details = exc.details if isinstance(exc.details, list) else [exc.details]
        fields = "; ".join(f"{d['field']}: {d['message']}" for d in details if "field" in d)
        flash(f"{exc.public_message} {fields}".strip(), "error")
        return redirect(url_for("pages.case", case_id=case_id) + "#team-title")
    flash("Added to the care team.", "notice")
    return redirect(url_for("pages.case", case_id=case_id) + "#team-title")


@bp.post("/cases/<int:case_id>/team/<int:member_id>/remove")
@login_required
def remove_team_member(case_id: int, member_id: int) -> Any:
    with deps.transaction() as session:
        team.remove_from_team(
            session,
            case=cases.get_case(session, case_id),
            member_id=member_id,
            actor=g.user,
            clock=deps.clock(),
        )
    flash("Removed from the care team.", "notice")
    return redirect(url_for("pages.case", case_id=case_id) + "#team-title")
