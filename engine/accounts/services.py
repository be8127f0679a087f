"""Users, roles, passwords (argon2) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import ROLE_KEYS, ApiToken, Role, User
from engine.errors import Invalid, NotFound

_hasher = PasswordHasher()


def ensure_roles(session: Session) -> dict[str, Role]:
    existing = {r.key: r for r in session.scalars(select(Role))}
    for key in ROLE_KEYS:
        if key not in existing:
            existing[key] = Role(key=key, name=key.replace("_", " ").title())
            session.add(existing[key])
    session.flush()
    return existing


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    roles: Iterable[str],
    password: str | None = None,
    timezone: str = "America/New_York",
    email: str | None = None,
    on_call: bool = False,
) -> User:
    all_roles = ensure_roles(session)
    unknown = [r for r in roles if r not in all_roles]
    if unknown:
        raise Invalid(f"Unknown role(s): {', '.join(unknown)}", code="unknown_role")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid(f"The username {username!r} is taken.", code="username_taken")
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        timezone=timezone,
        on_call=on_call,
        password_hash=_hasher.hash(password) if password else None,
        roles=[all_roles[r] for r in roles],
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user named {username!r}.", code="user_not_found")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check: no user enumeration by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


TOKEN_SCOPES = ("fhir:read", "fhir:write", "hl7")


def create_token(
    session: Session,
    user: User,
    *,
    name: str = "",
    now: datetime,
    scopes: tuple[str, ...] = (),
) -> str:
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown:
        raise Invalid(
            f"Unknown scope: {', '.join(unknown)}. Use {', '.join(TOKEN_SCOPES)}.",
            code="invalid_scope",
        )
    token = "cb_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            name=name,
            created_at=now,
            scopes=" ".join(sorted(set(scopes))),
        )
    )
    session.flush()
    return token


def token_scopes(session: Session, token: str) -> frozenset[str]:
    """The integration scopes of a live token (empty for an unknown or revoked one)."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return frozenset()
    return frozenset((row.scopes or "").split())


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    # At most one write a minute per token: every API call goes through here, and a write
    # per read request would make every inbox page a write transaction.
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
    return row.user


def users_with_role(session: Session, role: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.key == role, User.active.is_(True))
            .order_by(User.id)
        )
    )
