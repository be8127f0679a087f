"""The referral domain's service surface, for callers that import the services module
(engine.instances does, to call the task hooks and hand over `referral_status` messages).

The code lives in one module per concern:

* `states`: the Gravity/FHIR Task state machine (statuses, transitions, who may set what);
* `records`: reading referrals and their history, the one place a status changes;
* `consent`: the client's consent to share with an organisation;
* `directory`: the community resource directory;
* `commands`: start, send, status changes, cancel, closing a finished pathway's referrals;
* `workflow_hooks`: what completing a human task means for referrals;
* `permissions`: who may change referrals, consents and the directory outside a task.
"""

from __future__ import annotations

from engine.referrals.commands import (
    CASE_CLOSED_REASON,
    CONTACTING_SUBJECT_PROHIBITED,
    PROCESS_KEY,
    STATUS_MESSAGE,
    cancel_referral,
    close_referrals_of,
    handle_status_message,
    record_status,
    send_referral,
    start_referrals,
)
from engine.referrals.consent import (
    CONSENT_SCOPES,
    DEFAULT_CONSENT_DAYS,
    DEFAULT_CONSENT_SCOPE,
    ConsentGiven,
    consents_for_client,
    current_consent,
    recipient_key,
    record_consent,
    revoke_consent,
    view_consents,
)
from engine.referrals.directory import find_resources, save_resource
from engine.referrals.records import (
    get_referral,
    referral_history,
    referrals_for_case,
    view_referral,
)
from engine.referrals.states import (
    ACCEPTED,
    ALLOWED_BY_SOURCE,
    CANCELLED,
    COMPLETED,
    DRAFT,
    ENTERED_IN_ERROR,
    FAILED,
    IN_PROGRESS,
    MAX_REASON,
    ON_HOLD,
    OPEN,
    ORGANISATION,
    REASON_CODES,
    REASON_REQUIRED,
    REJECTED,
    REQUESTED,
    REQUESTER,
    STAFF_FORM_STATUSES,
    STAFF_RECORDED,
    STATUSES,
    SYSTEM,
    TERMINAL,
    TRANSITIONS,
    check_transition,
    legal_next,
)
from engine.referrals.workflow_hooks import (
    ANSWER_DEADLINE_BUSINESS_DAYS,
    NO_STEP,
    TaskStep,
    after_task_completion,
    before_task_completion,
)

__all__ = [
    "ACCEPTED",
    "ALLOWED_BY_SOURCE",
    "ANSWER_DEADLINE_BUSINESS_DAYS",
    "CANCELLED",
    "CASE_CLOSED_REASON",
    "COMPLETED",
    "CONSENT_SCOPES",
    "CONTACTING_SUBJECT_PROHIBITED",
    "DEFAULT_CONSENT_DAYS",
    "DEFAULT_CONSENT_SCOPE",
    "DRAFT",
    "ENTERED_IN_ERROR",
    "FAILED",
    "IN_PROGRESS",
    "MAX_REASON",
    "NO_STEP",
    "ON_HOLD",
    "OPEN",
    "ORGANISATION",
    "PROCESS_KEY",
    "REASON_CODES",
    "REASON_REQUIRED",
    "REJECTED",
    "REQUESTED",
    "REQUESTER",
    "STAFF_FORM_STATUSES",
    "STAFF_RECORDED",
    "STATUSES",
    "STATUS_MESSAGE",
    "SYSTEM",
    "TERMINAL",
    "TRANSITIONS",
    "ConsentGiven",
    "TaskStep",
    "after_task_completion",
    "before_task_completion",
    "cancel_referral",
    "check_transition",
    "close_referrals_of",
    "consents_for_client",
    "current_consent",
    "find_resources",
    "get_referral",
    "handle_status_message",
    "legal_next",
    "recipient_key",
    "record_consent",
    "record_status",
    "referral_history",
    "referrals_for_case",
    "revoke_consent",
    "save_resource",
    "send_referral",
    "start_referrals",
    "view_consents",
    "view_referral",
]
