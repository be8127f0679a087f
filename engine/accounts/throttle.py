"""Password sign-in with limits that count failures only.

- Per account: `ACCOUNT_FAILURES` failures within `ACCOUNT_WINDOW` lock the account for
  `LOCKOUT`; a correct password does not open a locked account; an admin lifts the lock at
  once (`unlock`). A success resets the account's count.
- Per client address: more than `IP_FAILURES` failures within `IP_WINDOW` refuse further
  attempts from that address (HTTP 429) until the window moves on. The address limit is far
  above the account limit: a ward's PCs share one address, and one person mistyping (or
  someone guessing one account) must not lock out colleagues behind the same address.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.accounts.models import LoginFailure, User
from engine.accounts.services import authenticate, get_user

ACCOUNT_FAILURES = 5
ACCOUNT_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
IP_FAILURES = 20
IP_WINDOW = timedelta(minutes=5)
# Failure rows older than this are no use to any window: pruned as new ones are written.
KEEP = max(ACCOUNT_WINDOW, IP_WINDOW)
MAX_USERNAME = 80


@dataclass(frozen=True)
class SignInLimits:
    """The thresholds; the defaults above, or a site's own (CAREBRIDGE_LOGIN_*_FAILURES)."""

    account_failures: int = ACCOUNT_FAILURES
    ip_failures: int = IP_FAILURES


class Outcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: User | None = None


def _ip_failures(session: Session, ip: str, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.ip == ip, LoginFailure.at > now - IP_WINDOW
            )
        )
        or 0
    )


def _account_failures(session: Session, user: User, now: datetime) -> int:
    since = now - ACCOUNT_WINDOW
    if user.failures_reset_at is not None and user.failures_reset_at > since:
        since = user.failures_reset_at
    return int(
        session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.username == user.username, LoginFailure.at > since
            )
        )
        or 0
    )


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _fail(session: Session, username: str, ip: str, now: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    session.add(LoginFailure(username=username[:MAX_USERNAME], ip=ip[:64], at=now))
    session.flush()


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    ip: str,
    now: datetime,
    limits: SignInLimits | None = None,
) -> SignIn:
    """Check a password under the limits. Every failure is written (the caller commits it
    even though the sign-in failed)."""
    limits = limits or SignInLimits()
    if _ip_failures(session, ip, now) >= limits.ip_failures:
        return SignIn(Outcome.THROTTLED)
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and is_locked(user, now):
        _fail(session, username, ip, now)
        return SignIn(Outcome.LOCKED)
    found = authenticate(session, username, password)
    if found is None:
        _fail(session, username, ip, now)
        if user is not None and _account_failures(session, user, now) >= limits.account_failures:
            user.locked_until = now + LOCKOUT
            return SignIn(Outcome.LOCKED, user)
        return SignIn(Outcome.BAD_CREDENTIALS, user)
    found.failures_reset_at = now
    return SignIn(Outcome.OK, found)


def locked_users(session: Session, *, now: datetime) -> list[User]:
    """Accounts locked out right now, soonest to unlock first."""
    return list(
        session.scalars(
            select(User).where(User.locked_until > now).order_by(User.locked_until, User.id)
        )
    )


def unlock(session: Session, *, username: str, now: datetime) -> User:
    """Lift a lockout now; earlier failures no longer count towards the next one."""
    user = get_user(session, username)
    user.locked_until = None
    user.failures_reset_at = now
    return user
