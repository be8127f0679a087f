"""The organisation's answer link: `/r/<token>`, signed, for one referral and nothing else.

The token carries the referral id and when the packet was issued, signed with the site's
secret (itsdangerous, HMAC-SHA256 by default). It needs no account; it stops working
after LINK_DAYS or as soon as the referral is closed. A tampered token is unknown (404);
a token for another referral than the one named is refused (403); an expired one is gone
(410). Every answer is audited with the link as the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine import audit
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Client
from engine.clock import Clock
from engine.errors import Forbidden, Gone, Invalid, NotFound
from engine.referrals.commands import _apply_status
from engine.referrals.link_tokens import decode_token
from engine.referrals.models import Referral
from engine.referrals.records import audit_referral, get_referral, lock_referral
from engine.referrals.states import (
    ACCEPTED,
    COMPLETED,
    DRAFT,
    FAILED,
    IN_PROGRESS,
    ON_HOLD,
    ORGANISATION,
    REJECTED,
    TERMINAL,
)

if TYPE_CHECKING:
    from engine.instances.services import CommandResult

LINK_DAYS = 30
# What the organisation may answer through the link, by the word it uses.
ACTIONS = {
    "accept": ACCEPTED,
    "reject": REJECTED,
    "hold": ON_HOLD,
    "start": IN_PROGRESS,
    "complete": COMPLETED,
    "fail": FAILED,
}


@dataclass(frozen=True)
class Link:
    referral: Referral
    client: Client | None
    issued_at: datetime
    expires_at: datetime

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(None, f"referral-link:{self.referral.id}")


def open_link(
    session: Session,
    *,
    token: str,
    secret: str,
    now: datetime,
    referral_id: int | None = None,
    days: int = LINK_DAYS,
    for_update: bool = False,
) -> Link:
    """The referral the token is for. Raises NotFound (tampered), Forbidden (`referral_id`
    names another referral) or Gone (expired, or the referral is closed)."""
    signed_id, issued = decode_token(secret, token)
    if referral_id is not None and referral_id != signed_id:
        raise Forbidden("This link is for another referral.", code="link_other_referral")
    referral = lock_referral(session, signed_id) if for_update else get_referral(session, signed_id)
    if referral.status == DRAFT:
        raise NotFound("No such referral link.", code="link_not_found")
    expires = issued + timedelta(days=days)
    if now >= expires or referral.status in TERMINAL:
        raise Gone("This referral link has expired.", code="link_expired")
    return Link(referral, session.get(Client, referral.client_id), issued, expires)


def view_by_link(
    session: Session, *, token: str, secret: str, clock: Clock, days: int = LINK_DAYS
) -> Link:
    """Open the link to read the referral (audited: the client's packet was viewed)."""
    link = open_link(session, token=token, secret=secret, now=clock.now(), days=days)
    audit_referral(
        session,
        link.referral,
        actor=link.actor,
        at=clock.now(),
        details={"via": "referral_link"},
        tag=audit.AuditTag.REFERRAL_VIEWED,
    )
    return link


def answer_by_link(
    session: Session,
    *,
    token: str,
    secret: str,
    action: Any,
    clock: Clock,
    reason: Any = None,
    reason_code: Any = None,
    referral_id: int | None = None,
    site: Site = DEFAULT_SITE,
    days: int = LINK_DAYS,
) -> tuple[Link, list[CommandResult]]:
    """The organisation's answer through its link: one Gravity status change (the state
    machine and reason rules apply as for any organisation's answer)."""
    if action not in ACTIONS:
        raise Invalid(
            "Choose an answer.",
            code="invalid_action",
            details=[{"field": "action", "message": f"Choose one of: {', '.join(ACTIONS)}."}],
        )
    link = open_link(
        session,
        token=token,
        secret=secret,
        now=clock.now(),
        referral_id=referral_id,
        days=days,
        for_update=True,
    )
    results = _apply_status(
        session,
        link.referral,
        status=ACTIONS[action],
        source=ORGANISATION,
        reason=reason,
        reason_code=reason_code or None,
        actor=None,
        clock=clock,
        site=site,
        as_actor=link.actor,
    )
    return link, results
