"""Append-only audit trail; each row carries the hash of the previous one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None]
    client_id: Mapped[int | None] = mapped_column(index=True)
    instance_id: Mapped[int | None]
    task_id: Mapped[int | None]
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's signed head: one row (id 1), rewritten by every append under the chain lock.

    `signature` is an HMAC (the audit key, which the database never sees) over the row count and
    the last hash, so removing the newest rows, or all of them, leaves a head that no longer
    matches the table, and a head rewritten to match cannot be signed without the key.
    `rebuilt` marks a head that appends had to recreate because it was missing while rows
    existed (tampering, or an upgrade): verify reports it until the chain is re-anchored."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    row_count: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    rebuilt: Mapped[bool] = mapped_column(default=False)
    signature: Mapped[str] = mapped_column(String(64))
