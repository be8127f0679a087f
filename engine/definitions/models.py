"""Deployed versions of BPMN processes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

if TYPE_CHECKING:
    from engine.accounts.models import User


class ProcessDefinition(Base):
    """One immutable row per version: the exact XML of the process and of everything it calls,
    and the content of every form it references, so a running instance never changes under
    a later deploy."""

    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        Index("ix_process_definitions_key_sha", "process_key", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    main_file: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    files: Mapped[dict[str, Any]]
    forms: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why this version exists, as its author wrote it at deploy (shown in the version list).
    comment: Mapped[str | None] = mapped_column(Text)


class ProcessDraft(Base):
    """The one work-in-progress diagram of a process, shared by its designers: the last save
    wins and says who made it. Nothing runs from a draft; deploying it makes a version."""

    __tablename__ = "process_drafts"

    process_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bpmn: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, Any]]
    comment: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]

    updated_by: Mapped[User | None] = relationship()


class ProcessCurrentVersion(Base):
    """The version new cases start on, when an administrator chose one (a rollback); without a
    row the latest version is current. Deploying a new version removes the row."""

    __tablename__ = "process_current_versions"

    process_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
