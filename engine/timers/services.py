"""Claiming due timers with a lease, so several scheduler processes fire each timer once.

PostgreSQL: `FOR UPDATE SKIP LOCKED` lets workers take disjoint batches without waiting.
SQLite: BEGIN IMMEDIATE (engine.db) makes the conditional UPDATE atomic across processes.
A worker that dies after claiming leaves a lease that expires; another worker then retries,
and the instance's version check makes a second firing of the same timer a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from engine.timers.models import Timer


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Timer.status == "waiting",
        Timer.due_at <= now,
        or_(Timer.lease_expires_at.is_(None), Timer.lease_expires_at < now),
    )


def claim_due_timers(
    session: Session, *, owner: str, now: datetime, lease_s: int = 60, limit: int = 100
) -> list[int]:
    pick = select(Timer.id).where(*_claimable(now)).order_by(Timer.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Timer)
        .where(Timer.id.in_(pick.scalar_subquery()), *_claimable(now))
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Timer.attempts + 1,
        )
        .returning(Timer.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(stmt).all())


def release_lease(session: Session, *, timer_id: int, owner: str) -> None:
    session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.lease_owner == owner, Timer.status == "waiting")
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def next_wakeup(session: Session, *, now: datetime) -> datetime | None:
    """When the scheduler should next look: the earliest unleased due time, or the earliest
    lease expiry (a crashed worker's timer becomes claimable then)."""
    due = session.scalar(
        select(func.min(Timer.due_at)).where(
            Timer.status == "waiting",
            or_(Timer.lease_expires_at.is_(None), Timer.lease_expires_at < now),
        )
    )
    lease = session.scalar(
        select(func.min(Timer.lease_expires_at)).where(
            Timer.status == "waiting", Timer.lease_expires_at >= now
        )
    )
    candidates = [t for t in (due, lease) if t is not None]
    return min(candidates) if candidates else None


def timer_lag_seconds(session: Session, *, now: datetime) -> float:
    """How late the most overdue waiting timer is (0 when none is late): a health metric."""
    oldest = session.scalar(
        select(func.min(Timer.due_at)).where(Timer.status == "waiting", Timer.due_at <= now)
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
