"""API tokens: random secrets of which only a hash is kept, each with scopes and an expiry.

Scopes say what a token may do:
- `api`: whatever its user may do as a person (the user's roles decide);
- `referral`: answer referrals as the receiving organisation (`referral_status` messages);
- `adt`, `hl7`: hospital feeds (admission/discharge messages);
- `fhir:read`, `fhir:write`: FHIR interfaces.
A token without `api` reaches only the endpoints that name one of its scopes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import ApiToken, User
from engine.errors import Forbidden, Invalid, NotFound

SCOPES = ("api", "referral", "adt", "hl7", "fhir:read", "fhir:write")
DEFAULT_SCOPES = ("api",)
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 730
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenGrant:
    """Who a presented token acts for, and with what scopes."""

    user: User
    token_id: int
    scopes: frozenset[str]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise Invalid(
            f"Unknown scope(s): {', '.join(unknown)}. Choose from: {', '.join(SCOPES)}.",
            code="unknown_scope",
            details=[{"field": "scopes", "message": f"Choose from: {', '.join(SCOPES)}."}],
        )
    return wanted or list(DEFAULT_SCOPES)


def create_token(
    session: Session,
    user: User,
    *,
    now: datetime,
    name: str = "",
    scopes: Iterable[str] = DEFAULT_SCOPES,
    expires_days: int = DEFAULT_EXPIRY_DAYS,
) -> str:
    """A new token for `user`; the secret is returned once and never stored."""
    if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise Invalid(
            f"A token lives between 1 and {MAX_EXPIRY_DAYS} days.",
            code="invalid_expiry",
            details=[{"field": "expires_days", "message": f"1 to {MAX_EXPIRY_DAYS}."}],
        )
    token = "cb_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            name=name[:120],
            scopes=" ".join(_clean_scopes(scopes)),
            created_at=now,
            expires_at=now + timedelta(days=expires_days),
        )
    )
    session.flush()
    return token


def grant_for_token(session: Session, token: str, *, now: datetime) -> TokenGrant | None:
    """The grant of a live token (not revoked, not expired, its user active), else None."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    # At most one write a minute per token: every API call goes through here, and a write
    # per read request would make every inbox page a write transaction.
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
    return TokenGrant(user=row.user, token_id=row.id, scopes=row.scope_set)


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    grant = grant_for_token(session, token, now=now)
    return grant.user if grant is not None else None


def list_tokens(
    session: Session, *, actor: User | None, everyone: bool = False, username: str | None = None
) -> list[ApiToken]:
    """The actor's own tokens; every user's when `everyone` (admins only) or for the
    operator's command line (`actor=None`), optionally only `username`'s."""
    stmt = select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if actor is not None and not everyone:
        stmt = stmt.where(ApiToken.user_id == actor.id)
    elif actor is not None and not actor.has_role("admin"):
        raise Forbidden("Only admins list everyone's tokens.", code="role_required")
    if username is not None:
        stmt = stmt.where(User.username == username)
    return list(session.scalars(stmt))


def revoke_token(session: Session, *, token_id: int, actor: User | None, now: datetime) -> ApiToken:
    """Revoke a token: its owner or an admin (`actor=None`: the operator's command line).
    Revoking a revoked token changes nothing."""
    # No row lock: revoking is idempotent, and the row's eager join to users cannot be locked
    # on PostgreSQL (FOR UPDATE on the nullable side of an outer join).
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("No such token.", code="token_not_found")
    if actor is not None and row.user_id != actor.id and not actor.has_role("admin"):
        raise Forbidden("You may revoke only your own tokens.", code="not_your_token")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def token_status(row: ApiToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"
