"""Server-rendered bar charts of the reports (SVG built in the template; no script)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Per report: which columns label a row, and which figure the chart draws.
LABELS: dict[str, tuple[str, ...]] = {
    "tasks": ("bpmn_id", "role"),
    "crisis": ("week",),
    "tcm": ("week",),
    "fuh": ("week",),
    "referrals": ("need", "organization"),
    "caseload": ("user",),
    "screening": ("instrument", "band"),
}
CHARTED: dict[str, tuple[str, str]] = {
    "tasks": ("completed", "Tasks completed"),
    "crisis": ("median_minutes_to_acknowledge", "Median minutes to acknowledge"),
    "tcm": ("contact_within_deadline_pct", "Contact within the deadline (%)"),
    "fuh": ("fuh_7_day_pct", "Follow-up visit within 7 days (%)"),
    "referrals": ("loop_closed_pct", "Loop closed (%)"),
    "caseload": ("open_cases", "Open cases"),
    "screening": ("screens", "Screens"),
}
BAR_HEIGHT, GAP, LABEL_WIDTH, WIDTH = 18, 6, 220, 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    y: int
    width: float  # in px, of the drawable width


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = WIDTH


def row_label(name: str, row: dict[str, Any]) -> str:
    return " · ".join(str(row[c]) for c in LABELS[name] if row.get(c) not in (None, ""))


def chart(name: str, rows: list[dict[str, Any]]) -> Chart:
    column, title = CHARTED[name]
    values = [r.get(column) for r in rows]
    top = max((v for v in values if isinstance(v, int | float)), default=0) or 1
    drawable = WIDTH - LABEL_WIDTH - 60  # room for the value after the bar
    bars = [
        Bar(
            row_label(name, row),
            value,
            i * (BAR_HEIGHT + GAP),
            (value / top) * drawable if isinstance(value, int | float) else 0,
        )
        for i, (row, value) in enumerate(zip(rows, values, strict=True))
    ]
    return Chart(title, bars, max(len(bars), 1) * (BAR_HEIGHT + GAP))
