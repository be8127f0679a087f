"""The structured part of each progress-note type, as JSON Schema (validated on save).

Each template is short on purpose: a few fields a supervisor or auditor looks for, with the
narrative in the note's body."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
_DATE = {"type": "string", "format": "date"}


def _template(required: list[str], **props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "counselling": _template(
        ["focus"],
        focus=_TEXT,
        modality={"enum": ["supportive", "grief", "adjustment", "motivational", "other"]},
        plan=_TEXT,
    ),
    "family_meeting": _template(["purpose"], purpose=_TEXT, decisions=_TEXT, follow_up=_TEXT),
    "collateral_contact": _template(
        ["method", "purpose"],
        method={"enum": ["phone", "in_person", "video", "email", "letter"]},
        purpose=_TEXT,
        outcome=_TEXT,
    ),
    "crisis": _template(
        ["presenting_concern", "safety_actions"],
        presenting_concern=_TEXT,
        safety_actions=_TEXT,
        risk_level={"enum": ["none", "low", "moderate", "high"]},
        disposition=_TEXT,
    ),
    "advocacy": _template(
        ["organisation", "issue", "outcome"],
        organisation=_TEXT,
        issue={
            "enum": [
                "insurance denial",
                "benefits application",
                "patient-rights concern",
                "other",
            ]
        },
        outcome=_TEXT,
        next_step=_TEXT,
        next_step_date=_DATE,
    ),
    "education": _template(
        ["topic", "audience"],
        topic=_TEXT,
        audience={"enum": ["patient", "family", "caregiver", "other"]},
        understanding={"enum": ["verbalised", "demonstrated", "needs_reinforcement"]},
    ),
    "interdisciplinary_rounds": _template(
        ["disciplines", "summary"],
        disciplines={"type": "array", "items": _TEXT, "minItems": 1},
        summary=_TEXT,
        actions=_TEXT,
    ),
    "discharge_planning": _template(
        ["anticipated_disposition"],
        anticipated_disposition={
            "enum": ["home", "home_with_services", "snf", "rehab", "hospice", "shelter", "other"]
        },
        barriers=_TEXT,
        next_step=_TEXT,
        next_step_date=_DATE,
    ),
    "other": _template([], topic=_TEXT),
}

NOTE_TYPES = tuple(TEMPLATES)


def note_schema(note_type: str) -> dict[str, Any]:
    """The whole request for one note type: common fields plus that type's template."""
    return {
        "type": "object",
        "required": ["type", "body"],
        "properties": {
            "type": {"enum": list(NOTE_TYPES)},
            "body": {"type": "string", "minLength": 1, "maxLength": 20000},
            "minutes": {"type": ["integer", "null"], "minimum": 0, "maximum": 1440},
            "participants": {"type": "array", "items": {"type": "string", "maxLength": 200}},
            "contact_id": {"type": ["integer", "null"]},
            "sensitive": {"type": "boolean"},
            "fields": TEMPLATES.get(note_type, {"type": "object"}),
        },
        "additionalProperties": False,
    }


SCHEMAS = {key: note_schema(key) for key in NOTE_TYPES}
# Used only to name a bad or missing type.
TYPE_SCHEMA = note_schema("other")
