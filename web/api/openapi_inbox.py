"""OpenAPI entries of the inbox's own routes (drafts, the live summary, bulk reassignment,
the in-place sign-in), added to the document of web/api/openapi.py."""

from __future__ import annotations

from typing import Any

from web.api.openapi import (
    DATETIME,
    INT,
    PATHS,
    STR,
    TASK_ID,
    _body,
    _errors,
    _json,
    _obj,
    _op,
)

_DRAFT_DATA = {
    "type": "object",
    "description": "The form as the page holds it (field name -> list of values). Sealed "
    "with Fernet (CAREBRIDGE_DRAFT_KEY, else a key derived from CAREBRIDGE_SECRET_KEY).",
}
_SIGNED_IN = _json(
    _obj(["user", "csrf_token"], user=STR, csrf_token=STR),
    "Signed in: the username and a CSRF token valid for this session (for page forms).",
)
_COUNTS = _obj(
    ["mine", "team", "overdue", "stat"],
    mine=INT,
    team=INT,
    overdue=INT,
    stat={"type": "integer", "description": "Open stat tasks among mine and team (all: managers)."},
)

_PATHS: dict[str, Any] = {
    "/api/v1/tasks/{task_id}/draft": {
        "get": _op(
            "getTaskDraft",
            "The caller's own draft of a task (nobody else's). Audited (ids only).",
            "tasks",
            {
                "200": _json(
                    _obj(["data", "saved_at"], data=_DRAFT_DATA, saved_at=DATETIME), "The draft."
                ),
                **_errors(401, 403, 404),
            },
            parameters=[TASK_ID],
        ),
        "put": _op(
            "saveTaskDraft",
            "Keep the caller's unsent answers to an open task they may work. Drafts go when the "
            "task completes, and other people's drafts go when it is reassigned.",
            "tasks",
            {
                "200": _json(_obj(["saved_at"], saved_at=DATETIME), "Saved."),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[TASK_ID],
            requestBody=_body(_obj(["data"], data=_DRAFT_DATA), "The answers so far."),
        ),
        "delete": _op(
            "deleteTaskDraft",
            "Drop the caller's draft of a task (204 whether or not there was one).",
            "tasks",
            {"204": {"description": "No draft now."}, **_errors(401, 403, 404)},
            parameters=[TASK_ID],
        ),
    },
    "/api/v1/inbox/summary": {
        "get": _op(
            "inboxSummary",
            "What a live inbox polls: view counts, open stat tasks and the newest open task id. "
            "Sends an ETag; `If-None-Match` with it answers 304 while nothing changed.",
            "tasks",
            {
                "200": _json(
                    _obj(
                        ["counts", "latest_id", "etag"],
                        counts=_COUNTS,
                        latest_id={"type": ["integer", "null"]},
                        etag=STR,
                    ),
                    "The summary.",
                ),
                "304": {"description": "Unchanged since the ETag sent."},
                **_errors(401),
            },
        )
    },
    "/api/v1/tasks/bulk-assign": {
        "post": _op(
            "bulkAssignTasks",
            "Supervisors and admins: reassign several tasks to one user with one handoff note. "
            "Per task, not all-or-nothing: each task is assigned or refused with its reason; "
            "each reassignment is audited with the note. An unknown or inactive user, a missing "
            "note or an empty selection refuses the whole request (422).",
            "tasks",
            {
                "200": _json(
                    _obj(
                        ["assigned", "refused"],
                        assigned={"type": "array", "items": INT},
                        refused={
                            "type": "array",
                            "items": _obj(["id", "code", "message"], id=INT, code=STR, message=STR),
                        },
                    ),
                    "What was assigned and what was refused.",
                ),
                **_errors(400, 401, 403, 422),
            },
            requestBody=_body(
                _obj(
                    ["task_ids", "user", "note"],
                    task_ids={"type": "array", "items": INT, "minItems": 1, "maxItems": 200},
                    user=STR,
                    note=STR,
                ),
                "The tasks, the new holder and the handoff note.",
            ),
        )
    },
    "/api/v1/session": {
        "get": _op(
            "getSession",
            "Whether the cookie session is alive: 200 with a fresh CSRF token, else 401.",
            "auth",
            {"200": _SIGNED_IN, **_errors(401)},
        ),
        "post": _op(
            "createSession",
            "Sign in without leaving the page (a form whose session expired). Rate limited; "
            "every attempt is audited.",
            "auth",
            {"200": _SIGNED_IN, **_errors(400, 401)},
            requestBody=_body(_obj(["username", "password"], username=STR, password=STR), "Who."),
        ),
    },
}

PATHS.update(_PATHS)
