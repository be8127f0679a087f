"""Masking the sensitive sections of a client's record for readers who do not need them.

Sensitive: the suicide-risk items (every C-SSRS answer, PHQ-9 item 9), the interpersonal-
safety items of the AHC screen (q7-q10), form fields marked `"x-sensitive": true` (substance
use) and notes marked sensitive. The outcome stays visible to every reader — score, band,
flags, risk level — so a physician off the team still sees that the client is at high risk,
just not what they answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASKED = "[hidden: care team only]"

# Items per instrument; None = every item.
SENSITIVE_ITEMS: dict[str, tuple[str, ...] | None] = {
    "cssrs": None,
    "phq9": ("q9",),
    "ahc_hrsn": ("q7", "q8", "q9", "q10"),
}
# Keys of audit details / timeline entries that would carry sensitive content.
SENSITIVE_DETAIL_KEYS = ("answers", "body", "note", "substance_use")


def sensitive_items(instrument: str, answers: Mapping[str, Any]) -> list[str]:
    if instrument not in SENSITIVE_ITEMS:
        return []
    items = SENSITIVE_ITEMS[instrument]
    keys = list(answers) if items is None else [k for k in items if k in answers]
    return sorted(keys)


def mask_answers(
    instrument: str, answers: Mapping[str, Any], *, sensitive: bool
) -> tuple[dict[str, Any], list[str]]:
    """(answers with the sensitive items set to None, the names of the masked items)."""
    if sensitive:
        return dict(answers), []
    hidden = sensitive_items(instrument, answers)
    return {k: (None if k in hidden else v) for k, v in answers.items()}, hidden


def sensitive_fields(forms: Iterable[Any]) -> frozenset[str]:
    """Names of the properties marked x-sensitive in any of the given JSON Schemas."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, Mapping):
                if prop.get("x-sensitive") is True:
                    names.add(name)
                walk(prop)
        walk(node.get("items"))

    for schema in forms:
        walk(schema)
    return frozenset(names)


def mask_data(data: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """Task data with every value under a sensitive field name replaced by MASKED, at any
    depth (a form is stored under its task's variable name)."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: (MASKED if k in fields and v not in (None, "") else walk(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(dict(data))


def mask_details(details: Mapping[str, Any], *, sensitive: bool) -> dict[str, Any]:
    """A timeline entry's details without sensitive content for readers off the team."""
    if sensitive:
        return dict(details)
    return {k: (MASKED if k in SENSITIVE_DETAIL_KEYS else v) for k, v in details.items()}
