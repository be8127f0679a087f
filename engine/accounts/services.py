"""Users, roles and passwords (argon2). Tokens, sessions and sign-in limits have their own
modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import ROLE_KEYS, Role, User
from engine.accounts.sessions import end_all_sessions
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


MIN_PASSWORD = 12


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)


def change_password(
    session: Session,
    *,
    user: User,
    new_password: str,
    now: datetime,
    current_password: str | None = None,
) -> int:
    """Set a new password and end every session of the user: a cookie copied before the
    change stops working. `current_password` is checked when given (a person changing their
    own); an operator's reset passes None. Returns how many sessions were ended."""
    if (
        current_password is not None
        and authenticate(session, user.username, current_password) is None
    ):
        raise Invalid(
            "The current password is not right.",
            code="wrong_password",
            details=[{"field": "current_password", "message": "Not the current password."}],
        )
    if not isinstance(new_password, str) or len(new_password) < MIN_PASSWORD:
        raise Invalid(
            f"Choose a password of at least {MIN_PASSWORD} characters.",
            code="weak_password",
            details=[{"field": "new_password", "message": f"At least {MIN_PASSWORD} characters."}],
        )
    set_password(user, new_password)
    return end_all_sessions(session, user_id=user.id, now=now)


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


def users_with_role(session: Session, role: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(User.roles)
            .where(Role.key == role, User.active.is_(True))
            .order_by(User.id)
        )
    )
