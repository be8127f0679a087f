"""Signing in without leaving the page: a form whose session expired re-authenticates here,
takes the fresh CSRF token and resubmits, so nothing typed is lost."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from engine import accounts
from engine.errors import CareBridgeError, ErrorKind
from web.api import bp
from web.api.common import json_body, public
from web.auth import check_password, start_browser_session

MAX_FIELD = 200

# Refused sign-ins (engine.accounts.throttle); all are 401 here, the code says which.
_REFUSED = {
    accounts.Outcome.BAD_CREDENTIALS: (
        "That username and password do not match an active account.",
        "bad_credentials",
    ),
    accounts.Outcome.LOCKED: (
        "This account is locked after too many failed sign-ins. Try again later or ask an "
        "administrator to unlock it.",
        "account_locked",
    ),
    accounts.Outcome.THROTTLED: (
        "Too many failed sign-ins from this computer. Wait a few minutes and try again.",
        "too_many_failures",
    ),
}


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
def create_session() -> Any:
    body = json_body()
    username = str(body.get("username") or "").strip()[:MAX_FIELD]
    password = str(body.get("password") or "")[: MAX_FIELD * 5]
    result = check_password(username, password)
    user = result.user if result.outcome is accounts.Outcome.OK else None
    if user is None:
        message, code = _REFUSED.get(result.outcome, _REFUSED[accounts.Outcome.BAD_CREDENTIALS])
        raise CareBridgeError(message, code=code, kind=ErrorKind.UNAUTHENTICATED)
    start_browser_session(user)  # a fresh server-side session: nothing carried over
    return _signed_in(user.username)
