from engine.caseload.models import Handoff
from engine.caseload.services import (
    CaseloadRow,
    WorkerCounts,
    caseload,
    handoff_json,
    handoffs_of_case,
    move_primary_worker,
    team_overview,
)

__all__ = [
    "CaseloadRow",
    "Handoff",
    "WorkerCounts",
    "caseload",
    "handoff_json",
    "handoffs_of_case",
    "move_primary_worker",
    "team_overview",
]
