"""ISO-8601 checks for the durations, date-times and repeating intervals a diagram holds.

Each check returns why a text is unusable, or None. Every one ends with SpiffWorkflow's own
parser, so deploy time and run time agree on what is valid.
"""

from __future__ import annotations

import re
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

__all__ = ["BARE_ISO", "cycle_error", "datetime_error", "duration_error"]

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_CYCLE = re.compile(r"R\d*/.+")
# Unquoted text that a modeller meant as an ISO-8601 value, not as a variable name.
BARE_ISO = re.compile(rf"(?:R\d*/.*|{_DURATION.pattern}|\d{{4}}-\d\d-\d\d.*)")


def duration_error(text: str) -> str | None:
    """Why `text` is not an ISO-8601 duration SpiffWorkflow can use, or None."""
    if not _DURATION.fullmatch(text):
        return "expected an ISO-8601 duration such as PT24H, P2D or P1W"
    try:
        # The runtime's own parser, so deploy time and run time agree on what is valid.
        TimerEventDefinition.parse_iso_duration(text)
    except Exception as exc:  # it raises a bare Exception('Invalid duration')
        return str(exc) or "invalid duration"
    return None


def datetime_error(text: str) -> str | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return "expected an ISO-8601 date-time such as 2026-03-02T09:00:00+00:00"
    if value.tzinfo is None:
        return (
            "has no UTC offset and would be read in the server's time zone; "
            "add one, e.g. 2026-03-02T09:00:00-05:00"
        )
    return None


def cycle_error(text: str) -> str | None:
    if not _CYCLE.fullmatch(text):
        return "expected an ISO-8601 repeating interval such as R3/PT1H"
    parts = text.replace("--", "/").split("/")[1:]
    if len(parts) not in (1, 2) or not any(p.startswith("P") for p in parts):
        return "expected R<n>/<duration>, R<n>/<start>/<duration> or R<n>/<duration>/<end>"
    for part in parts:
        error = duration_error(part) if part.startswith("P") else datetime_error(part)
        if error:
            return f"{part}: {error}"
    try:
        TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as exc:  # the runtime's parser raises bare Exceptions
        return str(exc) or "invalid repeating interval"
    return None
