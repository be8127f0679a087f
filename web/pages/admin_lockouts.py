"""Sign-in lockouts: the accounts locked after repeated failed sign-ins, and a button to lift
each (the same as `carebridge user unlock` and POST /api/v1/users/<username>/unlock)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for

from engine import accounts, audit
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp


@bp.get("/admin/lockouts")
@login_required
@require_roles("admin")
def lockouts() -> str:
    now = deps.clock().now()
    with deps.transaction() as session:
        locked = [
            {"username": u.username, "name": u.display_name, "until": u.locked_until}
            for u in accounts.locked_users(session, now=now)
        ]
    return render_template("pages/admin_lockouts.html", locked=locked)


@bp.post("/admin/lockouts/<username>/unlock")
@login_required
@require_roles("admin")
def unlock(username: str) -> Any:
    now = deps.clock().now()
    with deps.transaction() as session:
        user = accounts.unlock(session, username=username, now=now)
        audit.record(
            session,
            audit.AuditTag.USER_UNLOCKED,
            actor=audit.Actor(g.user.id, g.user.username),
            at=now,
            category="security",
            details={"user_id": user.id},
        )
    flash(f"{username} can sign in again.", "notice")
    return redirect(url_for("pages.lockouts"))
