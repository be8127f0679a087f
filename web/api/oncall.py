"""The on-call rota: read it with its gaps, add and delete shifts (supervisors and admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import request

from engine import instances, oncall
from engine.errors import BadRequest
from web import deps
from web.api import bp
from web.api.common import iso, json_body, require_roles, transaction, user

MANAGERS = ("admin", "supervisor")
GAP_HORIZON = timedelta(days=14)


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    # Given but empty is not "absent": the document says date-time, so it is a 400 too.
    when, problem = oncall.parse_time(raw, name)
    if problem:
        raise BadRequest(f"The parameter '{name}': {problem['message']}", code="bad_parameter")
    return when


def shift_json(shift: oncall.OnCallShift, usernames: dict[int, str]) -> dict[str, Any]:
    return {
        "id": shift.id,
        "role": shift.role,
        "user": usernames.get(shift.user_id),
        "starts_at": iso(shift.starts_at),
        "ends_at": iso(shift.ends_at),
    }


@bp.get("/on-call")
def list_on_call() -> Any:
    """Shifts (filters: role, at, from, to) and the gaps of the crisis roles in [from, to),
    by default the next 14 days."""
    from engine.tasks_view import usernames

    role = request.args.get("role") or None
    at, start, end = _time_arg("at"), _time_arg("from"), _time_arg("to")
    now = deps.clock().now()
    gap_start = start or now
    gap_end = end or gap_start + GAP_HORIZON
    if gap_end <= gap_start:
        raise BadRequest("'to' must come after 'from'.", code="bad_parameter")
    with transaction() as session:
        shifts = oncall.list_shifts(session, role=role, at=at, start=start, end=end)
        names = usernames(session, [s.user_id for s in shifts])
        gap_roles = [role] if role else list(oncall.CRISIS_ROLES)
        gaps = oncall.gaps(session, roles=gap_roles, start=gap_start, end=gap_end)
    return {
        "shifts": [shift_json(s, names) for s in shifts],
        "gaps": [
            {"role": g.role, "starts_at": iso(g.starts_at), "ends_at": iso(g.ends_at)} for g in gaps
        ],
    }


@bp.post("/on-call")
def add_on_call() -> Any:
    require_roles(*MANAGERS)
    body = json_body()
    data = oncall.ShiftInput(
        role=body.get("role"),
        user=body.get("user"),
        starts_at=body.get("starts_at"),
        ends_at=body.get("ends_at"),
    )
    with transaction() as session:
        shift = oncall.add_shift(
            session, data=data, actor=instances.actor_of(user()), at=deps.clock().now()
        )
        created = shift_json(shift, {shift.user_id: str(data.user).strip()})
    # The shift's fields, and the same under "shift" (as other creating routes wrap theirs).
    return {**created, "shift": created}, 201


@bp.delete("/on-call/<int:shift_id>")
def delete_on_call(shift_id: int) -> Any:
    require_roles(*MANAGERS)
    with transaction() as session:
        oncall.delete_shift(
            session, shift_id=shift_id, actor=instances.actor_of(user()), at=deps.clock().now()
        )
    return "", 204
