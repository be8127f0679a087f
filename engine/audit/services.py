"""Append-only, hash-chained audit trail. Recorded inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.audit.models import AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x0CA3EB41D6E  # any constant: serializes appends to the chain on PostgreSQL


class AuditTag(StrEnum):
    CASE_OPENED = "case:opened"
    CASE_VIEWED = "case:viewed"
    CASE_CLOSED = "case:closed"
    CASE_FLAGGED = "case:flagged"
    CLIENT_VIEWED = "client:viewed"
    TASK_VIEWED = "case:task:viewed"
    TASK_CLAIMED = "case:task:claimed"
    TASK_RELEASED = "case:task:released"
    TASK_ASSIGNED = "case:task:assigned"
    TASK_COMPLETED = "case:task:completed"
    TASK_CREATED = "case:task:created"
    INSTANCE_STARTED = "instance:started"
    INSTANCE_COMPLETED = "instance:completed"
    MESSAGE_RECEIVED = "instance:message"
    TIMER_FIRED = "instance:timer:fired"
    ASSESSMENT_RECORDED = "case:assessment:recorded"
    REFERRAL_UPDATED = "case:referral:updated"
    DEFINITION_DEPLOYED = "definition:deployed"
    USER_LOGIN = "user:login"
    USER_LOGIN_FAILED = "user:login_failed"
    TOKEN_CREATED = "user:token:created"  # noqa: S105  (an audit tag, not a secret)
    AUDIT_VIEWED = "audit:viewed"


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str


SYSTEM = Actor(None, "system")


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    body = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _hashed_fields(ev: AuditEvent) -> dict[str, Any]:
    return {
        "at": ev.at.isoformat(),
        "actor_id": ev.actor_id,
        "actor": ev.actor,
        "action": ev.action,
        "category": ev.category,
        "case_id": ev.case_id,
        "client_id": ev.client_id,
        "instance_id": ev.instance_id,
        "task_id": ev.task_id,
        "details": ev.details,
    }


def record(
    session: Session,
    action: AuditTag | str,
    *,
    actor: Actor,
    at: datetime,
    category: str = "workflow",
    case_id: int | None = None,
    client_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Details hold ids and field names, never note text."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    # SQLite: BEGIN IMMEDIATE (engine.db) already serializes writers.
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    ev = AuditEvent(
        at=at,
        actor_id=actor.id,
        actor=actor.name,
        action=str(action),
        category=category,
        case_id=case_id,
        client_id=client_id,
        instance_id=instance_id,
        task_id=task_id,
        details=details or {},
        prev_hash=prev or GENESIS,
        hash="",
    )
    ev.hash = _digest(ev.prev_hash, _hashed_fields(ev))
    session.add(ev)
    session.flush()  # the next record() in this transaction must see this row's hash
    return ev


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_ids: list[int]

    @property
    def ok(self) -> bool:
        return not self.broken_ids


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; a changed, inserted or deleted row breaks the chain."""
    prev = GENESIS
    checked = 0
    broken: list[int] = []
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev or _digest(ev.prev_hash, _hashed_fields(ev)) != ev.hash:
                broken.append(ev.id)
            prev = ev.hash
            checked += 1
        last_id = rows[-1].id
    return ChainReport(checked, broken)


def events_for_case(session: Session, case_id: int, *, limit: int = 500) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
