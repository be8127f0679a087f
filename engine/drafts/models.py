"""A person's unsent answers to one task, encrypted at rest (see engine.drafts.crypto)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class TaskDraft(Base):
    __tablename__ = "task_drafts"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Fernet token of the answers' JSON: never plaintext, since a form holds PHI.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime]
