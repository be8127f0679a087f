"""Imports every model so Base.metadata is complete (for Alembic and tests)."""

from engine.access.models import BreakGlassGrant
from engine.accounts.models import ApiToken, LoginFailure, Role, User, UserRole, UserSession
from engine.assessments.models import Assessment
from engine.audit.models import AuditEvent, AuditHead
from engine.cases.models import CareTeamMember, Case, CaseFlagEvent, Client
from engine.db import Base
from engine.definitions.models import ProcessDefinition
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.notifications.models import Notification
from engine.oncall.models import OnCallShift
from engine.referrals.models import CommunityResource, Consent, Referral, ReferralEvent
from engine.timers.models import Timer

__all__ = [
    "ApiToken",
    "Assessment",
    "AuditEvent",
    "AuditHead",
    "Base",
    "BreakGlassGrant",
    "CareTeamMember",
    "Case",
    "CaseFlagEvent",
    "Client",
    "CommunityResource",
    "Consent",
    "HumanTask",
    "LoginFailure",
    "Notification",
    "OnCallShift",
    "ProcessDefinition",
    "ProcessInstance",
    "Referral",
    "ReferralEvent",
    "Role",
    "Timer",
    "User",
    "UserRole",
    "UserSession",
]
