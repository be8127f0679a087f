"""The OpenAPI entries of the account and token routes, added to the one document
(web/api/openapi.py) at import: kept apart so each area's routes are documented beside
each other."""

from __future__ import annotations

from typing import Any

from engine.accounts import SCOPES
from web.api.openapi import (
    DATETIME,
    NULL_DATETIME,
    PATHS,
    SCHEMAS,
    STR,
    _body,
    _errors,
    _json,
    _obj,
    _op,
    _path_param,
    _query,
    _ref,
)

SCHEMAS["Token"] = _obj(
    ["id", "user", "name", "scopes", "created_at", "expires_at", "status"],
    id={"type": "integer"},
    user=STR,
    name=STR,
    scopes={"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
    created_at=DATETIME,
    expires_at=NULL_DATETIME,
    last_used_at=NULL_DATETIME,
    revoked_at=NULL_DATETIME,
    status={"type": "string", "enum": ["active", "expired", "revoked"]},
)

NO_CONTENT = {"204": {"description": "Done; no body."}}

SECURITY_PATHS: dict[str, Any] = {
    "/api/v1/tokens": {
        "get": _op(
            "listTokens",
            "API tokens: your own; an admin sees everyone's unless `mine=1`. Secrets are "
            "never shown (only issued once, by `carebridge token create`).",
            "security",
            {
                "200": _json(
                    _obj(["tokens"], tokens={"type": "array", "items": _ref("Token")}), "Tokens."
                ),
                **_errors(401, 403),
            },
            parameters=[_query("mine", "Admins: only your own tokens.", {"type": "string"})],
        )
    },
    "/api/v1/tokens/{token_id}": {
        "delete": _op(
            "revokeToken",
            "Revoke a token at once: your own, or any as an admin.",
            "security",
            {**NO_CONTENT, **_errors(401, 403, 404)},
            parameters=[_path_param("token_id", "Token id.")],
        )
    },
    "/api/v1/account/password": {
        "post": _op(
            "changePassword",
            "Change your own password; every session of yours ends (sign in again).",
            "security",
            {**NO_CONTENT, **_errors(400, 401, 403, 422)},
            requestBody=_body(
                _obj(["current_password", "new_password"], current_password=STR, new_password=STR),
                "Current and new password (at least 12 characters).",
            ),
        )
    },
    "/api/v1/users/{username}/unlock": {
        "post": _op(
            "unlockUser",
            "Lift a sign-in lockout (admins).",
            "security",
            {
                "200": _json(
                    _obj(
                        ["user"],
                        user=_obj(
                            ["username", "locked"],
                            username=STR,
                            locked={"type": "boolean"},
                            locked_until=NULL_DATETIME,
                        ),
                    ),
                    "The account, unlocked.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[_path_param("username", "The account's username.", "string")],
        )
    },
}

PATHS.update(SECURITY_PATHS)
