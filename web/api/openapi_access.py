"""OpenAPI entries of the care-team, break-glass and report routes, added to the document
of web/api/openapi.py (kept apart so the access routes are documented beside each other)."""

from __future__ import annotations

from typing import Any

from engine.cases.models import CARE_TEAM_ROLES
from web.api.openapi import (
    DATETIME,
    INT,
    NULL_INT,
    NULL_STR,
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

CASE_ID = _path_param("case_id", "Case id.")

_SCHEMAS: dict[str, Any] = {
    "TeamMember": _obj(
        ["id", "user", "case_role", "name", "organisation", "phone", "added_at"],
        id={**NULL_INT, "description": "Null for the primary social worker named by the case."},
        user={**NULL_STR, "description": "Username; null for an external member."},
        case_role={"type": "string", "enum": list(CARE_TEAM_ROLES)},
        name=NULL_STR,
        organisation=NULL_STR,
        phone=NULL_STR,
        added_at=DATETIME,
    ),
    "TeamMemberInput": _obj(
        ["case_role"],
        user={"type": "string", "description": "Username of a CareBridge user."},
        case_role={"type": "string", "enum": list(CARE_TEAM_ROLES)},
        name={"type": "string", "description": "Required for an external member."},
        organisation=STR,
        phone=STR,
    ),
    "BreakGlassGrant": _obj(
        ["id", "case_id", "client_id", "user", "reason", "granted_at", "expires_at"],
        id=INT,
        case_id=INT,
        client_id=INT,
        user=STR,
        reason=STR,
        granted_at=DATETIME,
        expires_at=DATETIME,
    ),
}

_PATHS: dict[str, Any] = {
    "/api/v1/cases/{case_id}/team": {
        "get": _op(
            "getCareTeam",
            "The case's care team: the primary social worker first, then current members "
            "(a read of the client's record: record-level rule, audited).",
            "cases",
            {
                "200": _json(
                    _obj(["members"], members={"type": "array", "items": _ref("TeamMember")}),
                    "The team.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[CASE_ID],
        ),
        "post": _op(
            "addCareTeamMember",
            "Add a user or an external member (the primary social worker, supervisors, "
            "admins, case managers on the team). Audited.",
            "cases",
            {
                "201": _json(_obj(["member"], member=_ref("TeamMember")), "The new member."),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(_ref("TeamMemberInput"), "Who joins, in which role."),
        ),
    },
    "/api/v1/cases/{case_id}/team/{member_id}": {
        "delete": _op(
            "removeCareTeamMember",
            "End a membership (kept for the audit). Same people as adding.",
            "cases",
            {"204": {"description": "Removed."}, **_errors(401, 403, 404)},
            parameters=[CASE_ID, _path_param("member_id", "Care-team member id.")],
        )
    },
    "/api/v1/cases/{case_id}/break-glass": {
        "post": _op(
            "breakGlass",
            "Time-limited access to a case outside one's care team, for a stated reason. "
            "Shown as a red banner, audited and listed in the break-glass report.",
            "cases",
            {
                "201": _json(_obj(["grant"], grant=_ref("BreakGlassGrant")), "The grant."),
                **_errors(400, 401, 403, 404, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(_obj(["reason"], reason=STR), "Why the record is needed now."),
        )
    },
    "/api/v1/reports/break-glass": {
        "get": _op(
            "breakGlassReport",
            "Every break-glass use granted in [from, to), newest first (supervisors, admins).",
            "audit",
            {
                "200": _json(
                    _obj(
                        ["uses"],
                        uses={
                            "type": "array",
                            "items": {
                                "allOf": [
                                    _ref("BreakGlassGrant"),
                                    _obj(["user_name"], user_name=STR),
                                ]
                            },
                        },
                    ),
                    "The uses.",
                ),
                **_errors(400, 401, 403),
            },
            parameters=[
                _query("from", "Start: a date (UTC midnight) or a date-time with offset.", STR),
                _query("to", "End (exclusive), same forms.", STR),
            ],
        )
    },
}

SCHEMAS.update(_SCHEMAS)
PATHS.update(_PATHS)
