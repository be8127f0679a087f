"""The discharge message's payload, checked before anything moves (422 naming the field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.errors import Invalid

DISPOSITIONS = ("home", "home_health", "snf", "rehab", "hospice", "ama", "expired", "other")
DEFAULT_DISPOSITION = "other"


@dataclass(frozen=True)
class Discharge:
    discharged_at: datetime  # aware
    disposition: str
    # None: the sender did not say; the case's own behavioural-health flag then decides.
    behavioral_health: bool | None


def parse_discharge(payload: Any) -> Discharge:
    if not isinstance(payload, Mapping):
        raise Invalid(
            "The payload must be an object.",
            code="invalid_message",
            details=[{"field": "payload", "message": "Must be an object."}],
        )
    errors: list[dict[str, str]] = []
    discharged_at = _discharged_at(payload.get("discharged_at"), errors)
    # Absent: a standard discharge (neither expired nor AMA). Present: one of the list.
    disposition = payload.get("disposition", DEFAULT_DISPOSITION)
    if disposition not in DISPOSITIONS:
        errors.append(
            {"field": "disposition", "message": f"Choose one of: {', '.join(DISPOSITIONS)}."}
        )
    behavioral_health = payload.get("behavioral_health")
    if behavioral_health is not None and not isinstance(behavioral_health, bool):
        errors.append({"field": "behavioral_health", "message": "Must be true or false."})
    if errors:
        raise Invalid(
            "The discharge message needs attention.", code="invalid_message", details=errors
        )
    assert discharged_at is not None
    return Discharge(discharged_at, str(disposition), behavioral_health)


def _discharged_at(value: Any, errors: list[dict[str, str]]) -> datetime | None:
    if value is None or value == "":
        errors.append({"field": "discharged_at", "message": "This field is required."})
        return None
    if not isinstance(value, str):
        errors.append({"field": "discharged_at", "message": "Must be an ISO-8601 date-time."})
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.append({"field": "discharged_at", "message": "Must be an ISO-8601 date-time."})
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        # A naive time would be read in some server's zone: the deadlines would silently move.
        errors.append(
            {
                "field": "discharged_at",
                "message": "Give the UTC offset (e.g. 2026-11-27T10:30-05:00).",
            }
        )
        return None
    return parsed
