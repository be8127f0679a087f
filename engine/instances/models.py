"""Running processes: workflow state (without the spec) under optimistic locking."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

if TYPE_CHECKING:
    from engine.definitions.models import ProcessDefinition


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_status_next_timer", "status", "next_timer_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    status: Mapped[str] = mapped_column(String(20), default="running")
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(default=1)
    next_timer_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    definition: Mapped[ProcessDefinition] = relationship()

    # A stale writer's UPDATE ... WHERE version = :old matches no row and raises
    # StaleDataError, which the services turn into a Conflict.
    __mapper_args__ = {"version_id_col": version}
