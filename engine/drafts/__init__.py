from engine.drafts.crypto import DraftCipher
from engine.drafts.models import TaskDraft
from engine.drafts.services import (
    Draft,
    delete_draft,
    find_draft,
    get_draft,
    on_task_completed,
    on_task_reassigned,
    save_draft,
)

__all__ = [
    "Draft",
    "DraftCipher",
    "TaskDraft",
    "delete_draft",
    "find_draft",
    "get_draft",
    "on_task_completed",
    "on_task_reassigned",
    "save_draft",
]
