"""The community resource directory in the shape of Open Referral HSDS 3.0.

The service row is `community_resources` (engine.referrals.models.CommunityResource): it kept
its table and ids when the directory moved from one flat table to HSDS, so every referral
still points at the service it was sent to. Everything else hangs off it here. Each imported
row keeps its HSDS id (`hsds_id`): a re-import updates the row with the same id."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Where referral packets go: the intake e-mail, or a webhook (a CareBridge extension).
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    webhook_url: Mapped[str | None] = mapped_column(String(300))


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]


class ServiceAtLocation(Base):
    __tablename__ = "service_at_locations"
    __table_args__ = (UniqueConstraint("service_id", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("community_resources.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))


class Phone(Base):
    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("community_resources.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    number: Mapped[str] = mapped_column(String(40))
    type: Mapped[str | None] = mapped_column(String(20))


class Schedule(Base):
    """Regular opening hours (HSDS `schedules` with freq=WEEKLY): the days (`byday`, iCal
    two-letter codes) and the local times the service opens and closes, in the site zone."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("community_resources.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    byday: Mapped[str] = mapped_column(String(40))
    opens_at: Mapped[str] = mapped_column(String(5))  # HH:MM
    closes_at: Mapped[str] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(Text)


class ServiceArea(Base):
    __tablename__ = "service_areas"
    __table_args__ = (UniqueConstraint("service_id", "postal_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100))
    service_id: Mapped[int] = mapped_column(ForeignKey("community_resources.id"), index=True)
    postal_code: Mapped[str] = mapped_column(String(20), index=True)


class TaxonomyTerm(Base):
    """A taxonomy term and the CareBridge need it maps to (None: a term we do not match on)."""

    __tablename__ = "taxonomy_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    hsds_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    taxonomy: Mapped[str | None] = mapped_column(String(100))
    need: Mapped[str | None] = mapped_column(String(40), index=True)


class ServiceTaxonomy(Base):
    """HSDS `attributes` linking a service to a taxonomy term."""

    __tablename__ = "service_taxonomies"
    __table_args__ = (UniqueConstraint("service_id", "term_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("community_resources.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_terms.id"))
