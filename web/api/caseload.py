"""Caseloads: a worker's open cases, the supervisors' overview, moving a case's primary
worker with a handoff note."""

from __future__ import annotations

from typing import Any

from flask import request

from engine import caseload
from web import deps
from web.api import bp
from web.api.common import iso, json_body, transaction, user


def row_json(r: caseload.CaseloadRow) -> dict[str, Any]:
    return {
        "case_id": r.case_id,
        "client": r.client,
        "risk_flags": r.risk_flags,
        "open_tasks": r.open_tasks,
        "earliest_due": iso(r.earliest_due),
        "last_contact_at": iso(r.last_contact_at),
        "days_since_contact": r.days_since_contact,
        "admitted_at": iso(r.admitted_at),
        "expected_discharge_at": iso(r.expected_discharge_at),
    }


@bp.get("/caseload")
def get_caseload() -> Any:
    with transaction() as session:
        owner, rows = caseload.caseload(
            session, actor=user(), clock=deps.clock(), username=request.args.get("user")
        )
        return {"user": owner.username, "cases": [row_json(r) for r in rows]}


@bp.get("/caseload/team")
def team_caseloads() -> Any:
    with transaction() as session:
        counts = caseload.team_overview(session, actor=user(), clock=deps.clock())
    return {
        "workers": [
            {
                "user": c.username,
                "display_name": c.display_name,
                "open_cases": c.open_cases,
                "stat_urgent_tasks": c.stat_urgent_tasks,
                "overdue_tasks": c.overdue_tasks,
            }
            for c in counts
        ]
    }


@bp.post("/cases/<int:case_id>/primary-worker")
def move_primary_worker(case_id: int) -> Any:
    body = json_body()
    with transaction() as session:
        handoff = caseload.move_primary_worker(
            session,
            case_id=case_id,
            username=body.get("user"),
            note=body.get("note"),
            actor=user(),
            clock=deps.clock(),
        )
        result = {"case_id": case_id, "handoff": caseload.handoff_json(session, handoff)}
    return result, 200
