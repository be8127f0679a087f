"""Break-glass grants: time-limited access to one case outside one's care team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class BreakGlassGrant(Base):
    """One use of break-glass. Kept for ever (the report lists every use); access ends at
    `expires_at`. The reason is stored here, never in the audit details."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_grants_case_user", "case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
