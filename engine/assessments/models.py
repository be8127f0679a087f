"""Scored screening instruments: the answers live here, not in workflow task data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_client_instrument", "client_id", "instrument"),
        Index("ix_assessments_administered_at", "administered_at"),  # the screening report
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]]
    score: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[list[Any]]
    risk_level: Mapped[str | None] = mapped_column(String(20))
    administered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    administered_at: Mapped[datetime]
