"""Signing in and out. Every attempt is audited; failures are limited per account (lockout)
and per client address (engine.accounts.throttle)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine import accounts
from web.auth import check_password, end_browser_session, login_required, start_browser_session
from web.pages import bp
from web.pages.common import safe_next

MAX_FIELD = 200  # longer than any username or sane password: refuse before hashing

_REFUSED = {
    accounts.Outcome.BAD_CREDENTIALS: (
        "That username and password do not match an active account.",
        401,
    ),
    accounts.Outcome.LOCKED: (
        "This account is locked after too many failed sign-ins. Try again later or ask an "
        "administrator to unlock it.",
        423,
    ),
    accounts.Outcome.THROTTLED: (
        "Too many failed sign-ins from this computer. Wait a few minutes and try again.",
        429,
    ),
}


@bp.get("/login")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("pages.inbox"))
    return render_template("pages/login.html", next=request.args.get("next", ""), username="")


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[: MAX_FIELD * 5]
    target = safe_next(request.form.get("next"), url_for("pages.inbox"))
    result = check_password(username, password)
    user = result.user if result.outcome is accounts.Outcome.OK else None
    if user is None:
        message, status = _REFUSED[result.outcome]
        flash(message, "error")
        page = render_template("pages/login.html", next=target, username=username)
        return page, status
    start_browser_session(user)
    if not request.form.get("next") and user.has_role("social_worker"):
        # A social worker's day starts from their caseload (the inbox is the next tab).
        target = url_for("pages.caseload_page")
    return redirect(target)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    end_browser_session(g.user)
    flash("You are signed out.", "notice")
    return redirect(url_for("pages.login"))
