"""Audit actions of the alarm ladder (strings beside engine.audit.AuditTag, which other
branches also extend: kept here so merging stays a one-file affair)."""

ACKNOWLEDGED = "case:task:acknowledged"
ESCALATED = "case:task:escalated"
ESCALATION_CLOSED = "case:task:escalation_closed"
ESCALATION_COMPLETED = "case:task:escalation_completed"
