"""OpenAPI entries of the quality reports and the diagram heat, added to the document of
web/api/openapi.py."""

from __future__ import annotations

from typing import Any

from engine.reports import REPORT_NAMES
from web.api.openapi import (
    DOCUMENT,
    INT,
    PATHS,
    STR,
    _errors,
    _json,
    _obj,
    _op,
    _path_param,
    _query,
)

NUM = {"type": ["number", "null"]}
ROW = {
    "type": "object",
    "description": "One bucket; the columns depend on the report (docs/reports.md).",
    "additionalProperties": True,
}
REPORT = _obj(
    ["report", "from", "to", "rows"],
    report={"type": "string", "enum": list(REPORT_NAMES)},
    **{"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}},
    rows={"type": "array", "items": ROW},
    totals={"type": "object", "additionalProperties": True},
)
HEAT = _obj(
    ["definition_id", "elements"],
    definition_id=INT,
    elements={
        "type": "object",
        "additionalProperties": _obj(
            ["open", "median_wait_minutes"], open=INT, median_wait_minutes=NUM
        ),
    },
)

_PATHS: dict[str, Any] = {
    "/api/v1/reports/{name}": {
        "get": _op(
            "qualityReport",
            "A quality report for whole days [from, to] in the site's zone: JSON, or CSV with "
            "format=csv (a header row, one row per bucket). Supervisors and admins see every "
            "report; a social worker sees only their own caseload row.",
            "reports",
            {
                "200": {
                    "description": "The report.",
                    "content": {
                        "application/json": {"schema": REPORT},
                        "text/csv": {"schema": STR},
                    },
                },
                **_errors(400, 401, 403, 404),
            },
            parameters=[
                _path_param("name", "One of: " + ", ".join(REPORT_NAMES) + ".", "string"),
                _query("from", "First day (YYYY-MM-DD), site zone.", STR, required=True),
                _query("to", "Last day (YYYY-MM-DD), included.", STR, required=True),
                _query("team", "A role key: only that role's work.", STR),
                _query("user", "A username: only that person's work.", STR),
                _query("format", "json (default) or csv.", {"enum": ["json", "csv"]}),
            ],
        )
    },
    "/api/v1/process-definitions/{definition_id}/heat": {
        "get": _op(
            "definitionHeat",
            "Per diagram element: open tasks now and the median wait in minutes of its tasks "
            "open now or completed in the last 30 days (supervisors, admins).",
            "reports",
            {"200": _json(HEAT, "The heat."), **_errors(401, 403, 404)},
            parameters=[_path_param("definition_id", "Process definition id.")],
        )
    },
}

PATHS.update(_PATHS)
DOCUMENT["tags"].append({"name": "reports"})
