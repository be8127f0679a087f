"""The notification outbox: one row per channel per alert, written in the transaction that
raised the alert and delivered after commit by the scheduler's sender."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

CHANNELS = ("email", "webhook")
STATUSES = ("pending", "sent", "failed")
# stat_task: a new stat task for its assignee; escalation: a ladder step with its escalation
# task; re_alert: the ladder's repeated alert; fallback: nobody on call, every supervisor told.
# referral_packet: a sent referral for its receiving organisation (engine.referrals.packets).
KINDS = ("stat_task", "escalation", "re_alert", "fallback", "referral_packet")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # What the channel needs and nothing clinical: ids, priority, role, reason, due.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
