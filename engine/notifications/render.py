"""What each channel carries, built from a row's payload only: ids, priority, role, reason
and due time, plus a link. No client name, task name, answers or diagnoses: an e-mail or a
pager may be read by anyone near the device."""

from __future__ import annotations

import hashlib
import hmac
import json

from engine.notifications.outbox import Message

SIGNATURE_HEADER = "X-CareBridge-Signature"

_KIND_TEXT = {
    "stat_task": "A STAT task is assigned to you",
    "fallback": "A STAT task has nobody on call: you are the safety net",
    "escalation": "A STAT task has not been acknowledged: escalated to you",
    "re_alert": "STILL not acknowledged: a STAT task needs someone now",
}


def email(message: Message, *, base_url: str) -> tuple[str, str]:
    """(subject, body) of the e-mail for one row."""
    p = message.payload
    headline = _KIND_TEXT.get(message.kind, "CareBridge alert")
    subject = f"[CareBridge {str(p.get('priority', '')).upper()}] {headline} (task {p['task_id']})"
    link = f"{base_url.rstrip('/')}/tasks/{p['task_id']}"
    body = (
        f"{headline}.\n\n"
        f"Task: {p['task_id']}\n"
        f"Case: {p.get('case_id')}\n"
        f"Role: {p.get('role')}\n"
        f"Reason: {p.get('reason')}\n"
        f"Due: {p.get('due')}\n\n"
        f"Open and acknowledge it: {link}\n"
    )
    return subject, body


def webhook_body(message: Message) -> bytes:
    """The exact bytes that are signed and sent."""
    p = message.payload
    body = {
        "notification_id": message.id,
        "kind": message.kind,
        "task_id": p["task_id"],
        "case_id": p.get("case_id"),
        "priority": p.get("priority"),
        "role": p.get("role"),
        "reason": p.get("reason"),
        "due": p.get("due"),
        "recipient": message.recipient,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def signature(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
