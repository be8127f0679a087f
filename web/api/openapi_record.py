"""OpenAPI entries of the social worker's record: progress notes, collaterals, caseloads and
handoffs, added to the document of web/api/openapi.py."""

from __future__ import annotations

from typing import Any

from engine.cases.contacts import RELATIONSHIPS
from engine.notes.templates import NOTE_TYPES, TEMPLATES
from web.api.openapi import (
    BOOL,
    DATETIME,
    DOCUMENT,
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
NOTE_ID = _path_param("note_id", "Progress note id.")
NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": STR}

_SCHEMAS: dict[str, Any] = {
    "NoteInput": _obj(
        ["type", "body"],
        type={"type": "string", "enum": list(NOTE_TYPES)},
        body=STR,
        minutes=NULL_INT,
        participants=STRINGS,
        contact_id=NULL_INT,
        sensitive=BOOL,
        fields={
            "type": "object",
            "description": "The type's structured template (JSON Schema per type in "
            "x-templates); a bad field is a 422 naming `fields.<name>`.",
            "x-templates": TEMPLATES,
        },
    ),
    "Addendum": _obj(
        ["id", "body", "author", "signed_at"], id=INT, body=STR, author=STR, signed_at=DATETIME
    ),
    "Note": _obj(
        ["id", "case_id", "type", "body", "signed_by", "signed_at", "status", "addenda"],
        id=INT,
        case_id=INT,
        type={"type": "string", "enum": list(NOTE_TYPES)},
        body={
            **STR,
            "description": "`[hidden: care team only]` for a sensitive note read "
            "outside the care team (`masked` true).",
        },
        fields={"type": "object"},
        minutes=NULL_INT,
        participants=STRINGS,
        contact_id=NULL_INT,
        sensitive=BOOL,
        masked=BOOL,
        author=STR,
        signed_by=STR,
        signed_at=DATETIME,
        status={"type": "string", "enum": ["signed", "awaiting co-signature"]},
        needs_cosign=BOOL,
        cosigned_by=NULL_STR,
        cosigned_at=NULL_DATETIME,
        addenda={"type": "array", "items": _ref("Addendum")},
    ),
    "Contact": _obj(
        [
            "id",
            "name",
            "relationship",
            "interpreter_needed",
            "consent_to_share",
            "is_legal_decision_maker",
        ],
        id=INT,
        case_id=INT,
        name=STR,
        relationship={"type": "string", "enum": list(RELATIONSHIPS)},
        phone=NULL_STR,
        preferred_language=NULL_STR,
        interpreter_needed=BOOL,
        consent_to_share={
            "type": ["object", "null"],
            "properties": {
                "scope": STR,
                "expires_on": {"type": ["string", "null"], "format": "date"},
            },
        },
        consent_valid={**BOOL, "description": "Consent recorded and not expired today."},
        is_legal_decision_maker=BOOL,
        added_at=DATETIME,
    ),
    "CaseloadCase": _obj(
        [
            "case_id",
            "client",
            "risk_flags",
            "open_tasks",
            "earliest_due",
            "last_contact_at",
            "days_since_contact",
            "admitted_at",
            "expected_discharge_at",
        ],
        case_id=INT,
        client=STR,
        risk_flags=STRINGS,
        open_tasks=INT,
        earliest_due=NULL_DATETIME,
        last_contact_at=NULL_DATETIME,
        days_since_contact=NULL_INT,
        admitted_at=NULL_DATETIME,
        expected_discharge_at=NULL_DATETIME,
    ),
    "Handoff": _obj(
        ["id", "to_user", "note", "at"],
        id=INT,
        task_id=NULL_INT,
        from_user=NULL_STR,
        to_user=STR,
        by=STR,
        note=NULL_STR,
        at=DATETIME,
    ),
}

_NOTE = _json(_obj(["note"], note=_ref("Note")), "The note.")

_PATHS: dict[str, Any] = {
    "/api/v1/cases/{case_id}/notes": {
        "get": _op(
            "listNotes",
            "The case's progress notes, newest first (record-level rule, audited).",
            "cases",
            {
                "200": _json(
                    _obj(["notes"], notes={"type": "array", "items": _ref("Note")}), "The notes."
                ),
                **_errors(401, 403, 404, 422),
            },
            parameters=[
                CASE_ID,
                _query("type", "Only notes of this type.", {"enum": list(NOTE_TYPES)}),
                _query("q", "Text search in the body and addenda.", STR),
            ],
        ),
        "post": _op(
            "writeNote",
            "Write a progress note, signed on save. `@username` in the body puts a "
            "mention in that user's inbox; an intern's note awaits a supervisor's "
            "co-signature.",
            "cases",
            {"201": _NOTE, **_errors(400, 401, 403, 404, 422)},
            parameters=[CASE_ID],
            requestBody=_body(_ref("NoteInput"), "The note."),
        ),
    },
    "/api/v1/notes/{note_id}": {
        "get": _op(
            "getNote",
            "One note with its addenda.",
            "cases",
            {"200": _NOTE, **_errors(401, 403, 404)},
            parameters=[NOTE_ID],
        ),
        **{
            method: _op(
                f"{method}Note",
                "Never allowed: a signed note is not edited or deleted (405, Allow: GET).",
                "cases",
                # 404: an id that is not a row id matches no route.
                {"405": {"$ref": "#/components/responses/MethodNotAllowed"}, **_errors(401, 404)},
                parameters=[NOTE_ID],
            )
            for method in ("patch", "put", "delete")
        },
    },
    "/api/v1/notes/{note_id}/addenda": {
        "post": _op(
            "addAddendum",
            "Add a signed addendum to a note.",
            "cases",
            {
                "201": _json(
                    _obj(["addendum", "note"], addendum=_ref("Addendum"), note=_ref("Note")),
                    "The addendum and the note.",
                ),
                **_errors(400, 401, 403, 404, 422),
            },
            parameters=[NOTE_ID],
            requestBody=_body(_obj(["body"], body=STR), "The addendum."),
        )
    },
    "/api/v1/notes/{note_id}/cosign": {
        "post": _op(
            "cosignNote",
            "A supervisor co-signs an intern's note (closes the co-signature task).",
            "cases",
            {"200": _NOTE, **_errors(401, 403, 404, 409)},
            parameters=[NOTE_ID],
        )
    },
    "/api/v1/cases/{case_id}/contacts": {
        "get": _op(
            "listContacts",
            "The case's collaterals (record-level rule, audited).",
            "cases",
            {
                "200": _json(
                    _obj(["contacts"], contacts={"type": "array", "items": _ref("Contact")}),
                    "The contacts.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[CASE_ID],
        ),
        "post": _op(
            "addContact",
            "Record a family member, caregiver, guardian or agency.",
            "cases",
            {
                "201": _json(_obj(["contact"], contact=_ref("Contact")), "The contact."),
                **_errors(400, 401, 403, 404, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(
                _obj(
                    ["name", "relationship"],
                    name=STR,
                    relationship={"type": "string", "enum": list(RELATIONSHIPS)},
                    phone=STR,
                    preferred_language=STR,
                    interpreter_needed=BOOL,
                    consent_to_share={"type": ["object", "null"]},
                    is_legal_decision_maker=BOOL,
                ),
                "The contact.",
            ),
        ),
    },
    "/api/v1/caseload": {
        "get": _op(
            "getCaseload",
            "Open cases where the user is the primary social worker (own caseload; any "
            "worker's for supervisors and admins, else 403).",
            "cases",
            {
                "200": _json(
                    _obj(
                        ["user", "cases"],
                        user=STR,
                        cases={"type": "array", "items": _ref("CaseloadCase")},
                    ),
                    "The caseload.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[_query("user", "Username (default: yourself).", STR)],
        )
    },
    "/api/v1/caseload/team": {
        "get": _op(
            "getTeamCaseloads",
            "Every social worker's open cases, open stat/urgent tasks and overdue tasks "
            "(supervisors and admins).",
            "cases",
            {
                "200": _json(
                    _obj(
                        ["workers"],
                        workers={
                            "type": "array",
                            "items": _obj(
                                ["user", "open_cases", "stat_urgent_tasks", "overdue_tasks"],
                                user=STR,
                                display_name=STR,
                                open_cases=INT,
                                stat_urgent_tasks=INT,
                                overdue_tasks=INT,
                            ),
                        },
                    ),
                    "The counts.",
                ),
                **_errors(401, 403),
            },
        )
    },
    "/api/v1/cases/{case_id}/primary-worker": {
        "post": _op(
            "movePrimaryWorker",
            "Give the case to another social worker with a required handoff note "
            "(supervisors and admins); the new worker sees the note first on the case.",
            "cases",
            {
                "200": _json(
                    _obj(["case_id", "handoff"], case_id=INT, handoff=_ref("Handoff")),
                    "The handoff.",
                ),
                **_errors(400, 401, 403, 404, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(_obj(["user", "note"], user=STR, note=STR), "Who, and the note."),
        )
    },
}

SCHEMAS.update(_SCHEMAS)
PATHS.update(_PATHS)
DOCUMENT["components"]["responses"]["MethodNotAllowed"] = _json(
    _ref("Error"), "Not allowed on this resource (a signed note is never changed); see Allow."
)
