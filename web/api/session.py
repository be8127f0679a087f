"""Signing in without leaving the page: a form whose session expired re-authenticates here,
takes the fresh CSRF token and resubmits, so nothing typed is lost."""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import current_user, login_user
from flask_wtf.csrf import generate_csrf

from engine.errors import CareBridgeError, ErrorKind
from web.api import bp
from web.api.common import json_body, public
from web.auth import Principal, check_password, limiter

MAX_FIELD = 200


def _signed_in(username: str) -> dict[str, Any]:
    return {"user": username, "csrf_token": generate_csrf()}


@bp.get("/session")
@public
def get_session() -> Any:
    """200 with the user and a CSRF token valid for this session; 401 when signed out."""
    if not current_user.is_authenticated:
        raise CareBridgeError(
            "Your session has ended; sign in again.",
            code="unauthenticated",
            kind=ErrorKind.UNAUTHENTICATED,
        )
    return _signed_in(current_user.user.username)


@bp.post("/session")
@public
@limiter.limit("10 per minute")
def create_session() -> Any:
    body = json_body()
    username = str(body.get("username") or "").strip()[:MAX_FIELD]
    password = str(body.get("password") or "")[: MAX_FIELD * 5]
    user = check_password(username, password)
    if user is None:
        raise CareBridgeError(
            "That username and password do not match an active account.",
            code="bad_credentials",
            kind=ErrorKind.UNAUTHENTICATED,
        )
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    login_user(Principal(user))
    return _signed_in(user.username)
