"""Who on the hospital's side may change referrals, consents and the resource directory
outside a workflow task (a task is governed by its lane, like any other).

Reading is open to everyone who works on cases; these rules cover the writes."""

from __future__ import annotations

from engine.accounts.models import User
from engine.errors import Forbidden
from engine.referrals.states import STAFF_FORM_STATUSES, STATUSES

# The lanes of referral.bpmn (social worker, case manager) and the people who oversee them.
REFERRAL_ROLES = ("social_worker", "case_manager", "supervisor", "admin")
# Keeping the directory accurate is case management's job.
DIRECTORY_ROLES = ("case_manager", "supervisor", "admin")


def can_change_referrals(user: User) -> bool:
    """Record a referral's status, record or revoke a client's consent to share."""
    return user.has_role(*REFERRAL_ROLES)


def can_edit_directory(user: User) -> bool:
    return user.has_role(*DIRECTORY_ROLES)


def require_can_set_status(user: User, status: object) -> None:
    """Forbidden for a role that does not work referrals, and for a status no one sets from
    the status form (`draft`; `requested` needs the Send referral task and its consent check).
    An unknown status is left to record_status, which names the field (422)."""
    if not can_change_referrals(user):
        raise Forbidden("Your role does not allow changing referrals.", code="role_required")
    if status in STATUSES and status not in STAFF_FORM_STATUSES:
        raise Forbidden(
            f"Staff do not set a referral to {status}: it is sent from its Send referral task.",
            code="status_not_allowed",
        )


def require_can_change_consents(user: User) -> None:
    if not can_change_referrals(user):
        raise Forbidden("Your role does not allow recording consent.", code="role_required")


def require_can_edit_directory(user: User) -> None:
    if not can_edit_directory(user):
        raise Forbidden(
            "Only case managers, supervisors and admins edit the directory.", code="role_required"
        )
