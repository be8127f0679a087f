"""Delivering the outbox: claim due rows with a lease, then mark each sent or failed.

Several senders (one per scheduler process) share the table. A claim is one conditional
UPDATE, with `FOR UPDATE SKIP LOCKED` on PostgreSQL and under BEGIN IMMEDIATE on SQLite (as
engine.timers): each row goes to one sender. The sender talks to the channel outside any
transaction and records the outcome only if it still holds the lease. A sender that dies
after sending but before recording leaves a lease that expires: the row is sent again (at
least once), which is why the lease (60 s) is much longer than a channel's timeout (10 s).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.notifications.models import Notification

log = logging.getLogger("carebridge.notifications")

BACKOFF_BASE_S = 15
BACKOFF_CAP_S = 600
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Message:
    """One row ready for its channel."""

    id: int
    kind: str
    channel: str
    recipient: str | None
    recipient_email: str | None
    payload: dict[str, Any]


class DeliveryError(Exception):
    """The channel did not accept the message. `permanent`: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    """A way out (SMTP, a paging webhook). `send` returns only once the other side accepted
    the message (SMTP 250, HTTP 2xx); anything else raises DeliveryError."""

    def send(self, message: Message) -> None: ...


def _claimable(now: datetime) -> tuple[Any, ...]:
    return (
        Notification.status == "pending",
        Notification.next_attempt_at <= now,
        or_(Notification.lease_expires_at.is_(None), Notification.lease_expires_at < now),
    )


def claim_due(
    session: Session, *, owner: str, now: datetime, lease_s: int = 60, limit: int = 50
) -> list[Message]:
    pick = (
        select(Notification.id)
        .where(*_claimable(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = session.scalars(
        update(Notification)
        .where(Notification.id.in_(pick.scalar_subquery()), *_claimable(now))
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Notification.attempts + 1,
        )
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        return []
    rows = session.execute(
        select(Notification, User.username, User.email)
        .outerjoin(User, User.id == Notification.recipient_user_id)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
    ).tuples()
    return [
        Message(n.id, n.kind, n.channel, username, email, dict(n.payload))
        for n, username, email in rows
    ]


def _held(message_id: int, owner: str) -> tuple[Any, ...]:
    return (
        Notification.id == message_id,
        Notification.lease_owner == owner,
        Notification.status == "pending",
    )


def mark_sent(session: Session, *, message_id: int, owner: str, now: datetime) -> bool:
    done = session.execute(
        update(Notification)
        .where(*_held(message_id, owner))
        .values(
            status="sent", sent_at=now, last_error=None, lease_owner=None, lease_expires_at=None
        )
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def release(session: Session, *, message_ids: list[int], owner: str) -> None:
    """Hand back claimed rows this sender did not try (its lease budget ran out, or their
    channel just failed): the claim's attempt is not counted, the next pass retakes them."""
    if not message_ids:
        return
    session.execute(
        update(Notification)
        .where(
            Notification.id.in_(message_ids),
            Notification.lease_owner == owner,
            Notification.status == "pending",
        )
        .values(lease_owner=None, lease_expires_at=None, attempts=Notification.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min, … capped at 10 min."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def mark_failed_attempt(
    session: Session,
    *,
    message_id: int,
    owner: str,
    now: datetime,
    error: str,
    permanent: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
) -> str | None:
    """Record a refused attempt: retried later with backoff, or `failed` for good after
    `max_attempts` (or at once when permanent). Returns the new status, None if not held."""
    row = session.scalars(
        select(Notification).where(*_held(message_id, owner)).with_for_update()
    ).one_or_none()
    if row is None:
        return None
    row.last_error = error[:1000]
    row.lease_owner = None
    row.lease_expires_at = None
    if permanent or row.attempts >= max_attempts:
        row.status = "failed"
        # Nobody was reached through this channel: say so loudly, the status is in the API.
        log.error(
            "notification %s (%s, %s) FAILED after %s attempt(s): %s",
            row.id,
            row.kind,
            row.channel,
            row.attempts,
            row.last_error,
        )
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        log.warning(
            "notification %s (%s) attempt %s refused, retry at %s: %s",
            row.id,
            row.channel,
            row.attempts,
            row.next_attempt_at,
            row.last_error,
        )
    return row.status
