"""Imports every model so Base.metadata is complete (for Alembic and tests)."""

from engine.accounts.models import ApiToken, LoginFailure, Role, User, UserRole, UserSession
from engine.assessments.models import Assessment
from engine.audit.models import AuditEvent
from engine.cases.models import Case, Client
from engine.db import Base
from engine.definitions.models import ProcessDefinition
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.referrals.models import CommunityResource, Consent, Referral, ReferralEvent
from engine.timers.models import Timer

__all__ = [
    "ApiToken",
    "Assessment",
    "AuditEvent",
    "Base",
    "Case",
    "Client",
    "CommunityResource",
    "Consent",
    "HumanTask",
    "LoginFailure",
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
