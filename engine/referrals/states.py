"""The referral state machine: FHIR Task statuses as the Gravity SDOH Clinical Care IG uses them,
which moves are legal, who may make each one, and which need a reason.

Pure rules, no database: `check_transition` is the one gate every status change passes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import Conflict, Forbidden, Invalid

DRAFT = "draft"
REQUESTED = "requested"
ACCEPTED = "accepted"
REJECTED = "rejected"
IN_PROGRESS = "in-progress"
ON_HOLD = "on-hold"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
ENTERED_IN_ERROR = "entered-in-error"

STATUSES = (
    DRAFT,
    REQUESTED,
    ACCEPTED,
    REJECTED,
    IN_PROGRESS,
    ON_HOLD,
    COMPLETED,
    FAILED,
    CANCELLED,
    ENTERED_IN_ERROR,
)
# CARE.md, "Closed-loop referral state machine", plus `draft`: the referral exists (its need
# is in the care plan) but nothing has left the hospital yet. FHIR Task has the same status;
# the organisation never sees it. Any status may further become entered-in-error.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    DRAFT: frozenset({REQUESTED, CANCELLED}),
    REQUESTED: frozenset({ACCEPTED, REJECTED, CANCELLED}),
    ACCEPTED: frozenset({IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, CANCELLED}),
    IN_PROGRESS: frozenset({ON_HOLD, COMPLETED, FAILED, CANCELLED}),
    ON_HOLD: frozenset({IN_PROGRESS, COMPLETED, FAILED, CANCELLED}),
    REJECTED: frozenset(),
    COMPLETED: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
    ENTERED_IN_ERROR: frozenset(),
}
TERMINAL = frozenset({REJECTED, COMPLETED, FAILED, CANCELLED, ENTERED_IN_ERROR})
OPEN = frozenset(STATUSES) - TERMINAL
REASON_REQUIRED = frozenset({REJECTED, CANCELLED, ON_HOLD, FAILED})
REASON_CODES = ("couldnt_contact", "not_eligible", "no_capacity", "declined", "got_help")
MAX_REASON = 1000

# Who may set what: the requester (our staff) sends, cancels; the receiving organisation sets
# the rest. Our staff may record an organisation's answer on its behalf (staff_recorded).
REQUESTER = "requester"
ORGANISATION = "organisation"
STAFF_RECORDED = "staff_recorded"
SYSTEM = "system"
ALLOWED_BY_SOURCE: Mapping[str, frozenset[str]] = {
    REQUESTER: frozenset({REQUESTED, CANCELLED, ENTERED_IN_ERROR}),
    ORGANISATION: frozenset(
        {ACCEPTED, REJECTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, ENTERED_IN_ERROR}
    ),
    STAFF_RECORDED: frozenset(
        {ACCEPTED, REJECTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED, ENTERED_IN_ERROR}
    ),
}
# Statuses a staff member may set from the referral's status form (referral_status.schema).
# `requested` is not one of them: a referral leaves the hospital only through its Send
# referral task, which checks consent.
STAFF_FORM_STATUSES = (
    ACCEPTED,
    REJECTED,
    IN_PROGRESS,
    ON_HOLD,
    COMPLETED,
    FAILED,
    CANCELLED,
    ENTERED_IN_ERROR,
)


def legal_next(status: str) -> frozenset[str]:
    """The statuses a referral in `status` may move to."""
    allowed = TRANSITIONS.get(status, frozenset())
    return allowed if status == ENTERED_IN_ERROR else allowed | {ENTERED_IN_ERROR}


def staff_source(status: str) -> str:
    """The source a staff member's status form writes: cancelling or correcting is the
    requester's own decision; any other status is the organisation's answer, recorded."""
    return REQUESTER if status in (CANCELLED, ENTERED_IN_ERROR) else STAFF_RECORDED


def _clean_reason(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise Invalid(
            "The reason must be text.",
            code="invalid_reason",
            details=[{"field": "reason", "message": "Must be text."}],
        )
    return reason.strip() or None


def check_transition(
    current: str,
    new: Any,
    *,
    source: str,
    reason: Any = None,
    reason_code: Any = None,
) -> tuple[str | None, str | None]:
    """Refuse what the state machine does not allow; return the cleaned (reason, reason_code).

    Raises Invalid (unknown status or coded reason, missing reason), Forbidden (a status this
    party may not set) or Conflict `illegal_transition`."""
    if not isinstance(new, str) or new not in STATUSES:
        raise Invalid(
            "Unknown referral status.",
            code="invalid_status",
            details=[{"field": "status", "message": f"Choose one of: {', '.join(STATUSES)}."}],
        )
    if new not in ALLOWED_BY_SOURCE.get(source, frozenset()):
        who = "the referring team" if new in ALLOWED_BY_SOURCE[REQUESTER] else "the organisation"
        raise Forbidden(f"Only {who} can set a referral to {new}.", code="status_not_allowed")
    if new not in legal_next(current):
        raise Conflict(
            f"A referral that is {current} cannot become {new}.", code="illegal_transition"
        )
    text = _clean_reason(reason)
    if new in REASON_REQUIRED and not text:
        raise Invalid(
            f"A reason is required to set a referral to {new}.",
            code="reason_required",
            details=[{"field": "reason", "message": "This field is required."}],
        )
    if text is not None and len(text) > MAX_REASON:
        raise Invalid(
            "The reason is too long.",
            code="invalid_reason",
            details=[{"field": "reason", "message": f"At most {MAX_REASON} characters."}],
        )
    if reason_code is not None and reason_code not in REASON_CODES:
        raise Invalid(
            "Unknown coded reason.",
            code="invalid_reason_code",
            details=[
                {"field": "reason_code", "message": f"Choose one of: {', '.join(REASON_CODES)}."}
            ],
        )
    return text, reason_code
