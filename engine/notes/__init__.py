from engine.notes.models import NoteAddendum, ProgressNote
from engine.notes.services import (
    MASKED_BODY,
    NoteView,
    add_addendum,
    complete_note_task,
    cosign_note,
    list_notes,
    mentioned_users,
    read_note,
    write_note,
)
from engine.notes.templates import NOTE_TYPES, TEMPLATES

__all__ = [
    "MASKED_BODY",
    "NOTE_TYPES",
    "TEMPLATES",
    "NoteAddendum",
    "NoteView",
    "ProgressNote",
    "add_addendum",
    "complete_note_task",
    "cosign_note",
    "list_notes",
    "mentioned_users",
    "read_note",
    "write_note",
]
