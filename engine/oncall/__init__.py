from engine.oncall.assignment import Pick, pick_escalation_target, pick_for_role
from engine.oncall.models import CRISIS_ROLES, OnCallShift
from engine.oncall.services import (
    Gap,
    ShiftInput,
    add_shift,
    delete_shift,
    gaps,
    import_shifts,
    list_shifts,
    on_call_now,
    parse_time,
)

__all__ = [
    "CRISIS_ROLES",
    "Gap",
    "OnCallShift",
    "Pick",
    "ShiftInput",
    "add_shift",
    "delete_shift",
    "gaps",
    "import_shifts",
    "list_shifts",
    "on_call_now",
    "parse_time",
    "pick_escalation_target",
    "pick_for_role",
]
