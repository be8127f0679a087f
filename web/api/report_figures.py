"""The quality reports: GET /api/v1/reports/<name> as JSON, or CSV with ?format=csv.

/reports/break-glass (web/api/reports.py) is a static rule and so wins over <name>.
"""

from __future__ import annotations

from typing import Any

from flask import request

from engine import reports
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.common import require_roles, transaction, user
from web.report_csv import csv_response

FORMATS = ("json", "csv")


def _format() -> str:
    wanted = request.args.get("format", "json").strip().lower() or "json"
    if wanted not in FORMATS:
        raise BadRequest("The parameter 'format' must be json or csv.", code="bad_parameter")
    return wanted


@bp.get("/reports/<name>")
def report_figures(name: str) -> Any:
    asked = reports.Request(name, team=request.args.get("team"), username=request.args.get("user"))
    with transaction() as session:
        filters = reports.allowed_filters(session, asked, actor=user())
        period = reports.parse_period(
            request.args.get("from"), request.args.get("to"), zone=deps.site().zone
        )
        fmt = _format()
        result = reports.run_report(
            session, name, period=period, filters=filters, now=deps.clock().now()
        )
    first, last = period.first.isoformat(), period.last.isoformat()
    if fmt == "csv":
        return csv_response(name, result, first=first, last=last)
    body: dict[str, Any] = {"report": name, "from": first, "to": last, "rows": result.rows}
    if result.totals is not None:
        body["totals"] = result.totals
    return body


@bp.get("/process-definitions/<int:definition_id>/heat")
def definition_heat(definition_id: int) -> Any:
    """Per diagram element: open tasks now and the median wait (the admin diagram's heat)."""
    require_roles(*reports.MANAGERS)
    with transaction() as session:
        elements = reports.definition_heat(
            session, definition_id=definition_id, now=deps.clock().now()
        )
    return {"definition_id": definition_id, "elements": elements}
