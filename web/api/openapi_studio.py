"""OpenAPI entries of the process studio's routes (web/api/studio.py), added to the document
of web/api/openapi.py."""

from __future__ import annotations

from typing import Any

from web.api.openapi import (
    BOOL,
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

DEFINITION_ID = _path_param("definition_id", "Definition (version) id.")
KEY = _path_param("key", "Process key (the BPMN process id).", kind="string")
PROBLEMS = {"type": "array", "items": _ref("StudioProblem")}

_SCHEMAS: dict[str, Any] = {
    "StudioProblem": _obj(
        ["element_id", "line", "message", "severity"],
        file=STR,
        element_id=NULL_STR,
        line=NULL_INT,
        message=STR,
        severity={"type": "string", "enum": ["error", "warning"]},
    ),
    "ProcessDraft": _obj(
        ["key", "updated_by", "updated_at", "problems"],
        key=STR,
        bpmn=STR,
        forms={"type": "object"},
        comment=NULL_STR,
        updated_by={**NULL_STR, "description": "Username of the last save."},
        updated_at=DATETIME,
        problems=PROBLEMS,
    ),
    "DefinitionDiff": _obj(
        ["added", "removed", "changed", "layout_only"],
        added={"type": "array", "items": STR},
        removed={"type": "array", "items": STR},
        changed={
            "type": "array",
            "items": _obj(
                ["element_id", "fields"], element_id=STR, fields={"type": "array", "items": STR}
            ),
        },
        layout_only={"type": "array", "items": STR},
    ),
    "MigrationResult": _obj(
        ["instance_id", "case_id", "movable", "reason"],
        instance_id=INT,
        case_id=NULL_INT,
        movable=BOOL,
        reason=NULL_STR,
        moved={**BOOL, "description": "Moved by this (real) run."},
    ),
}

_PATHS: dict[str, Any] = {
    "/api/v1/process-definitions/validate": {
        "post": _op(
            "validateDefinitions",
            "Run deploy's pre-flight on diagrams without storing anything (designers).",
            "studio",
            {
                "200": _json(_obj(["problems"], problems=PROBLEMS), "Problems (maybe none)."),
                **_errors(400, 401, 403),
            },
            requestBody=_body(
                _obj(
                    ["bpmn"],
                    bpmn={
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "format": "binary"},
                        "description": "Files (.bpmn, .dmn), each with its file name.",
                    },
                    forms={
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "Files (.json), each with its file name.",
                    },
                ),
                "The same multipart body as deploy.",
                media="multipart/form-data",
            ),
        )
    },
    "/api/v1/process-drafts/{key}": {
        "get": _op(
            "getDraft",
            "The shared draft of a process, with who saved it last (designers).",
            "studio",
            {"200": _json(_ref("ProcessDraft"), "The draft."), **_errors(401, 403, 404)},
            parameters=[KEY],
        ),
        "put": _op(
            "saveDraft",
            "Create or replace the draft; nothing is deployed (designers).",
            "studio",
            {"200": _json(_ref("ProcessDraft"), "Saved."), **_errors(400, 401, 403, 422)},
            parameters=[KEY],
            requestBody=_body(
                _obj(["bpmn"], bpmn=STR, forms={"type": "object"}, comment=NULL_STR),
                "The diagram XML, optional forms by file name, optional comment.",
            ),
        ),
    },
    "/api/v1/process-definitions/{definition_id}/diff": {
        "get": _op(
            "diffDefinitions",
            "Elements added, removed, changed (with fields) and moved only, from `against`.",
            "studio",
            {"200": _json(_ref("DefinitionDiff"), "The diff."), **_errors(400, 401, 404, 422)},
            parameters=[
                DEFINITION_ID,
                _query("against", "The version to compare with.", INT, required=True),
            ],
        )
    },
    "/api/v1/process-definitions/{definition_id}/migrations": {
        "post": _op(
            "migrateInstances",
            "Dry-run or move running instances of version `from` to this one (designers).",
            "studio",
            {
                "200": _json(
                    _obj(
                        ["results"],
                        dry_run=BOOL,
                        results={"type": "array", "items": _ref("MigrationResult")},
                    ),
                    "One result per instance considered.",
                ),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[DEFINITION_ID],
            requestBody=_body(
                _obj(
                    ["from"],
                    dry_run={**BOOL, "default": True},
                    instances={"type": "array", "items": INT},
                    **{"from": INT},
                ),
                "The version to move from; all its running instances unless `instances`.",
            ),
        )
    },
    "/api/v1/process-definitions/{definition_id}/make-current": {
        "post": _op(
            "makeDefinitionCurrent",
            "Make this version the one new cases start on (rollback; deletes nothing).",
            "studio",
            {
                "200": _json(
                    _obj(
                        ["id", "process_key", "version", "current"],
                        id=INT,
                        process_key=STR,
                        version=INT,
                        current=BOOL,
                    ),
                    "Now current.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[DEFINITION_ID],
        )
    },
}

SCHEMAS.update(_SCHEMAS)
PATHS.update(_PATHS)
