"""Imports every model so Base.metadata is complete (for Alembic and tests)."""

from engine.access.models import BreakGlassGrant
from engine.accounts.models import ApiToken, LoginFailure, Role, User, UserRole, UserSession
from engine.assessments.models import Assessment
from engine.audit.models import AuditEvent, AuditHead
from engine.caseload.models import Handoff
from engine.cases.models import CareTeamMember, Case, CaseContact, CaseFlagEvent, Client
from engine.db import Base
from engine.definitions.models import ProcessCurrentVersion, ProcessDefinition, ProcessDraft
from engine.directory.models import (
    Location,
    Organization,
    Phone,
    Schedule,
    ServiceArea,
    ServiceAtLocation,
    ServiceTaxonomy,
    TaxonomyTerm,
)
from engine.drafts.models import TaskDraft
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.integration.models import Admission, Consult, Hl7Message, IntegrationError
from engine.notes.models import NoteAddendum, ProgressNote
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
    "CaseContact",
    "CaseFlagEvent",
    "Client",
    "CommunityResource",
    "Consent",
    "Admission",
    "Consult",
    "Handoff",
    "Hl7Message",
    "HumanTask",
    "IntegrationError",
    "NoteAddendum",
    "Location",
    "Organization",
    "Phone",
    "Schedule",
    "ServiceArea",
    "ServiceAtLocation",
    "ServiceTaxonomy",
    "TaxonomyTerm",
    "LoginFailure",
    "Notification",
    "OnCallShift",
    "ProcessCurrentVersion",
    "ProcessDefinition",
    "ProcessDraft",
    "ProcessInstance",
    "ProgressNote",
    "Referral",
    "TaskDraft",
    "ReferralEvent",
    "Role",
    "Timer",
    "User",
    "UserRole",
    "UserSession",
]
