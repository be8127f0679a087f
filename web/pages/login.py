"""Signing in and out. Every attempt is audited; failures are limited per account (lockout)
and per client address (engine.accounts.throttle)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine import accounts, audit
from web import deps
from web.auth import end_browser_session, login_required, start_browser_session
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
    now = deps.clock().now()
    with deps.transaction() as db:
        if username and password:
            settings = deps.deps().settings
            result = accounts.sign_in(
                db,
                username=username,
                password=password,
                ip=request.remote_addr or "",
                now=now,
                limits=accounts.SignInLimits(
                    account_failures=settings.login_account_failures,
                    ip_failures=settings.login_ip_failures,
                ),
            )
        else:  # an empty form guesses nothing: refused, not counted
            result = accounts.SignIn(accounts.Outcome.BAD_CREDENTIALS)
        user = result.user if result.outcome is accounts.Outcome.OK else None
        if user is None:
            audit.record(
                db,
                audit.AuditTag.USER_LOGIN_FAILED,
                actor=audit.SYSTEM,
                at=now,
                category="security",
                details={"username": username, "outcome": str(result.outcome)},
            )
        else:
            audit.record(
                db,
                audit.AuditTag.USER_LOGIN,
                actor=audit.Actor(user.id, user.username),
                at=now,
                category="security",
            )
            _ = user.roles  # loaded now: the Principal outlives this session
            db.flush()  # the reset failure count (and any rehash) before the user is detached
            db.expunge(user)
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
