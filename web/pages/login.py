"""Signing in and out. Every attempt is audited; the POST is rate limited per address."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from engine import accounts, audit
from web import deps
from web.auth import Principal, limiter, login_required
from web.pages import bp
from web.pages.common import safe_next

MAX_FIELD = 200  # longer than any username or sane password: refuse before hashing


@bp.get("/login")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("pages.inbox"))
    return render_template("pages/login.html", next=request.args.get("next", ""), username="")


@bp.post("/login")
@limiter.limit("10 per minute")
def login_post() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[: MAX_FIELD * 5]
    target = safe_next(request.form.get("next"), url_for("pages.inbox"))
    now = deps.clock().now()
    with deps.transaction() as db:
        user = accounts.authenticate(db, username, password) if username and password else None
        if user is None:
            audit.record(
                db,
                audit.AuditTag.USER_LOGIN_FAILED,
                actor=audit.SYSTEM,
                at=now,
                category="security",
                details={"username": username},
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
            db.expunge(user)
    if user is None:
        flash("That username and password do not match an active account.", "error")
        page = render_template("pages/login.html", next=target, username=username)
        return page, 401
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    login_user(Principal(user))
    return redirect(target)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash("You are signed out.", "notice")
    return redirect(url_for("pages.login"))
