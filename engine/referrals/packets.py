"""The referral packet: what leaves the hospital when a referral is sent, written to the
notification outbox in the sending transaction and delivered after commit (e-mail to the
organisation's intake address, or its webhook).

Minimum necessary, with the consent already checked by send_referral: the client's name,
language and interpreter need, a phone number unless the client must not be contacted, the
need, and only the notes the worker chose to share. The answer link is signed at delivery
time from `referral_id` and `issued_at` (the secret stays out of the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.cases.models import Client
from engine.directory.models import Organization
from engine.notifications.models import Notification
from engine.referrals.link_tokens import make_token
from engine.referrals.models import CommunityResource, Referral

PACKET_KIND = "referral_packet"
MAX_SHARED_NOTES = 2000


def packet_payload(
    referral: Referral, client: Client, *, notes: str | None, now: datetime
) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "name": client.display_name,
        "preferred_language": client.preferred_language,
        "interpreter_needed": client.interpreter_needed,
    }
    if not referral.do_not_contact:
        contact["phone"] = client.phone
    return {
        "referral_id": referral.id,
        "issued_at": now.isoformat(),
        "organization": referral.organization_name,
        "service": referral.service_name,
        "need": referral.need,
        "client": contact,
        "do_not_contact": referral.do_not_contact,
        "order_detail": referral.order_detail,
        "notes": (notes or "").strip()[:MAX_SHARED_NOTES] or None,
    }


def destination(session: Session, referral: Referral) -> tuple[str, str] | None:
    """(channel, address) of the organisation's intake: its e-mail, else its webhook."""
    if referral.resource_id is None:
        return None
    service = session.get(CommunityResource, referral.resource_id)
    if service is None:
        return None
    org = session.get(Organization, service.organization_id) if service.organization_id else None
    if org is not None and org.email:
        return ("email", org.email)
    if service.email:
        return ("email", service.email)
    if org is not None and org.webhook_url:
        return ("webhook", org.webhook_url)
    return None


def queue_packet(
    session: Session, *, referral: Referral, client: Client, notes: str | None, now: datetime
) -> Notification | None:
    """One outbox row for the packet; None when the organisation has no intake address in
    the directory (the worker then sends it by hand, as before)."""
    where = destination(session, referral)
    if where is None:
        return None
    channel, address = where
    payload = packet_payload(referral, client, notes=notes, now=now)
    payload["to" if channel == "email" else "webhook_url"] = address
    row = Notification(
        kind=PACKET_KIND,
        channel=channel,
        case_id=referral.case_id,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


def link_for(payload: dict[str, Any], *, base_url: str, secret: str) -> str:
    token = make_token(
        secret,
        referral_id=int(payload["referral_id"]),
        issued_at=datetime.fromisoformat(payload["issued_at"]),
    )
    return f"{base_url.rstrip('/')}/r/{token}"


def packet_email(payload: dict[str, Any], *, base_url: str, secret: str) -> tuple[str, str]:
    """(subject, body) of the packet e-mail to the organisation's intake address."""
    client = payload.get("client") or {}
    lines = [
        f"A referral for {payload.get('service')} ({payload.get('need')}).",
        "",
        f"Client: {client.get('name')}",
    ]
    if payload.get("do_not_contact"):
        lines.append(
            "DO NOT CONTACT THE CLIENT DIRECTLY (contacting-subject-prohibited): "
            "work through the referring care team."
        )
    else:
        lines.append(f"Phone: {client.get('phone') or 'not given'}")
    lines.append(f"Preferred language: {client.get('preferred_language') or 'not recorded'}")
    lines.append(f"Interpreter needed: {'yes' if client.get('interpreter_needed') else 'no'}")
    if payload.get("notes"):
        lines += ["", "Notes from the referring social worker:", str(payload["notes"])]
    lines += [
        "",
        "Accept, decline (with a reason), put on hold or report the outcome here; no account",
        "is needed and the link works for this referral only:",
        link_for(payload, base_url=base_url, secret=secret),
    ]
    subject = f"[CareBridge] Referral {payload['referral_id']}: {payload.get('need')}"
    return subject, "\n".join(lines) + "\n"


def packet_webhook_body(payload: dict[str, Any], *, base_url: str, secret: str) -> dict[str, Any]:
    """The JSON the organisation's webhook receives: the packet and its answer link."""
    body = {k: v for k, v in payload.items() if k not in ("to", "webhook_url", "issued_at")}
    body["kind"] = PACKET_KIND
    body["answer_url"] = link_for(payload, base_url=base_url, secret=secret)
    return body
