from engine.notifications.models import CHANNELS, KINDS, STATUSES, Notification
from engine.notifications.outbox import (
    Channel,
    DeliveryError,
    Message,
    backoff,
    claim_due,
    mark_failed_attempt,
    mark_sent,
    release,
)
from engine.notifications.render import SIGNATURE_HEADER, email, signature, webhook_body
from engine.notifications.services import (
    alert,
    channels,
    configure,
    configure_from,
    for_case,
    status_counts,
    timeline,
)

__all__ = [
    "CHANNELS",
    "KINDS",
    "SIGNATURE_HEADER",
    "STATUSES",
    "Channel",
    "DeliveryError",
    "Message",
    "Notification",
    "alert",
    "backoff",
    "channels",
    "claim_due",
    "configure",
    "configure_from",
    "email",
    "for_case",
    "mark_failed_attempt",
    "mark_sent",
    "release",
    "signature",
    "status_counts",
    "timeline",
    "webhook_body",
]
