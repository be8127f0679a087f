from engine.audit.anchors import append_anchor, check_anchor, latest_anchor, make_anchor
from engine.audit.models import AuditEvent, AuditHead
from engine.audit.services import (
    SYSTEM,
    Actor,
    AuditKeyMissing,
    AuditTag,
    ChainReport,
    LegacyChainError,
    actor_of,
    configure_key,
    events_for_case,
    record,
    rekey_legacy_chain,
    verify_chain,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "AuditEvent",
    "AuditHead",
    "AuditKeyMissing",
    "AuditTag",
    "ChainReport",
    "actor_of",
    "LegacyChainError",
    "append_anchor",
    "check_anchor",
    "configure_key",
    "events_for_case",
    "latest_anchor",
    "make_anchor",
    "record",
    "rekey_legacy_chain",
    "verify_chain",
]
