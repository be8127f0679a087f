"""The on-call rota: who answers for a role between two instants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

# The roles that receive crisis work: the admin page shows their gaps.
CRISIS_ROLES = ("social_worker", "supervisor", "physician")


class OnCallShift(Base):
    __tablename__ = "on_call_shifts"
    __table_args__ = (Index("ix_on_call_shifts_role_starts_at", "role", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]  # exclusive
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
