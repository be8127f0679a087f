"""The coded result of a completed task, kept on its human_tasks row for the reports.

Only codes and dates are kept (never free text): the reports then read one table instead of
deserializing workflows. Written in the same transaction as the completion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TCM_TASKS = ("tcm_first_attempt", "tcm_retry")
FUH_TASKS = {"fuh_7_check": 7, "fuh_30_check": 30}
_KEPT = ("outcome", "record_unable_to_reach", "visit_status", "visit_date")
_PLAN_KEYS = ("needs", "already_met")


def outcome_of(
    bpmn_id: str, data: Mapping[str, Any], *, covers_needs: bool = False
) -> dict[str, Any] | None:
    """The part of a form the reports count, or None for a task they do not look into."""
    kept: dict[str, Any] = {}
    if bpmn_id in TCM_TASKS or bpmn_id in FUH_TASKS:
        kept = {k: data[k] for k in _KEPT if isinstance(data.get(k), str | bool)}
    if covers_needs:
        addressed: set[str] = set()
        for key in _PLAN_KEYS:
            addressed |= {n for n in data.get(key) or [] if isinstance(n, str)}
        declined = data.get("declined")
        if isinstance(declined, Mapping):
            addressed |= {str(n) for n in declined}
        kept["needs_addressed"] = sorted(addressed)
    return kept or None
