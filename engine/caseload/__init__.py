from engine.caseload.models import Handoff
from engine.caseload.services import (
    MANAGERS,
    CaseloadRow,
    WorkerCounts,
    caseload,
    handoff_json,
    handoffs_of_case,
    move_primary_worker,
    social_workers,
    team_overview,
)

__all__ = [
    "MANAGERS",
    "CaseloadRow",
    "Handoff",
    "WorkerCounts",
    "caseload",
    "handoff_json",
    "handoffs_of_case",
    "move_primary_worker",
    "social_workers",
    "team_overview",
]
