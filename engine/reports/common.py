"""What every report returns and the filters a caller may add."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.reports.period import Period


@dataclass(frozen=True)
class Filters:
    team: str | None = None  # a role key: only work of that role (tasks, crisis, caseload)
    user_id: int | None = None  # only that person's work


@dataclass(frozen=True)
class Query:
    period: Period
    now: datetime
    filters: Filters = field(default_factory=Filters)
    with_cases: bool = False  # also list the cases behind each row (drill-down)


@dataclass
class Report:
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] | None = None
    # The cases behind each row (same order as rows), for the dashboard's drill-down.
    row_cases: list[set[int]] = field(default_factory=list)

    def add(self, row: dict[str, Any], cases: set[int]) -> None:
        self.rows.append({c: row.get(c) for c in self.columns})
        self.row_cases.append({c for c in cases if c is not None})
