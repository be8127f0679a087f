"""OpenAPI entries of the integration routes under /api/v1 (the FHIR API under /fhir/R4
describes itself: GET /fhir/R4/metadata; see docs/integration.md)."""

from __future__ import annotations

from web.api.openapi import (
    DATETIME,
    INT,
    NULL_STR,
    PATHS,
    SCHEMAS,
    STR,
    _errors,
    _json,
    _obj,
    _op,
    _query,
    _ref,
)

SCHEMAS["IntegrationError"] = _obj(
    ["id", "source", "control_id", "message_type", "code", "message", "at"],
    id=INT,
    source={"type": "string", "enum": ["hl7", "fhir"]},
    control_id={**NULL_STR, "description": "MSH-10 of the HL7 message."},
    message_type={**NULL_STR, "description": "e.g. ADT^A03."},
    code=STR,
    message={**STR, "description": "The reason sent back in the ACK (no patient data)."},
    at=DATETIME,
)

PATHS["/api/v1/integration-errors"] = {
    "get": _op(
        "listIntegrationErrors",
        "Messages from the hospital's interfaces that were acknowledged with an error and "
        "changed nothing (unresolved, newest first). Admins.",
        "audit",
        {
            "200": _json(
                _obj(["errors"], errors={"type": "array", "items": _ref("IntegrationError")}),
                "The errors.",
            ),
            **_errors(400, 401, 403),
        },
        parameters=[_query("limit", "At most this many (1-1000, default 200).", INT)],
    )
}
