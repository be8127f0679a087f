"""Server-side sign-in sessions. The browser's (signed) cookie carries a random session id;
the row behind it decides whether it still works, so signing out, a password change or an
admin can end it, and it expires after an idle period and an absolute lifetime."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.accounts.models import User, UserSession

# last_seen_at is written at most this often (or a tenth of the idle limit, when that is
# shorter): every request reads the session, and a write per page view would turn every read
# into a write transaction.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=15)
    lifetime: timedelta = timedelta(hours=12)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(
    session: Session, *, user: User, now: datetime, policy: SessionPolicy, ip: str | None = None
) -> str:
    """Open a session for `user` and return its id (for the cookie; only a hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash(session_id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
            ip=(ip or "")[:64] or None,
        )
    )
    session.flush()
    return session_id


def user_for_session(
    session: Session, *, session_id: str, user_id: int, now: datetime, policy: SessionPolicy
) -> User | None:
    """The active user of a live session, or None when it was revoked, has been idle longer
    than the policy allows, passed its absolute lifetime, or belongs to someone else."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _hash(session_id)))
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        row.revoked_at = now  # ended for good: coming back later does not revive it
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= min(TOUCH_INTERVAL, policy.idle / 10):
        row.last_seen_at = now
    return user


def end_session(session: Session, *, session_id: str, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(session_id), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_all_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every live session of a user (password change, account disabled)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
