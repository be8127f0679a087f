"""The supervisors' dashboard (/reports): every quality report with a chart, a period picker,
CSV links and a drill-down from a row's numbers to the cases behind them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, render_template, request

from engine import reports
from engine.errors import BadRequest
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp
from web.report_charts import chart, row_label

DEFAULT_DAYS = 30


def _period() -> reports.Period:
    """The picked period, or the last 30 days (site-zone days, like the API)."""
    zone = deps.site().zone
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    if not raw_from and not raw_to:
        today = deps.clock().now().astimezone(zone).date()
        raw_from, raw_to = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
    return reports.parse_period(raw_from, raw_to, zone=zone)


def _asked(name: str) -> reports.Request:
    return reports.Request(name, team=request.args.get("team"), username=request.args.get("user"))


@bp.get("/reports")
@login_required
@require_roles(*reports.MANAGERS)
def reports_dashboard() -> str:
    period = _period()
    sections: list[dict[str, Any]] = []
    with deps.transaction() as session:
        for name in reports.REPORT_NAMES:
            filters = reports.allowed_filters(session, _asked(name), actor=g.user)
            result = reports.run_report(
                session, name, period=period, filters=filters, now=deps.clock().now()
            )
            sections.append({"name": name, "report": result, "chart": chart(name, result.rows)})
    return render_template(
        "pages/reports_dashboard.html",
        sections=sections,
        period=period,
        now=deps.clock().now(),
        team=request.args.get("team", ""),
        user_filter=request.args.get("user", ""),
    )


@bp.get("/reports/<name>/cases")
@login_required
@require_roles(*reports.MANAGERS)
def report_cases(name: str) -> str:
    reports.require_report(name)
    period = _period()
    try:
        row = int(request.args.get("row", ""))
    except ValueError:
        raise BadRequest("Say which row (row=N).", code="bad_parameter") from None
    now = deps.clock().now()
    with deps.transaction() as session:
        filters = reports.allowed_filters(session, _asked(name), actor=g.user)
        result = reports.run_report(
            session, name, period=period, filters=filters, now=now, with_cases=True
        )
        found = reports.report_cases(session, result, row=row, actor=g.user, now=now)
        listed = [
            {"id": c.id, "client": c.client.display_name, "status": c.status, "opened": c.opened_at}
            for c in found
        ]
    return render_template(
        "pages/reports_cases.html",
        name=name,
        period=period,
        label=row_label(name, result.rows[row]),
        cases=listed,
    )
