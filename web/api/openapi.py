"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json.

Kept as Python data beside the views; tests/web/api/test_openapi.py fails when a route of
the app is missing here or this document names a route the app does not have."""

from __future__ import annotations

from typing import Any

from engine.discharge import DISPOSITIONS
from engine.referrals import CONSENT_SCOPES, DEFAULT_CONSENT_SCOPE, REASON_CODES, STATUSES
from web.api import bp
from web.api.common import public
from web.converters import MAX_ROW_ID

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def _errors(*statuses: int) -> dict[str, Any]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        422: "Unprocessable",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def _body(schema: dict[str, Any], description: str, media: str = JSON) -> dict[str, Any]:
    return {"required": True, "description": description, "content": {media: {"schema": schema}}}


def _path_param(name: str, description: str, kind: str = "integer") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if kind == "integer":  # row ids: a larger number matches no route (web/converters.py)
        schema.update(minimum=1, maximum=MAX_ROW_ID)
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(
    name: str, description: str, schema: dict[str, Any], required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
ANY_OBJ = {"type": "object", "additionalProperties": True}
# Query text: anything but NUL, which the API refuses (400) as the database cannot store it.
QUERY_TEXT = {"type": "string", "pattern": r"^[^\x00]*$"}
# A row id the database can hold; a larger one is a 404 (web/converters.py).
ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional input field that may also be sent as null, meaning "not given"."""
    out = {**schema, "type": [schema["type"], "null"]}
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def _text(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    """A required free-text field: the server strips it and refuses what is left empty."""
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


TASK_FIELDS = {
    "id": INT,
    "name": STR,
    "bpmn_id": STR,
    "process_key": STR,
    "case_id": NULL_INT,
    "client_id": NULL_INT,
    "client_name": NULL_STR,
    "role": NULL_STR,
    "assignee": {"type": ["string", "null"], "description": "Username of the holder."},
    "priority": {"type": "string", "enum": ["routine", "urgent", "asap", "stat"]},
    "due_at": DATETIME,
    "created_at": DATETIME,
    "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
    "cancel_reason": {
        "type": ["string", "null"],
        "description": "Why the engine closed a task: `do_not_contact` (client outreach "
        "stopped by the flag), `discharged` (inpatient-only work ended), `resolved` (an "
        "escalation whose task was acknowledged or completed), `original_closed` (an "
        "escalation whose task was cancelled).",
    },
    "overdue": BOOL,
    "kind": {"type": "string", "enum": ["bpmn", "escalation"]},
    "acknowledged_at": NULL_DATETIME,
    "acknowledged_by": {"type": ["string", "null"], "description": "Username."},
    "escalates_task_id": {
        "type": ["integer", "null"],
        "description": "For an escalation task: the stat task it escalates.",
    },
    "client_flags": {
        "type": "object",
        "additionalProperties": {"type": "boolean", "const": True},
        "description": "The case's flags that are set now (do_not_contact, behavioral_health).",
    },
}
CLIENT_FLAGS = TASK_FIELDS["client_flags"]

REFERRAL_STATUS = {"type": "string", "enum": list(STATUSES)}
REFERRAL_STATUS_OR_NULL = {"type": ["string", "null"], "enum": [*STATUSES, None]}
REFERRAL_FIELDS = {
    "id": INT,
    "case_id": INT,
    "client_id": INT,
    "need": {"type": "string", "description": "The care-plan need (housing, food, ...)."},
    "status": REFERRAL_STATUS,
    "status_reason": {"type": ["string", "null"], "description": "Reason for the last change."},
    "reason_code": {"type": ["string", "null"], "enum": [*REASON_CODES, None]},
    "organization_name": NULL_STR,
    "service_name": NULL_STR,
    "resource_id": {"type": ["integer", "null"], "description": "Directory entry, if chosen."},
    "instance_id": {"type": ["integer", "null"], "description": "The `referral` instance."},
    "previous_referral_id": {
        "type": ["integer", "null"],
        "description": "The declined or abandoned referral this one replaces.",
    },
    "do_not_contact": BOOL,
    "order_detail": {
        "type": ["string", "null"],
        "description": "`contacting-subject-prohibited` for a do-not-contact client.",
    },
    "created_at": DATETIME,
    "requested_at": NULL_DATETIME,
    "updated_at": DATETIME,
    "closed_at": NULL_DATETIME,
}
NULL_TEXT = {"type": ["string", "null"]}
RESOURCE_FIELDS = {
    "id": INT,
    "organization_name": STR,
    "service_name": STR,
    "category": STR,
    "status": {"type": "string", "enum": ["active", "inactive"]},
    "description": NULL_TEXT,
    "eligibility": NULL_TEXT,
    "languages": {"type": "array", "items": STR},
    "min_age": NULL_INT,
    "max_age": NULL_INT,
    "fees": NULL_TEXT,
    "assured_date": {"type": ["string", "null"], "format": "date"},
    "last_verified": {
        "type": ["string", "null"],
        "format": "date",
        "description": "HSDS assured_date: when someone last verified the entry.",
    },
    "hsds_id": {"type": ["string", "null"], "description": "The HSDS service id (import)."},
    "url": NULL_TEXT,
    "phone": NULL_TEXT,
    "email": NULL_TEXT,
    "address": NULL_TEXT,
    "postal_code": NULL_TEXT,
    "updated_at": DATETIME,
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        ["error"],
        error=_obj(
            ["code", "message", "details"],
            code={"type": "string", "description": "Stable, machine-readable code."},
            message={"type": "string", "description": "Safe to show a clinician."},
            details={
                "description": "Field errors ({field, message}) or, for a rejected deployment, "
                "problems ({file, element_id, line, message}).",
                "oneOf": [
                    {
                        "type": "array",
                        "items": {"oneOf": [_ref("FieldError"), _ref("DeploymentProblem")]},
                    },
                    {"type": "object"},
                ],
            },
        ),
    ),
    "FieldError": _obj(["field", "message"], field=STR, message=STR),
    "DeploymentProblem": _obj(
        ["file", "element_id", "line", "message"],
        file=STR,
        element_id=NULL_STR,
        line=NULL_INT,
        message=STR,
    ),
    "Task": _obj(list(TASK_FIELDS), **TASK_FIELDS),
    "TaskDetail": {
        "allOf": [
            _ref("Task"),
            _obj(
                ["form_schema", "ui_schema", "instructions", "can_complete"],
                form_schema={"type": ["object", "null"], "description": "JSON Schema of the form."},
                ui_schema={
                    "type": ["object", "null"],
                    "description": "UI hints (ui:widget, ui:order, ...).",
                },
                instructions={
                    "type": ["string", "null"],
                    "description": "Markdown rendered from the task data; "
                    "data values are HTML-escaped.",
                },
                can_complete=BOOL,
            ),
        ]
    },
    "TaskResponse": _obj(["task"], task=_ref("Task")),
    "Counts": _obj(
        ["mine", "team", "overdue", "followup", "all"],
        mine=INT,
        team=INT,
        overdue=INT,
        followup=INT,
        all=INT,
    ),
    "TaskList": _obj(
        ["tasks", "next_cursor", "counts"],
        tasks={"type": "array", "items": _ref("Task")},
        next_cursor={
            "type": ["string", "null"],
            "description": "Pass as `after` for the next page.",
        },
        counts=_ref("Counts"),
    ),
    "Client": _obj(
        [
            "id",
            "given_name",
            "family_name",
            "birth_date",
            "mrn",
            "phone",
            "preferred_language",
            "interpreter_needed",
            "postal_code",
        ],
        id=INT,
        given_name=STR,
        family_name=STR,
        birth_date={"type": "string", "format": "date"},
        mrn=NULL_STR,
        phone=NULL_STR,
        preferred_language=NULL_STR,
        interpreter_needed={
            "type": "boolean",
            "description": "From intake (or given when the case is opened).",
        },
        postal_code=NULL_STR,
    ),
    "ClientInput": _obj(
        ["given_name", "family_name", "birth_date"],
        given_name=_text(120),
        family_name=_text(120),
        birth_date={"type": "string", "format": "date"},
        mrn=_nullable({"type": "string", "maxLength": 40}),
        phone=_nullable({"type": "string", "maxLength": 40}),
        interpreter_needed=_nullable({"type": "boolean"}),
        preferred_language=_nullable({"type": "string", "maxLength": 40}),
        postal_code=_nullable({"type": "string", "maxLength": 20}),
    ),
    "CaseInput": _obj(
        ["client", "reason"],
        client=_ref("ClientInput"),
        reason=_text(4000),
        pathway={"type": "string", "default": "care_pathway"},
    ),
    "Case": _obj(
        [
            "id",
            "status",
            "reason",
            "opened_at",
            "flags",
            "client_flags",
            "do_not_contact",
            "discharged_at",
            "discharge_disposition",
            "closed_at",
            "client",
            "primary_social_worker",
            "tasks",
            "instances",
            "assessments",
        ],
        id=INT,
        status=STR,
        reason=STR,
        opened_at=DATETIME,
        flags=ANY_OBJ,
        client_flags=CLIENT_FLAGS,
        do_not_contact=BOOL,
        discharged_at=NULL_DATETIME,
        discharge_disposition={"type": ["string", "null"], "enum": [*DISPOSITIONS, None]},
        closed_at=NULL_DATETIME,
        client=_ref("Client"),
        primary_social_worker=NULL_STR,
        tasks={"type": "array", "items": _ref("Task")},
        instances={
            "type": "array",
            "items": _obj(
                ["id", "process_key", "version", "status"],
                id=INT,
                process_key=STR,
                version=INT,
                status=STR,
            ),
        },
        assessments={
            "type": "array",
            "items": _obj(
                [
                    "instrument",
                    "version",
                    "score",
                    "band",
                    "flags",
                    "risk_level",
                    "administered_at",
                    "answers",
                    "masked_items",
                ],
                instrument=STR,
                version=STR,
                score=NULL_INT,
                band=NULL_STR,
                flags={"type": "array", "items": STR},
                risk_level=NULL_STR,
                administered_at=DATETIME,
                answers={
                    **ANY_OBJ,
                    "description": "Item answers; a sensitive item is null for a reader "
                    "off the care team (suicide-risk items, AHC q7-q10).",
                },
                masked_items={"type": "array", "items": STR},
            ),
        },
        access={
            **_obj(
                ["basis", "sensitive", "break_glass_until"],
                basis={
                    "type": "string",
                    "enum": ["manager", "care_team", "task_holder", "queue", "break_glass"],
                },
                sensitive=BOOL,
                break_glass_until=NULL_DATETIME,
            ),
            "description": "Why the reader may read this case (GET only).",
        },
    ),
    "CaseCreated": _obj(
        ["id", "case_id", "instance_id", "case"],
        id=INT,
        case_id=INT,
        instance_id=INT,
        case=_ref("Case"),
    ),
    "TimelineEvent": _obj(
        ["at", "actor", "action", "details"], at=DATETIME, actor=STR, action=STR, details=ANY_OBJ
    ),
    "Definition": _obj(
        ["id", "process_key", "name", "version", "sha256", "deployed_at", "running_instances"],
        id=INT,
        process_key=STR,
        name=STR,
        version=INT,
        sha256=STR,
        deployed_at=DATETIME,
        running_instances=INT,
        comment={**NULL_STR, "description": "Why this version exists (the deploy's comment)."},
        current={
            "type": "boolean",
            "description": "The version new cases start on (listing only).",
        },
    ),
    "DeployResult": _obj(
        ["definitions", "created"],
        definitions={"type": "array", "items": _ref("Definition")},
        created={
            "type": "array",
            "items": STR,
            "description": "Process keys stored as a new version.",
        },
        warnings={"type": "array", "items": _ref("DeploymentProblem")},
    ),
    "Instance": _obj(
        [
            "id",
            "status",
            "process_key",
            "version",
            "case_id",
            "next_timer_at",
            "completed",
            "active",
            "waiting",
        ],
        id=INT,
        status=STR,
        process_key=STR,
        version={
            "type": "integer",
            "description": "Version of the definition the instance runs on.",
        },
        case_id=NULL_INT,
        next_timer_at=NULL_DATETIME,
        completed={"type": "array", "items": STR, "description": "BPMN ids of completed elements."},
        active={"type": "array", "items": STR, "description": "BPMN ids of ready human tasks."},
        waiting={"type": "array", "items": STR, "description": "BPMN ids of waiting timers."},
    ),
    "MessageInput": _obj(
        ["name", "case_id"],
        name=_text(),
        case_id=ROW_ID,
        payload={
            "type": "object",
            "additionalProperties": True,
            "description": "For `discharge`: `discharged_at` (ISO-8601 with offset, required), "
            "`disposition` (one of " + ", ".join(DISPOSITIONS) + "; `other` when absent), "
            "`behavioral_health` (boolean; the case's flag when absent). 422 names the field; "
            "409 `already_discharged` for a second discharge of the admission.",
        },
    ),
    "DischargePayload": _obj(
        ["discharged_at"],
        discharged_at=DATETIME,
        disposition={"type": "string", "enum": list(DISPOSITIONS)},
        behavioral_health=BOOL,
    ),
    "FlagInput": _obj(
        ["flag", "set", "reason"],
        flag={"type": "string", "enum": ["do_not_contact"]},
        set={"type": "boolean", "description": "false (removing) needs a supervisor."},
        reason=_text(2000),
    ),
    "FlagChange": _obj(
        ["case_id", "changed", "client_flags", "withdrawn_tasks", "plan_task"],
        case_id=INT,
        changed={"type": "boolean", "description": "false when the flag already had that value."},
        client_flags=CLIENT_FLAGS,
        withdrawn_tasks={
            "type": "array",
            "items": _ref("Task"),
            "description": "Outreach tasks withdrawn (status cancelled, cancel_reason "
            "do_not_contact) in this request.",
        },
        plan_task={
            "anyOf": [_ref("Task"), {"type": "null"}],
            "description": "The urgent `Plan safe contact` task of the primary social worker.",
        },
    ),
    "ScoreInput": _obj(
        ["answers"],
        answers={
            "type": "object",
            "description": "Keyed q1..qN in item order (C-SSRS adds q6_recent); see CARE.md.",
        },
    ),
    "ScoreResult": _obj(
        ["score", "band", "flags", "risk_level"],
        score=NULL_INT,
        band=NULL_STR,
        flags={"type": "array", "items": STR},
        risk_level={"type": ["string", "null"], "enum": ["none", "low", "moderate", "high", None]},
    ),
    "ScreeningInput": _obj(
        ["instrument", "answers"],
        instrument={
            "type": "string",
            "description": "phq2, phq9, gad7, ahc_hrsn, cssrs (or a site instrument).",
        },
        answers={
            "type": "object",
            "description": "Keyed q1..qN in item order (C-SSRS adds q6_recent); see CARE.md. "
            'Any item may be "declined": the screen is then incomplete (band null, '
            "flag incomplete).",
        },
    ),
    "ScreeningCreated": _obj(
        ["assessment", "created_tasks"],
        assessment=_ref("ScoreResult"),
        created_tasks={
            "type": "array",
            "items": _ref("Task"),
            "description": "Tasks the routing created at once (e.g. the stat C-SSRS screen).",
        },
        assessment_id=INT,
        instance_id={"type": "integer", "description": "The screening_response instance."},
    ),
    "Instrument": _obj(
        ["key", "title", "version"], key=STR, title=STR, version=STR, attribution=STR
    ),
    "AuditEvent": _obj(
        ["id", "at", "actor", "action", "category", "case_id", "client_id", "task_id", "details"],
        id=INT,
        at=DATETIME,
        actor=STR,
        action=STR,
        category=STR,
        case_id=NULL_INT,
        client_id=NULL_INT,
        task_id=NULL_INT,
        details=ANY_OBJ,
    ),
    "Referral": _obj(list(REFERRAL_FIELDS), **REFERRAL_FIELDS),
    "ReferralEvent": _obj(
        ["from", "to", "reason", "reason_code", "source", "actor", "at"],
        **{"from": {**REFERRAL_STATUS_OR_NULL, "description": "Null for the creation row."}},
        to=REFERRAL_STATUS,
        reason=NULL_STR,
        reason_code=NULL_STR,
        source={
            "type": "string",
            "enum": ["requester", "organisation", "staff_recorded", "system"],
            "description": "Who set the status: our staff, the organisation (a message), our "
            "staff recording the organisation's answer, or the engine.",
        },
        actor={"type": "string", "description": "Username, or `system`."},
        at=DATETIME,
    ),
    "ReferralDetail": {
        "allOf": [
            _ref("Referral"),
            _obj(
                ["history", "legal_next"],
                history={"type": "array", "items": _ref("ReferralEvent")},
                legal_next={
                    "type": "array",
                    "items": REFERRAL_STATUS,
                    "description": "The statuses the state machine allows next.",
                },
            ),
        ]
    },
    "ReferralStatusInput": _obj(
        ["status"],
        status={
            **REFERRAL_STATUS,
            "description": "`cancelled` and `entered-in-error` as the referring team; any "
            "other status records the organisation's answer on its behalf (staff_recorded). "
            "`draft` and `requested` are refused (403): a referral is sent from its task.",
        },
        reason={
            "type": "string",
            "maxLength": 1000,
            "description": "Required for rejected, cancelled, on-hold and failed.",
        },
        reason_code={"type": "string", "enum": list(REASON_CODES)},
    ),
    "Consent": _obj(
        [
            "id",
            "client_id",
            "recipient",
            "scope",
            "given_at",
            "expires_at",
            "revoked_at",
            "current",
        ],
        id=INT,
        client_id=INT,
        recipient=STR,
        scope={"type": "string", "enum": list(CONSENT_SCOPES)},
        given_at=DATETIME,
        expires_at=NULL_DATETIME,
        revoked_at=NULL_DATETIME,
        current={"type": "boolean", "description": "In force now (given, unexpired, unrevoked)."},
    ),
    "ConsentInput": _obj(
        ["recipient"],
        recipient=_text(
            200, description="The organisation; matched case- and space-insensitively."
        ),
        scope={"type": "string", "enum": list(CONSENT_SCOPES), "default": DEFAULT_CONSENT_SCOPE},
        expires_at={
            **NULL_DATETIME,
            "description": "With its UTC offset, in the future; default (or null) one year "
            "from now.",
        },
    ),
    "Resource": _obj(list(RESOURCE_FIELDS), **RESOURCE_FIELDS),
    "ResourceMatch": {
        "allOf": [
            _ref("Resource"),
            _obj(
                ["why", "last_verified", "distance_km", "needs", "phones", "hours"],
                why={
                    "type": "array",
                    "items": STR,
                    "description": "Why the service matched, one reason per item.",
                },
                distance_km={
                    "type": ["number", "null"],
                    "description": "Between postal-code centroids (or the location's "
                    "coordinates); null when either is unknown.",
                },
                needs={"type": "array", "items": STR},
                organization={"type": ["object", "null"]},
                phones={"type": "array", "items": STR},
                hours={
                    "type": "array",
                    "items": _obj(
                        ["days", "opens_at", "closes_at"],
                        days={"type": "array", "items": STR},
                        opens_at=STR,
                        closes_at=STR,
                    ),
                    "description": "Regular weekly hours, local time of the site.",
                },
                service_areas={"type": "array", "items": STR},
                locations={"type": "array", "items": {"type": "object"}},
            ),
        ]
    },
    "ResourceInput": _obj(
        ["organization_name", "service_name", "category"],
        organization_name=_text(200),
        service_name=_text(200),
        category=_text(40, description="The need it meets."),
        status={
            "type": ["string", "null"],
            "enum": ["active", "inactive", None],
            "default": "active",
            "description": "Null or absent: active.",
        },
        description=_nullable({"type": "string", "maxLength": 4000}),
        eligibility=_nullable({"type": "string", "maxLength": 4000}),
        languages=_nullable(
            {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 40}}
        ),
        min_age=_nullable({"type": "integer", "minimum": 0, "maximum": 130}),
        max_age=_nullable({"type": "integer", "minimum": 0, "maximum": 130}),
        fees=_nullable({"type": "string", "maxLength": 200}),
        assured_date=_nullable(
            {"type": "string", "format": "date", "description": "Last verified."}
        ),
        phone=_nullable({"type": "string", "maxLength": 40}),
        email=_nullable({"type": "string", "maxLength": 200}),
        address=_nullable({"type": "string", "maxLength": 300}),
        postal_code=_nullable({"type": "string", "maxLength": 20}),
    ),
    "Health": _obj(["status", "database"], status=STR, database=STR),
}

_ERROR_RESPONSES = {
    "BadRequest": "Malformed request: missing or invalid JSON body, unknown parameter value, "
    "or (cookie sessions) a POST that is neither JSON nor multipart.",
    "Unauthorized": "No session cookie and no valid `Authorization: Bearer` token.",
    "Forbidden": "The signed-in user's roles do not allow this.",
    "NotFound": "No such resource.",
    "Conflict": "Already done, done by someone else at the same time, or stale.",
    "Unprocessable": "Invalid input; `details` names each field (or diagram element).",
}

TASK_ID = _path_param("task_id", "Human task id.")
CASE_ID = _path_param("case_id", "Case id.")
REFERRAL_ID = _path_param("referral_id", "Referral id.")
CLIENT_ID = _path_param("client_id", "Client id.")
TASK_RESPONSE = {"200": _json(_ref("TaskResponse"), "The task after the command.")}


def _op(
    op_id: str, summary: str, tag: str, responses: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
        **extra,
    }


PATHS: dict[str, Any] = {
    "/api/v1/tasks": {
        "get": _op(
            "listTasks",
            "One page of an inbox view, with the count of every view.",
            "tasks",
            {"200": _json(_ref("TaskList"), "A page of tasks."), **_errors(400, 401)},
            parameters=[
                _query(
                    "view",
                    "Which queue.",
                    {
                        "type": "string",
                        "enum": ["mine", "team", "overdue", "followup", "all"],
                        "default": "mine",
                    },
                ),
                _query(
                    "sort",
                    "Order.",
                    {
                        "type": "string",
                        "enum": ["crisis", "due", "priority"],
                        "default": "crisis",
                        "description": "crisis: stat, then asap, whatever their due dates, "
                        "then the rest by due date (overdue first).",
                    },
                ),
                _query(
                    "limit",
                    "Page size.",
                    {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                ),
                _query("after", "Cursor from the previous page's next_cursor.", QUERY_TEXT),
                _query("client", "Filter: part of the client's given or family name.", QUERY_TEXT),
                _query("task_type", "Filter: the task's BPMN id (e.g. intake).", QUERY_TEXT),
            ],
        )
    },
    "/api/v1/tasks/{task_id}": {
        "get": _op(
            "getTask",
            "A task with its form schema, UI hints and rendered instructions (audited).",
            "tasks",
            {
                "200": _json(_obj(["task"], task=_ref("TaskDetail")), "The task."),
                **_errors(401, 403, 404),
            },
            parameters=[TASK_ID],
        )
    },
    "/api/v1/tasks/{task_id}/claim": {
        "post": _op(
            "claimTask",
            "Take an unclaimed task of one of your roles.",
            "tasks",
            {**TASK_RESPONSE, **_errors(400, 401, 403, 404, 409)},
            parameters=[TASK_ID],
        )
    },
    "/api/v1/tasks/{task_id}/release": {
        "post": _op(
            "releaseTask",
            "Give a task back to its role's queue (holder, supervisor or admin).",
            "tasks",
            {**TASK_RESPONSE, **_errors(400, 401, 403, 404, 409)},
            parameters=[TASK_ID],
        )
    },
    "/api/v1/tasks/{task_id}/assign": {
        "post": _op(
            "assignTask",
            "Hand a task to a user (supervisors and admins; a holder may delegate their own).",
            "tasks",
            {**TASK_RESPONSE, **_errors(400, 401, 403, 404, 409, 422)},
            parameters=[TASK_ID],
            requestBody=_body(
                _obj(
                    ["user"],
                    user=_text(description="Username."),
                    note={
                        "type": "string",
                        "maxLength": 2000,
                        "description": "Handoff note (shown on the task and the case).",
                    },
                ),
                "The new holder and an optional handoff note.",
            ),
        )
    },
    "/api/v1/tasks/{task_id}/complete": {
        "post": _op(
            "completeTask",
            "Submit the task's form; the pathway runs to its next wait state.",
            "tasks",
            {
                "200": _json(
                    _obj(
                        ["task", "next_tasks"],
                        task=_ref("Task"),
                        next_tasks={"type": "array", "items": _ref("Task")},
                    ),
                    "The completed task and the tasks it created.",
                ),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[TASK_ID],
            requestBody=_body(
                _obj(["data"], data=ANY_OBJ), "The form data, validated against the task's schema."
            ),
        )
    },
    "/api/v1/cases": {
        "post": _op(
            "openCase",
            "Register (or find by MRN) a client, open a case and start its pathway.",
            "cases",
            {
                "201": {
                    **_json(_ref("CaseCreated"), "The new case."),
                    "headers": {"Location": {"description": "URL of the case.", "schema": STR}},
                },
                **_errors(400, 401, 403, 409, 422),
            },
            requestBody=_body(_ref("CaseInput"), "Client demographics, reason and pathway."),
        )
    },
    "/api/v1/cases/{case_id}": {
        "get": _op(
            "getCase",
            "A case with its client, tasks, instances and assessments (each read is audited).",
            "cases",
            {
                "200": _json(_obj(["case"], case=_ref("Case")), "The case."),
                **_errors(401, 403, 404),
            },
            parameters=[CASE_ID],
        )
    },
    "/api/v1/cases/{case_id}/flags": {
        "post": _op(
            "setCaseFlag",
            "Set or remove the client's do-not-contact flag, with a reason. Setting it withdraws "
            "every open client-outreach task of the client's cases at once and gives the primary "
            "social worker one urgent `Plan safe contact` task; removing it needs a supervisor.",
            "cases",
            {
                "200": _json(_ref("FlagChange"), "The flag as it is now, and what it changed."),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(_ref("FlagInput"), "The flag, its new value and the reason."),
        )
    },
    "/api/v1/cases/{case_id}/timeline": {
        "get": _op(
            "getCaseTimeline",
            "Every event of the case, oldest first (the read is audited).",
            "cases",
            {
                "200": _json(
                    _obj(["events"], events={"type": "array", "items": _ref("TimelineEvent")}),
                    "Events.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[CASE_ID],
        )
    },
    "/api/v1/cases/{case_id}/screenings": {
        "post": _op(
            "screenNow",
            "Screen now: score and store an instrument given on an open case and route it by "
            "suicide risk in the same transaction (PHQ-9 item 9 of 1 or more or declined: a stat "
            "C-SSRS screen; C-SSRS high: crisis intervention; moderate or incomplete: consult, "
            "safety plan and supervisor review; low: crisis resources and a safety-plan offer). "
            "Any care-team role may screen; the result goes to the case timeline.",
            "cases",
            {
                "201": _json(
                    _ref("ScreeningCreated"), "The scored screen and the tasks it created."
                ),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[CASE_ID],
            requestBody=_body(_ref("ScreeningInput"), "The instrument and its answers."),
        )
    },
    "/api/v1/cases/{case_id}/referrals": {
        "get": _op(
            "listCaseReferrals",
            "The case's referrals, oldest first (the read is audited as a case view).",
            "referrals",
            {
                "200": _json(
                    _obj(["referrals"], referrals={"type": "array", "items": _ref("Referral")}),
                    "Referrals.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[CASE_ID],
        )
    },
    "/api/v1/referrals/{referral_id}": {
        "get": _op(
            "getReferral",
            "A referral with its status history and the statuses it may take next (audited).",
            "referrals",
            {
                "200": _json(_obj(["referral"], referral=_ref("ReferralDetail")), "The referral."),
                **_errors(401, 403, 404),
            },
            parameters=[REFERRAL_ID],
        )
    },
    "/api/v1/referrals/{referral_id}/status": {
        "post": _op(
            "setReferralStatus",
            "Cancel a referral, mark it entered in error, or record the organisation's answer "
            "(social workers, case managers, supervisors, admins). The referral's own instance "
            "hears of it; a decline opens a new referral for the need.",
            "referrals",
            {
                "200": _json(
                    _obj(
                        ["referral", "delivered"],
                        referral=_ref("ReferralDetail"),
                        delivered={
                            "type": "array",
                            "items": INT,
                            "description": "Ids of the instances that moved (or started).",
                        },
                    ),
                    "The referral after the change.",
                ),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            parameters=[REFERRAL_ID],
            requestBody=_body(_ref("ReferralStatusInput"), "The new status."),
        )
    },
    "/api/v1/clients/{client_id}/consents": {
        "get": _op(
            "listClientConsents",
            "The client's consents to share, oldest first (the read is audited).",
            "consents",
            {
                "200": _json(
                    _obj(["consents"], consents={"type": "array", "items": _ref("Consent")}),
                    "Consents.",
                ),
                **_errors(401, 403, 404),
            },
            parameters=[CLIENT_ID],
        ),
        "post": _op(
            "recordConsent",
            "Record the client's consent to share with an organisation (social workers, case "
            "managers, supervisors, admins).",
            "consents",
            {
                "201": _json(_obj(["consent"], consent=_ref("Consent")), "The new consent."),
                **_errors(400, 401, 403, 404, 422),
            },
            parameters=[CLIENT_ID],
            requestBody=_body(_ref("ConsentInput"), "Recipient, scope and expiry."),
        ),
    },
    "/api/v1/consents/{consent_id}/revoke": {
        "post": _op(
            "revokeConsent",
            "Revoke a consent. Referrals already sent are not recalled; cancel them if asked.",
            "consents",
            {
                "200": _json(_obj(["consent"], consent=_ref("Consent")), "The revoked consent."),
                **_errors(400, 401, 403, 404, 409),
            },
            parameters=[_path_param("consent_id", "Consent id.")],
        )
    },
    "/api/v1/resources": {
        "get": _op(
            "findResources",
            "Search the directory for a client. Hard filters: the need (the service's own "
            "need or one of its taxonomy terms), age within the eligibility range, a listed "
            "language (services listing none are kept), open now, the words of q. Ranked by "
            "need match (the service's primary need first), then service area (the postal "
            "code is served), then distance between postal-code centroids, then language, "
            "then the most recently verified. Each result says why it matched.",
            "directory",
            {
                "200": _json(
                    _obj(
                        ["resources"],
                        resources={"type": "array", "items": _ref("ResourceMatch")},
                    ),
                    "Matching services, best first.",
                ),
                **_errors(400, 401, 403, 422),
            },
            parameters=[
                _query(
                    "need",
                    "The care-plan need (housing, food, transportation, utilities, safety, "
                    "mental_health, financial, caregiver_support; interpersonal_safety and "
                    "behavioral_health are accepted). Required unless q is given.",
                    QUERY_TEXT,
                ),
                _query(
                    "postal_code", "The client's postal code (service area, distance).", QUERY_TEXT
                ),
                _query(
                    "age",
                    "The client's age in years.",
                    {"type": "integer", "minimum": 0, "maximum": 130},
                ),
                _query(
                    "language", "A language the service must offer (or not list any).", QUERY_TEXT
                ),
                _query(
                    "open_now",
                    "true: only services open now by their regular hours in the site's zone.",
                    {"type": "boolean"},
                ),
                _query("q", "Words that must all appear in the names or descriptions.", QUERY_TEXT),
                _query(
                    "limit",
                    "At most this many.",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                ),
            ],
        ),
        "post": _op(
            "saveResource",
            "Add a service to the directory (case managers, supervisors, admins).",
            "directory",
            {
                "201": _json(_obj(["resource"], resource=_ref("Resource")), "The new entry."),
                **_errors(400, 401, 403, 422),
            },
            requestBody=_body(_ref("ResourceInput"), "The service."),
        ),
    },
    "/api/v1/process-definitions": {
        "get": _op(
            "listDefinitions",
            "Every deployed version with its running instance count.",
            "definitions",
            {
                "200": _json(
                    _obj(
                        ["definitions"], definitions={"type": "array", "items": _ref("Definition")}
                    ),
                    "Definitions.",
                ),
                **_errors(401),
            },
        ),
        "post": _op(
            "deployDefinitions",
            "Validate and deploy diagrams (designers). Identical content is a no-op (200).",
            "definitions",
            {
                "200": _json(_ref("DeployResult"), "Nothing changed: `created` is empty."),
                "201": _json(_ref("DeployResult"), "Version N+1 stored for each changed process."),
                **_errors(400, 401, 403, 422),
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
                "One or more `bpmn` files (.bpmn/.dmn), optional `forms` "
                "(JSON Schema / UI schema) and an optional `comment` field.",
                media="multipart/form-data",
            ),
        ),
    },
    "/api/v1/process-definitions/{definition_id}/xml": {
        "get": _op(
            "getDefinitionXml",
            "Download the BPMN XML of one version.",
            "definitions",
            {
                "200": {"description": "The XML.", "content": {"application/xml": {"schema": STR}}},
                **_errors(401, 404),
            },
            parameters=[_path_param("definition_id", "Definition (version) id.")],
        )
    },
    "/api/v1/process-instances/{instance_id}": {
        "get": _op(
            "getInstance",
            "An instance with its completed, active and waiting elements.",
            "instances",
            {
                "200": _json(_obj(["instance"], instance=_ref("Instance")), "The instance."),
                **_errors(401, 403, 404),
            },
            parameters=[_path_param("instance_id", "Process instance id.")],
        )
    },
    "/api/v1/messages": {
        "post": _op(
            "deliverMessage",
            "Deliver a message to the case's waiting instances (or start a process it starts). "
            "Each message kind has its own origin: `referral_status` only from a token with the "
            "`referral` scope; `discharge` from an `adt`/`hl7` token or a case manager/admin; "
            "any other message a deployed process declares from an `adt`/`hl7` token or "
            "clinical staff. A name no deployed process declares is 422.",
            "instances",
            {
                "200": _json(
                    _obj(["delivered"], delivered={"type": "array", "items": INT}),
                    "Instances that received it.",
                ),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            requestBody=_body(_ref("MessageInput"), "The message."),
        )
    },
    "/api/v1/instruments": {
        "get": _op(
            "listInstruments",
            "The screening instruments that can be scored.",
            "instruments",
            {
                "200": _json(
                    _obj(
                        ["instruments"], instruments={"type": "array", "items": _ref("Instrument")}
                    ),
                    "Instruments.",
                ),
                **_errors(401),
            },
        )
    },
    "/api/v1/instruments/{key}/score": {
        "post": _op(
            "scoreInstrument",
            "Score answers to phq2, phq9, gad7, ahc_hrsn, cssrs (or a site instrument).",
            "instruments",
            {
                "200": _json(_ref("ScoreResult"), "Score, band, flags and risk level."),
                **_errors(400, 401, 404, 422),
            },
            parameters=[_path_param("key", "Instrument key, e.g. phq9.", "string")],
            requestBody=_body(_ref("ScoreInput"), "The answers."),
        )
    },
    "/api/v1/audit": {
        "get": _op(
            "listAuditEvents",
            "A case's audit rows, newest first (admins; the read is itself audited).",
            "audit",
            {
                "200": _json(
                    _obj(["events"], events={"type": "array", "items": _ref("AuditEvent")}),
                    "Events.",
                ),
                **_errors(400, 401, 403, 404),
            },
            parameters=[
                _query("case", "Case id.", ROW_ID, required=True),
                _query(
                    "limit",
                    "At most this many rows.",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
                ),
            ],
        )
    },
    "/api/v1/openapi.json": {
        "get": _op(
            "getOpenApi",
            "This document.",
            "meta",
            {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
            security=[],
        )
    },
    "/healthz": {
        "get": _op(
            "health",
            "Liveness and database reachability.",
            "meta",
            {
                "200": _json(_ref("Health"), "Healthy."),
                "503": _json(_ref("Health"), "The database does not answer."),
            },
            security=[],
        )
    },
    "/metrics": {
        "get": _op(
            "metrics",
            "Prometheus text: request counts and latencies, open tasks by role, "
            "overdue tasks, timer lag.",
            "meta",
            {"200": {"description": "Metrics.", "content": {"text/plain": {"schema": STR}}}},
            security=[],
        )
    },
}


SHIFT = _obj(
    ["id", "role", "user", "starts_at", "ends_at"],
    id=INT,
    role=STR,
    user={"type": ["string", "null"], "description": "Username."},
    starts_at=DATETIME,
    ends_at={"type": "string", "format": "date-time", "description": "Exclusive."},
)
GAP = _obj(["role", "starts_at", "ends_at"], role=STR, starts_at=DATETIME, ends_at=DATETIME)
NOTIFICATION = _obj(
    [
        "id",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "task_id",
    ],
    id=INT,
    kind={"type": "string", "enum": ["stat_task", "fallback", "escalation", "re_alert"]},
    channel={"type": "string", "enum": ["email", "webhook"]},
    recipient={"type": ["string", "null"], "description": "Username."},
    status={"type": "string", "enum": ["pending", "sent", "failed"]},
    attempts=INT,
    last_error=NULL_STR,
    created_at=DATETIME,
    sent_at=NULL_DATETIME,
    next_attempt_at=NULL_DATETIME,
    task_id=NULL_INT,
)
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset."}
PATHS.update(
    {
        "/api/v1/tasks/{task_id}/acknowledge": {
            "post": _op(
                "acknowledgeTask",
                "Acknowledge a stat task (its role, the case's care team, the holder or a "
                "supervisor): ends its escalation and closes its escalation tasks. On an "
                "escalation task, acknowledges the task it escalates. A second acknowledgement "
                "returns the first.",
                "tasks",
                {
                    "200": _json(
                        _obj(
                            ["task", "acknowledged_at", "acknowledged_by"],
                            task=_ref("Task"),
                            acknowledged_at=DATETIME,
                            acknowledged_by={"type": "string", "description": "Username."},
                        ),
                        "The task, with who acknowledged it and when.",
                    ),
                    **_errors(401, 403, 404, 409),
                },
                parameters=[TASK_ID],
            )
        },
        "/api/v1/on-call": {
            "get": _op(
                "listOnCall",
                "Shifts of the on-call rota and the gaps of the crisis roles (social_worker, "
                "supervisor, physician; or `role`) between `from` and `to` (default: 14 days).",
                "on-call",
                {
                    "200": _json(
                        _obj(
                            ["shifts", "gaps"],
                            shifts={"type": "array", "items": SHIFT},
                            gaps={"type": "array", "items": GAP},
                        ),
                        "Shifts and gaps.",
                    ),
                    **_errors(400, 401),
                },
                parameters=[
                    _query("role", "Only this role.", STR),
                    _query("at", "Only shifts covering this instant.", _TIME),
                    _query("from", "Shifts ending after this instant.", _TIME),
                    _query("to", "Shifts starting before this instant.", _TIME),
                ],
            ),
            "post": _op(
                "addOnCall",
                "Add a shift (supervisors and admins). 422 names the field: role, user "
                "(unknown, inactive or without the role), starts_at/ends_at (naive, or ending "
                "before it starts).",
                "on-call",
                {
                    "201": _json(
                        {"allOf": [SHIFT, _obj(["shift"], shift=SHIFT)]},
                        "The shift's fields, also under `shift`.",
                    ),
                    **_errors(400, 401, 403, 422),
                },
                requestBody=_body(
                    _obj(
                        ["role", "user", "starts_at", "ends_at"],
                        role=STR,
                        user={"type": "string", "description": "Username."},
                        starts_at=_TIME,
                        ends_at=_TIME,
                    ),
                    "The shift.",
                ),
            ),
        },
        "/api/v1/on-call/{shift_id}": {
            "delete": _op(
                "deleteOnCall",
                "Delete a shift (supervisors and admins).",
                "on-call",
                {"204": {"description": "Deleted."}, **_errors(401, 403, 404)},
                parameters=[_path_param("shift_id", "Shift id.")],
            )
        },
        "/api/v1/notifications": {
            "get": _op(
                "listNotifications",
                "Delivery state of a case's alerts (one row per channel per alert), newest "
                "first. The read is audited.",
                "notifications",
                {
                    "200": _json(
                        _obj(
                            ["notifications"],
                            notifications={"type": "array", "items": NOTIFICATION},
                        ),
                        "Notifications.",
                    ),
                    **_errors(400, 401, 403, 404),
                },
                parameters=[_query("case", "Case id.", INT, required=True)],
            )
        },
    }
)


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "CareBridge API",
        "version": "1",
        "description": "Task inbox, cases, pathways and screening instruments for hospital "
        'social work. Errors are `{"error": {"code", "message", "details"}}`. A POST '
        "authenticated by the session cookie must be application/json (or multipart/form-data "
        "with an X-CSRFToken header).",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    "tags": [
        {"name": t}
        for t in (
            "tasks",
            "cases",
            "referrals",
            "consents",
            "directory",
            "definitions",
            "studio",
            "instances",
            "instruments",
            "audit",
            "on-call",
            "notifications",
            "security",
            "meta",
        )
    ],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {name: _json(_ref("Error"), text) for name, text in _ERROR_RESPONSES.items()},
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "`carebridge token create USERNAME`",
            },
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
        },
    },
}


@bp.get("/openapi.json")
@public
def openapi_document() -> Any:
    return DOCUMENT
