"""Progress notes: written, signed and read under the record rule; addenda; co-signature of
an intern's note; @mentions that reach a colleague's inbox.

Audit details carry ids, the type and field names, never the note's text (notes are PHI and
the audit trail is read more widely than the record)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.accounts.models import User
from engine.cases.models import Case, CaseContact
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.forms import validate
from engine.inbox.models import PRIORITY_RANK, HumanTask
from engine.notes.models import NoteAddendum, ProgressNote
from engine.notes.templates import NOTE_TYPES, SCHEMAS, TYPE_SCHEMA

NOTE_WRITTEN = "case:note:written"
NOTE_VIEWED = "case:note:viewed"
NOTES_LISTED = "case:note:listed"
NOTE_ADDENDUM = "case:note:addendum"
NOTE_COSIGNED = "case:note:cosigned"
NOTE_MENTIONED = "case:note:mentioned"
MENTION_DONE = "task:mention:done"

# Who writes notes: everyone who works on cases (an admin's role is the system).
WRITERS = ("social_worker", "nurse", "physician", "case_manager", "supervisor")
MASKED_BODY = access.MASKED
# `@username` preceded by start or a non-word character (so e-mail addresses do not match).
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{1,80})")
MENTION_DUE = timedelta(days=1)
COSIGN_DUE = timedelta(days=1)


@dataclass(frozen=True)
class NoteView:
    """A note as one reader may see it: the body and template fields hidden for a sensitive
    note when the reader does not see sensitive sections."""

    note: ProgressNote
    addenda: list[NoteAddendum]
    masked: bool
    names: dict[int, str]

    @property
    def status(self) -> str:
        if self.note.needs_cosign and self.note.cosigned_at is None:
            return "awaiting co-signature"
        return "signed"


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


def _audit(
    session: Session, tag: str, case: Case, actor: User, at: datetime, **details: Any
) -> None:
    audit.record(
        session,
        tag,
        actor=_actor(actor),
        at=at,
        category="progress_note",
        case_id=case.id,
        client_id=case.client_id,
        details=details,
    )


def _require_writer(actor: User) -> None:
    if not actor.has_role(*WRITERS):
        raise Forbidden("Your role does not write progress notes.", code="role_required")


def _check_payload(session: Session, case: Case, payload: Mapping[str, Any]) -> None:
    note_type = payload.get("type")
    schema = SCHEMAS.get(note_type) if isinstance(note_type, str) else None
    validate(schema if schema is not None else TYPE_SCHEMA, payload)
    contact_id = payload.get("contact_id")
    if contact_id is not None:
        contact = session.get(CaseContact, contact_id)
        if contact is None or contact.case_id != case.id:
            raise Invalid(
                "The contact is not one of this case's contacts.",
                code="form_invalid",
                details=[{"field": "contact_id", "message": "Not a contact of this case."}],
            )


def write_note(
    session: Session, *, case_id: int, payload: Mapping[str, Any], actor: User, clock: Clock
) -> NoteView:
    """Validate, sign and store a note; an intern's note opens a co-signature task; each
    @mention of an existing user opens a mention task. Invalid names the field."""
    _require_writer(actor)
    now = clock.now()
    case, granted = access.require_case_read(session, user=actor, case_id=case_id, now=now)
    _check_payload(session, case, payload)
    note = ProgressNote(
        case_id=case.id,
        note_type=payload["type"],
        body=payload["body"],
        minutes=payload.get("minutes"),
        participants=list(payload.get("participants") or []),
        contact_id=payload.get("contact_id"),
        sensitive=bool(payload.get("sensitive", False)),
        fields=dict(payload.get("fields") or {}),
        author_id=actor.id,
        signed_by_id=actor.id,
        signed_at=now,
        needs_cosign=actor.is_intern,
    )
    session.add(note)
    session.flush()
    _audit(session, NOTE_WRITTEN, case, actor, now, note_id=note.id, type=note.note_type)
    if note.needs_cosign:
        _open_task(
            session,
            kind="cosign",
            note=note,
            case=case,
            name=f"Co-sign {actor.display_name}'s note (case {case.id})",
            role="supervisor",
            assignee_id=actor.supervisor_id,
            due=now + COSIGN_DUE,
            now=now,
        )
    for user in mentioned_users(session, note.body):
        if user.id == actor.id:
            continue
        task = _open_task(
            session,
            kind="mention",
            note=note,
            case=case,
            name=f"Mentioned in a note by {actor.display_name} (case {case.id})",
            role=None,
            assignee_id=user.id,
            due=now + MENTION_DUE,
            now=now,
        )
        _audit(
            session,
            NOTE_MENTIONED,
            case,
            actor,
            now,
            note_id=note.id,
            user_id=user.id,
            task_id=task.id,
        )
    return _view(session, note, sensitive=granted.sensitive)


def mentioned_users(session: Session, body: str) -> list[User]:
    """The active users named with @username in the text (unknown names are ignored)."""
    names = {m.lower() for m in _MENTION.findall(body)}
    # A mention at the end of a sentence ("ask @kim.") keeps its dot; try without it too.
    names |= {n.rstrip(".-") for n in names}
    if not names:
        return []
    return list(
        session.scalars(
            select(User)
            .where(User.username.in_(sorted(names)), User.active.is_(True))
            .order_by(User.id)
        )
    )


def _open_task(
    session: Session,
    *,
    kind: str,
    note: ProgressNote,
    case: Case,
    name: str,
    role: str | None,
    assignee_id: int | None,
    due: datetime,
    now: datetime,
) -> HumanTask:
    task = HumanTask(
        kind=kind,
        instance_id=None,
        spiff_task_id=None,
        bpmn_id=f"note_{kind}",
        name=name[:255],
        process_key="progress_note",
        lane=None,
        role=role,
        case_id=case.id,
        client_id=case.client_id,
        status="open",
        assignee_id=assignee_id,
        assigned_by="direct" if assignee_id else None,
        claimed_at=now if assignee_id else None,
        priority="routine",
        priority_rank=PRIORITY_RANK["routine"],
        due_at=due,
        created_at=now,
        note_id=note.id,
    )
    session.add(task)
    session.flush()
    return task


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def _view(session: Session, note: ProgressNote, *, sensitive: bool) -> NoteView:
    addenda = list(
        session.scalars(
            select(NoteAddendum)
            .where(NoteAddendum.note_id == note.id)
            .order_by(NoteAddendum.signed_at, NoteAddendum.id)
        )
    )
    ids: set[int | None] = {note.author_id, note.signed_by_id, note.cosigned_by_id}
    ids |= {a.author_id for a in addenda}
    masked = note.sensitive and not sensitive
    return NoteView(note, addenda, masked, _names(session, ids))


def _note(session: Session, note_id: int, *, for_update: bool = False) -> ProgressNote:
    stmt = select(ProgressNote).where(ProgressNote.id == note_id)
    if for_update:
        stmt = stmt.with_for_update()
    note = session.scalar(stmt)
    if note is None:
        raise NotFound("No such note.", code="note_not_found")
    return note


def case_of_note(session: Session, note_id: int) -> int:
    """The case a note belongs to (NotFound); not a read of the note."""
    return _note(session, note_id).case_id


def read_note(session: Session, *, note_id: int, actor: User, clock: Clock) -> NoteView:
    """One note under the record rule (audited as a read of the case's notes)."""
    note = _note(session, note_id)
    now = clock.now()
    case, granted = access.require_case_read(
        session, user=actor, case_id=note.case_id, now=now, category="progress_note"
    )
    _audit(session, NOTE_VIEWED, case, actor, now, note_id=note.id, access=str(granted.basis))
    return _view(session, note, sensitive=granted.sensitive)


def list_notes(
    session: Session,
    *,
    case_id: int,
    actor: User,
    clock: Clock,
    note_type: str | None = None,
    q: str | None = None,
    limit: int = 200,
) -> list[NoteView]:
    """A case's notes, newest first, optionally of one type and matching a text search (body
    or addenda). A sensitive note a reader may not see is never matched on its text."""
    now = clock.now()
    case, granted = access.require_case_read(
        session, user=actor, case_id=case_id, now=now, category="progress_note"
    )
    if note_type is not None and note_type not in NOTE_TYPES:
        raise Invalid(
            "Unknown note type.",
            code="bad_note_type",
            details=[{"field": "type", "message": f"One of {', '.join(NOTE_TYPES)}."}],
        )
    stmt = select(ProgressNote).where(ProgressNote.case_id == case.id)
    if note_type is not None:
        stmt = stmt.where(ProgressNote.note_type == note_type)
    if q:
        pattern = f"%{q.lower()}%"
        in_addenda = (
            select(NoteAddendum.id)
            .where(NoteAddendum.note_id == ProgressNote.id)
            .where(NoteAddendum.body.ilike(pattern))
            .exists()
        )
        text_match = or_(ProgressNote.body.ilike(pattern), in_addenda)
        if not granted.sensitive:
            text_match = text_match & ProgressNote.sensitive.is_(False)
        stmt = stmt.where(text_match)
    notes = list(
        session.scalars(
            stmt.order_by(ProgressNote.signed_at.desc(), ProgressNote.id.desc()).limit(limit)
        )
    )
    _audit(
        session,
        NOTES_LISTED,
        case,
        actor,
        now,
        note_ids=[n.id for n in notes],
        access=str(granted.basis),
    )
    return [_view(session, n, sensitive=granted.sensitive) for n in notes]


def add_addendum(
    session: Session, *, note_id: int, body: object, actor: User, clock: Clock
) -> NoteAddendum:
    """An addendum: the only way to add to a signed note. Signed by its author."""
    _require_writer(actor)
    if not isinstance(body, str) or not body.strip():
        raise Invalid(
            "An addendum needs a body.",
            code="form_invalid",
            details=[{"field": "body", "message": "This field is required."}],
        )
    note = _note(session, note_id)
    now = clock.now()
    case, _ = access.require_case_read(
        session, user=actor, case_id=note.case_id, now=now, category="progress_note"
    )
    addendum = NoteAddendum(note_id=note.id, body=body.strip(), author_id=actor.id, signed_at=now)
    session.add(addendum)
    session.flush()
    _audit(session, NOTE_ADDENDUM, case, actor, now, note_id=note.id, addendum_id=addendum.id)
    return addendum


def cosign_note(session: Session, *, note_id: int, actor: User, clock: Clock) -> NoteView:
    """A supervisor co-signs an intern's note; the co-signature task closes with it.
    Forbidden for anyone else; Conflict when the note needs none or is already co-signed."""
    if not actor.has_role("supervisor"):
        raise Forbidden("Only a supervisor co-signs a note.", code="role_required")
    note = _note(session, note_id, for_update=True)
    now = clock.now()
    case, granted = access.require_case_read(
        session, user=actor, case_id=note.case_id, now=now, category="progress_note"
    )
    if not note.needs_cosign:
        raise Conflict("This note needs no co-signature.", code="no_cosign_needed")
    if note.cosigned_at is not None:
        raise Conflict("This note is already co-signed.", code="already_cosigned")
    if note.author_id == actor.id:
        raise Forbidden("A note is co-signed by someone other than its author.", code="own_note")
    note.cosigned_by_id = actor.id
    note.cosigned_at = now
    for task in session.scalars(
        select(HumanTask).where(
            HumanTask.note_id == note.id, HumanTask.kind == "cosign", HumanTask.status == "open"
        )
    ):
        _close(task, actor, now)
    _audit(session, NOTE_COSIGNED, case, actor, now, note_id=note.id)
    return _view(session, note, sensitive=granted.sensitive)


def _close(task: HumanTask, actor: User, now: datetime) -> None:
    task.status = "completed"
    task.completed_at = now
    task.completed_by_id = actor.id
    if task.assignee_id is None:
        task.assignee_id = actor.id


def complete_note_task(
    session: Session, *, task_id: int, actor: User, clock: Clock
) -> HumanTask | None:
    """Complete a mention (marked done by its holder) or a co-signature task (co-signs the
    note) through the inbox's complete command. None when the task is not a note's."""
    task = session.get(HumanTask, task_id)
    if task is None or task.kind not in ("mention", "cosign"):
        return None
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.", code="task_closed")
    if task.kind == "cosign":
        assert task.note_id is not None
        cosign_note(session, note_id=task.note_id, actor=actor, clock=clock)
        return task
    if task.assignee_id != actor.id:
        raise Forbidden("This task is assigned to someone else.", code="not_assignee")
    now = clock.now()
    _close(task, actor, now)
    audit.record(
        session,
        MENTION_DONE,
        actor=_actor(actor),
        at=now,
        case_id=task.case_id,
        client_id=task.client_id,
        task_id=task.id,
        details={"note_id": task.note_id},
    )
    return task
