"""Clients and their social-work cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

if TYPE_CHECKING:
    from engine.accounts.models import User


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str | None] = mapped_column(String(40), unique=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120), index=True)
    birth_date: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str | None] = mapped_column(String(40))
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The quality reports (engine.reports): a worker's caseload, the discharges of a period.
        Index("ix_cases_primary_social_worker_status", "primary_social_worker_id", "status"),
        Index("ix_cases_discharged_at", "discharged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    primary_social_worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # Set by the discharge message: one discharge pathway per admission (this case).
    discharged_at: Mapped[datetime | None]
    discharge_disposition: Mapped[str | None] = mapped_column(String(20))
    # Admission and the expected discharge, as the caseload shows them (ADT or a person).
    admitted_at: Mapped[datetime | None]
    expected_discharge_at: Mapped[datetime | None]

    client: Mapped[Client] = relationship(lazy="joined")
    primary_social_worker: Mapped[User | None] = relationship(
        foreign_keys=[primary_social_worker_id], lazy="joined"
    )


# A user's role on one case (not their account role): who the client's team is.
CARE_TEAM_ROLES = (
    "primary_social_worker",
    "attending_physician",
    "nurse",
    "case_manager",
    "other",
)


class CareTeamMember(Base):
    """One member of a case's care team: a user of CareBridge, or an external person (name,
    organisation, phone) such as a community physician. Membership is ended, never deleted,
    so "who was on the team when" stays answerable for the audit."""

    __tablename__ = "care_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    case_role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="raise")


class CaseFlagEvent(Base):
    """Who set or removed a client flag on a case, when and why. The reason is care-team
    information (it may name who endangers the client): it stays here, out of the audit
    details and out of the case's JSON."""

    __tablename__ = "case_flag_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    flag: Mapped[str] = mapped_column(String(40))
    value: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseContact(Base):
    """A collateral: family, caregiver, guardian or agency. Consent to share is a scope and
    an expiry (or null: no consent), so outreach never suggests someone the client did not
    agree to."""

    __tablename__ = "case_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship_: Mapped[str] = mapped_column("relationship", String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str | None] = mapped_column(String(40))
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    consent_scope: Mapped[str | None] = mapped_column(String(200))
    consent_expires_on: Mapped[date | None]
    is_legal_decision_maker: Mapped[bool] = mapped_column(default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    def consent_valid(self, today: date) -> bool:
        return self.consent_scope is not None and (
            self.consent_expires_on is None or self.consent_expires_on >= today
        )
