"""Progress notes: signed when saved, never edited; corrections are addenda."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class ProgressNote(Base):
    __tablename__ = "progress_notes"
    __table_args__ = (Index("ix_progress_notes_case_signed", "case_id", "signed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    note_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int | None]
    participants: Mapped[list[Any]] = mapped_column(default=list)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("case_contacts.id"))
    sensitive: Mapped[bool] = mapped_column(default=False)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An intern's note is signed by them and then co-signed by a supervisor.
    needs_cosign: Mapped[bool] = mapped_column(default=False)
    cosigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cosigned_at: Mapped[datetime | None]


class NoteAddendum(Base):
    __tablename__ = "note_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("progress_notes.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
