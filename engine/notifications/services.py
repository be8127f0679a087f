"""Writing alerts to the outbox (inside the command's transaction) and reading their state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.inbox.models import HumanTask
from engine.notifications.models import CHANNELS, STATUSES, Notification
from engine.settings import Settings

_channels: tuple[str, ...] = CHANNELS


def configure(channels: Sequence[str]) -> None:
    """The channels an alert is written for (set once at the edge from the settings).
    Unknown names are refused: a typo must not silence a page."""
    global _channels
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown notification channel(s): {', '.join(unknown)}")
    _channels = tuple(channels)


def channels() -> tuple[str, ...]:
    return _channels


def payload(task: HumanTask, *, kind: str, reason: str, recipient: str | None) -> dict[str, Any]:
    """What a pager needs and nothing clinical: no task name, no client, no answers."""
    return {
        "kind": kind,
        "task_id": task.id,
        "case_id": task.case_id,
        "priority": task.priority,
        "role": task.role,
        "reason": reason,
        "due": task.due_at.isoformat(),
        "recipient": recipient,
    }


def alert(
    session: Session,
    *,
    kind: str,
    task: HumanTask,
    recipient_ids: Iterable[int],
    reason: str,
    now: datetime,
) -> list[Notification]:
    """One outbox row per recipient per channel, sent after this transaction commits."""
    ids = list(dict.fromkeys(recipient_ids))
    names = dict(
        session.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples().all()
    )
    rows = []
    for user_id in ids:
        body = payload(task, kind=kind, reason=reason, recipient=names.get(user_id))
        for channel in _channels:
            rows.append(
                Notification(
                    kind=kind,
                    channel=channel,
                    recipient_user_id=user_id,
                    task_id=task.id,
                    case_id=task.case_id,
                    payload=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    session.add_all(rows)
    return rows


def for_case(session: Session, *, case_id: int) -> list[tuple[Notification, str | None]]:
    """A case's notifications, newest first, with each recipient's username."""
    rows = session.execute(
        select(Notification, User.username)
        .outerjoin(User, User.id == Notification.recipient_user_id)
        .where(Notification.case_id == case_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ).tuples()
    return list(rows)


def configure_from(settings: Settings) -> None:
    """Alerts are written for the channels the settings configure; with none configured
    (a development install) for all of them, so the outbox shows what could not be sent
    rather than nothing at all."""
    configured = [
        name
        for name, value in (("email", settings.smtp_url), ("webhook", settings.paging_webhook_url))
        if value
    ]
    configure(configured or CHANNELS)


def timeline(session: Session, *, case_id: int) -> list[tuple[datetime, str, dict[str, Any]]]:
    """One case-timeline entry per notification, with its delivery state: (at, action,
    details), at = when it was sent, else when it was raised."""
    return [
        (
            n.sent_at or n.created_at,
            f"notification:{n.status}",
            {
                "notification_id": n.id,
                "kind": n.kind,
                "channel": n.channel,
                "recipient": recipient,
                "status": n.status,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "task_id": n.task_id,
            },
        )
        for n, recipient in for_case(session, case_id=case_id)
    ]


def status_counts(session: Session) -> dict[str, int]:
    """Rows per delivery status (a metrics gauge: a rising `failed` means nobody was reached)."""
    rows = session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    ).tuples()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(rows.all()))
    return counts
