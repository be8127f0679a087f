"""The small form of an escalation task: what the person alerted did."""

from __future__ import annotations

from typing import Any

ESCALATION_FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Escalation response",
    "description": "Completing this also acknowledges the STAT task it escalates.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "action": {
            "title": "What you did",
            "type": "string",
            "oneOf": [
                {"const": "reached_assignee", "title": "Reached the task's holder, who is acting"},
                {"const": "reassigned", "title": "Handed the task to someone who can act now"},
                {"const": "took_over", "title": "Took it over or went myself"},
                {"const": "other", "title": "Something else (describe it)"},
            ],
        },
        "note": {
            "title": "Note",
            "description": "Shown to the care team only.",
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "x-sensitive": True,
        },
    },
    "required": ["action"],
    "if": {"properties": {"action": {"const": "other"}}, "required": ["action"]},
    "then": {"required": ["note"]},
}
