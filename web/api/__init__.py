"""JSON API under /api/v1 (session cookie or Authorization: Bearer).

Every route needs a signed-in user except those marked `@public` (the OpenAPI document).
The blueprint is exempt from Flask-WTF's form CSRF check; instead, a POST authenticated by
the session cookie must carry JSON (a cross-site page cannot send application/json without
a CORS preflight, which we never grant) or, for uploads, multipart with the CSRF token in
the X-CSRFToken header. Bearer-token clients hold no cookie and so cannot be ridden.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from flask_login import current_user

from engine.errors import CareBridgeError, ErrorKind, Forbidden
from web.api.text import refuse_nul_characters
from web.auth import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@bp.before_request
def _authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "public", False):
        return
    if not current_user.is_authenticated:
        raise CareBridgeError(
            "Sign in or send an API token.", code="unauthenticated", kind=ErrorKind.UNAUTHENTICATED
        )
    g.user = current_user.user
    g.credential = current_user.credential()
    if not g.credential.personal and not g.credential.has_scope(*getattr(view, "token_scopes", ())):
        # An integration token (no `api` scope) reaches only the endpoints made for its scope.
        raise Forbidden("This token's scope does not allow this endpoint.", code="scope_required")
    if request.method in _UNSAFE and not current_user.via_token:
        _check_cookie_post()


bp.before_request(refuse_nul_characters)


def _check_cookie_post() -> None:
    if request.mimetype == "application/json":
        return
    if request.method == "DELETE" and not request.content_length:
        # No form or link can send a DELETE: a cross-site page needs a CORS preflight for
        # it, which we never grant. A bodyless DELETE is safe to take from the cookie.
        return
    if request.mimetype == "multipart/form-data":
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # a 400 CSRFError unless X-CSRFToken carries the session's token
        return
    raise CareBridgeError(
        "Send application/json (or multipart/form-data for uploads).",
        code="unsupported_media_type",
        kind=ErrorKind.BAD_REQUEST,
    )


from web.api import (  # noqa: E402,F401  (register routes on bp)
    accounts,
    caseload,
    cases,
    contacts,
    definitions,
    drafts,
    inbox,
    integration,
    misc,
    notes,
    notifications,
    oncall,
    openapi,
    openapi_access,
    openapi_inbox,
    openapi_integration,
    openapi_record,
    openapi_reports,
    openapi_security,
    openapi_studio,
    referrals,
    report_figures,
    reports,
    session,
    studio,
    tasks,
    team,
    tokens,
)
