from engine.inbox.bulk import BulkResult, Refusal, bulk_assign
from engine.inbox.models import PRIORITIES, HumanTask
from engine.inbox.permissions import can_reassign, can_see, can_work
from engine.inbox.queries import (
    DEFAULT_SORT,
    SORTS,
    VIEWS,
    InboxRow,
    Page,
    Summary,
    counts,
    list_tasks,
    summary,
    tasks_for_case,
)
from engine.inbox.services import assign_task, claim_task, release_task

__all__ = [
    "BulkResult",
    "Refusal",
    "Summary",
    "bulk_assign",
    "summary",
    "PRIORITIES",
    "DEFAULT_SORT",
    "SORTS",
    "VIEWS",
    "HumanTask",
    "InboxRow",
    "Page",
    "assign_task",
    "can_reassign",
    "can_see",
    "can_work",
    "claim_task",
    "counts",
    "list_tasks",
    "release_task",
    "tasks_for_case",
]
