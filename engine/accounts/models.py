"""People who use CareBridge, their roles and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

# process_designer: may draw, check, deploy and roll out pathways (see docs/studio.md), no
# clinical access of its own.
ROLE_KEYS = (
    "social_worker",
    "nurse",
    "physician",
    "case_manager",
    "supervisor",
    "admin",
    "process_designer",
)


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    active: Mapped[bool] = mapped_column(default=True)
    on_call: Mapped[bool] = mapped_column(default=False)
    # An intern's progress notes need a supervisor's co-signature (their own, else any).
    is_intern: Mapped[bool] = mapped_column(default=False, server_default="0")
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sign-in lockout after repeated failures (engine/accounts/throttle.py); an admin lifts it.
    locked_until: Mapped[datetime | None]
    # Failures before this moment no longer count towards a lockout (last success or unlock).
    failures_reset_at: Mapped[datetime | None]

    roles: Mapped[list[Role]] = relationship(secondary="user_roles", lazy="selectin")

    @property
    def role_keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.roles)

    def has_role(self, *keys: str) -> bool:
        return bool(self.role_keys.intersection(keys))


class ApiToken(Base):
    """Only a hash of the token is kept: a leaked database does not leak usable tokens."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Space-separated scopes (engine/accounts/tokens.py SCOPES); `api` = the user's own rights.
    scopes: Mapped[str] = mapped_column(String(200), default="api", server_default="api")
    expires_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class UserSession(Base):
    """A signed-in browser session, kept server-side so it can be revoked (sign-out, password
    change) and expire (idle, absolute). The cookie holds the random id; only its hash is here."""

    __tablename__ = "user_sessions"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed sign-in: counted per account (lockout) and per client address (throttle)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
