from engine.audit.models import AuditEvent
from engine.audit.services import (
    SYSTEM,
    Actor,
    AuditTag,
    ChainReport,
    actor_of,
    events_for_case,
    record,
    verify_chain,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "AuditEvent",
    "AuditTag",
    "ChainReport",
    "actor_of",
    "events_for_case",
    "record",
    "verify_chain",
]
