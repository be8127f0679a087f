"""The few statistics the reports share, defined once (docs/reports.md says how)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime

from engine.reports.period import aware


def minutes(start: datetime, end: datetime) -> float:
    return (aware(end) - aware(start)).total_seconds() / 60


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
