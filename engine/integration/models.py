"""What the hospital's interfaces sent us: processed HL7 messages (for idempotent re-ACKs),
admissions recorded from ADT, and the errors an administrator must look at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow


class Hl7Message(Base):
    """One processed message per control id (MSH-10): a repeat gets the stored ACK back and
    changes nothing. Only ids and codes are kept, never the message text (it is PHI)."""

    __tablename__ = "hl7_messages"
    __table_args__ = (UniqueConstraint("control_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    control_id: Mapped[str] = mapped_column(String(64))
    message_type: Mapped[str] = mapped_column(String(20))
    ack_code: Mapped[str] = mapped_column(String(2))
    ack_text: Mapped[str] = mapped_column(String(200), default="")
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Admission(Base):
    """An inpatient visit announced by ADT A01/A04 (PV1-19 visit number, PV1-44 admit time)."""

    __tablename__ = "admissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    visit_number: Mapped[str | None] = mapped_column(String(40))
    admitted_at: Mapped[datetime | None]
    discharged_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|cancelled|ended
    control_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrationError(Base):
    """A message CareBridge could not apply: shown to administrators until resolved."""

    __tablename__ = "integration_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # hl7 | fhir
    control_id: Mapped[str | None] = mapped_column(String(64))
    message_type: Mapped[str | None] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None]


class Consult(Base):
    """A social-work consult ordered in the hospital record (FHIR ServiceRequest in)."""

    __tablename__ = "consults"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    reason: Mapped[str] = mapped_column(Text)
    requester: Mapped[str | None] = mapped_column(String(200))
    opened_case: Mapped[bool] = mapped_column(default=False)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
