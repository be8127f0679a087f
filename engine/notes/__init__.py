from engine.notes.models import NoteAddendum, ProgressNote
from engine.notes.services import (
    MASKED_BODY,
    WRITERS,
    NoteView,
    add_addendum,
    case_of_note,
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
    "WRITERS",
    "NoteAddendum",
    "NoteView",
    "ProgressNote",
    "add_addendum",
    "case_of_note",
    "complete_note_task",
    "cosign_note",
    "list_notes",
    "mentioned_users",
    "read_note",
    "write_note",
]
