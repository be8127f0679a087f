"""A case's care team: who is on it, adding and removing members (engine/cases/team.py)."""

from __future__ import annotations

from typing import Any

from engine import cases
from engine.cases import team
from web import deps
from web.api import bp
from web.api.cases import CASE_ROLES
from web.api.common import iso, json_body, require_roles, transaction, user


def member_json(entry: team.TeamEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "user": entry.user.username if entry.user is not None else None,
        "case_role": entry.case_role,
        "name": entry.name,
        "organisation": entry.organisation,
        "phone": entry.phone,
        "added_at": iso(entry.added_at),
    }


@bp.get("/cases/<int:case_id>/team")
def case_team(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        case = cases.view_case(
            session, case_id=case_id, actor=user(), clock=deps.clock(), section="team"
        )
        return {"members": [member_json(e) for e in team.team_of(session, case)]}


@bp.post("/cases/<int:case_id>/team")
def add_team_member(case_id: int) -> Any:
    require_roles(*CASE_ROLES)
    body = json_body()
    with transaction() as session:
        case = cases.get_case(session, case_id)
        member = team.add_to_team(
            session,
            case=case,
            actor=user(),
            clock=deps.clock(),
            case_role=body.get("case_role"),
            username=body.get("user"),
            name=body.get("name"),
            organisation=body.get("organisation"),
            phone=body.get("phone"),
        )
        entry = next(e for e in team.team_of(session, case) if e.id == member.id)
        return {"member": member_json(entry)}, 201


@bp.delete("/cases/<int:case_id>/team/<int:member_id>")
def remove_team_member(case_id: int, member_id: int) -> Any:
    require_roles(*CASE_ROLES)
    with transaction() as session:
        case = cases.get_case(session, case_id)
        team.remove_from_team(
            session, case=case, member_id=member_id, actor=user(), clock=deps.clock()
        )
    return "", 204
