"""Reports for supervisors: every use of break-glass access."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import request

from engine import access
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.cases import grant_json
from web.api.common import require_roles, transaction, user


def _instant(name: str) -> datetime | None:
    """`from`/`to` as an ISO date (midnight UTC) or a date-time with its offset."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time.min, UTC)
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadRequest(
            f"The parameter '{name}' must be a date (YYYY-MM-DD) or a date-time with its offset.",
            code="bad_parameter",
        )
    return value


@bp.get("/reports/break-glass")
def break_glass_report() -> Any:
    require_roles(*access.MANAGERS)
    start, end = _instant("from"), _instant("to")
    with transaction() as session:
        uses = access.break_glass_report(
            session, actor=user(), clock=deps.clock(), start=start, end=end
        )
        return {
            "uses": [{**grant_json(u.grant, u.username), "user_name": u.display_name} for u in uses]
        }
