"""Closed-loop community referrals: the resource directory, referrals with their status history,
and the client's consents to share with an organisation.

The Referral row is the record of a referral (FHIR Task in the Gravity SDOH IG); the `referral`
process instance is the work around it. Note text lives here, never in audit details.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class CommunityResource(Base):
    """One HSDS service of one organisation (engine.directory.models holds the rest of the
    HSDS shape: organisation, locations, phones, schedules, service areas, taxonomy). The
    flat columns below are the service's own HSDS fields plus a primary address and phone
    kept for the referral screens."""

    __tablename__ = "community_resources"
    __table_args__ = (Index("ix_community_resources_category_status", "category", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # HSDS service id (a re-import updates by it) and the organisation that runs it; the
    # organisation's name stays here too, as referrals and consents name it.
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    organization_name: Mapped[str] = mapped_column(String(200))
    service_name: Mapped[str] = mapped_column(String(200))
    # The care-plan need the service meets (housing, food, ...): HSDS taxonomy, reduced to ours.
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    description: Mapped[str | None] = mapped_column(Text)
    eligibility: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    fees: Mapped[str | None] = mapped_column(String(200))
    assured_date: Mapped[date | None]  # HSDS assured_date: when someone last verified it
    url: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """The client's consent to share information with one recipient organisation."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_client_recipient", "client_id", "recipient_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    recipient: Mapped[str] = mapped_column(String(200))
    recipient_key: Mapped[str] = mapped_column(String(200))  # case- and space-folded recipient
    scope: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def is_current(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and self.given_at <= now
            and (self.expires_at is None or now < self.expires_at)
        )


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_case_need", "case_id", "need"),
        Index("ix_referrals_requested_at", "requested_at"),  # the referrals report
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    need: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("community_resources.id"))
    organization_name: Mapped[str | None] = mapped_column(String(200))
    service_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    previous_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"))
    # Copied from the client when the referral is created and sent: the organisation must
    # not contact the client (FHIR orderDetail contacting-subject-prohibited).
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    order_detail: Mapped[str | None] = mapped_column(String(60))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class ReferralEvent(Base):
    """One status change of a referral: the history a closed loop is judged by."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    # requester (our staff), organisation (a message), staff_recorded (our staff entering the
    # organisation's answer on its behalf) or system.
    source: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
