"""The signed token of an organisation's referral link (/r/<token>): which referral, issued
when. Kept apart from engine.referrals.links so that the packet (which carries the link) and
the link's commands (which answer through engine.referrals.commands) need not import each
other."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from engine.errors import NotFound

_SALT = "carebridge.referral-link"


def make_token(secret: str, *, referral_id: int, issued_at: datetime) -> str:
    serializer = URLSafeSerializer(secret, salt=_SALT)
    return str(serializer.dumps({"r": referral_id, "i": int(issued_at.timestamp())}))


def decode_token(secret: str, token: str) -> tuple[int, datetime]:
    """The referral id and issue time a token signs; NotFound when it is tampered with."""
    try:
        data: Any = URLSafeSerializer(secret, salt=_SALT).loads(token)
        referral_id, issued = int(data["r"]), datetime.fromtimestamp(int(data["i"]), tz=UTC)
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise NotFound("No such referral link.", code="link_not_found") from None
    return referral_id, issued
