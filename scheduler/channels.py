"""The real channels behind engine.notifications.Channel: SMTP and a signed webhook.
Each returns only when the other side accepted the message; anything else raises
DeliveryError (permanent when retrying cannot help)."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from engine import notifications
from engine.notifications import DeliveryError, Message
from engine.referrals import packets
from engine.settings import Settings

TIMEOUT_S = 10.0


class SmtpChannel:
    def __init__(self, url: str, *, sender: str, base_url: str, secret: str = "") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("CAREBRIDGE_SMTP_URL must look like smtp://host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.base_url = base_url
        self.secret = secret  # signs referral packets' answer links

    def send(self, message: Message) -> None:
        to = message.recipient_email
        if message.kind == packets.PACKET_KIND:
            # A referral packet goes to the organisation's intake address, not to a user.
            to = message.payload.get("to")
            subject, body = packets.packet_email(
                message.payload, base_url=self.base_url, secret=self.secret
            )
        else:
            subject, body = notifications.email(message, base_url=self.base_url)
        if not to:
            raise DeliveryError("the recipient has no e-mail address", permanent=True)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = subject
        mail["X-CareBridge-Notification"] = str(message.id)
        mail.set_content(body)
        client = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        try:
            with client(self.host, self.port, timeout=TIMEOUT_S) as smtp:
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                # send_message raises unless the server answered 250 for the recipient.
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc


class WebhookChannel:
    def __init__(self, url: str, *, secret: str, base_url: str = "", link_secret: str = "") -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("CAREBRIDGE_PAGING_WEBHOOK_URL must be an http(s) URL")
        self.url = url
        self.secret = secret
        self.base_url = base_url
        self.link_secret = link_secret

    def send(self, message: Message) -> None:
        url = self.url
        if message.kind == packets.PACKET_KIND:
            # The organisation's own webhook (https only, checked at import).
            url = str(message.payload.get("webhook_url") or "")
            if urlsplit(url).scheme != "https":
                raise DeliveryError("the organisation has no https webhook", permanent=True)
            packet = packets.packet_webhook_body(
                message.payload, base_url=self.base_url, secret=self.link_secret
            )
            body = json.dumps(packet, sort_keys=True, separators=(",", ":")).encode()
        else:
            body = notifications.webhook_body(message)
        request = urllib.request.Request(  # noqa: S310  (scheme checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                notifications.SIGNATURE_HEADER: notifications.signature(body, self.secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook: HTTP {status}")


def from_settings(settings: Settings) -> dict[str, notifications.Channel]:
    """The configured channels by name; an unconfigured one is absent (its rows then fail
    with a clear error instead of waiting forever)."""
    channels: dict[str, notifications.Channel] = {}
    if settings.smtp_url:
        channels["email"] = SmtpChannel(
            settings.smtp_url,
            sender=settings.mail_from,
            base_url=settings.public_url,
            secret=settings.secret_key,
        )
    if settings.paging_webhook_url:
        if not settings.paging_webhook_secret:
            raise ValueError("CAREBRIDGE_PAGING_WEBHOOK_SECRET is required with the webhook URL")
        channels["webhook"] = WebhookChannel(
            settings.paging_webhook_url,
            secret=settings.paging_webhook_secret,
            base_url=settings.public_url,
            link_secret=settings.secret_key,
        )
    return channels
