"""The break-glass report page for supervisors and admins (the API has the same list)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import g, render_template, request

from engine import access
from web import deps
from web.auth import login_required, require_roles
from web.pages import bp
from web.pages.common import reader_zone


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


@bp.get("/reports/break-glass")
@login_required
@require_roles(*access.MANAGERS)
def break_glass_report() -> str:
    zone = reader_zone()
    today = deps.clock().now().astimezone(zone).date()
    start_day = _day("from") or today - timedelta(days=30)
    end_day = _day("to") or today
    start = datetime.combine(start_day, time.min, zone).astimezone(UTC)
    end = datetime.combine(end_day + timedelta(days=1), time.min, zone).astimezone(UTC)
    with deps.transaction() as session:
        uses = access.break_glass_report(
            session, actor=g.user, clock=deps.clock(), start=start, end=end
        )
    return render_template("pages/break_glass_report.html", uses=uses, start=start_day, end=end_day)
