"""The administrators' list of messages CareBridge could not apply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.integration.models import IntegrationError


def list_errors(
    session: Session, *, include_resolved: bool = False, limit: int = 200
) -> list[IntegrationError]:
    stmt = select(IntegrationError).order_by(IntegrationError.at.desc(), IntegrationError.id.desc())
    if not include_resolved:
        stmt = stmt.where(IntegrationError.resolved_at.is_(None))
    return list(session.scalars(stmt.limit(limit)))
