"""Deployed versions of BPMN processes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


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
