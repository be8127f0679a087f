"""The period a report covers: whole days in the site's zone, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.errors import BadRequest

MAX_DAYS = 366 * 2  # a report is a look at a period, not a dump of the history


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first instant of `first` in the site's zone, as UTC."""
        return datetime.combine(self.first, time.min, self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after `last` (exclusive), as UTC."""
        next_day = self.last + timedelta(days=1)
        return datetime.combine(next_day, time.min, self.zone).astimezone(UTC)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= aware(at) < self.end

    def local_day(self, at: datetime) -> date:
        return aware(at).astimezone(self.zone).date()

    def week_of(self, at: datetime) -> str:
        """The ISO week (`2026-W10`) of an instant, counted in the site's zone."""
        year, week, _ = self.local_day(at).isocalendar()
        return f"{year}-W{week:02d}"


def aware(at: datetime) -> datetime:
    # SQLite hands naive datetimes back; every stored time is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _day(raw: str | None, name: str) -> date:
    try:
        if raw is None or len(raw.strip()) != 10:
            raise ValueError
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(
            f"The parameter '{name}' must be a date (YYYY-MM-DD).", code="bad_parameter"
        ) from None


def parse_period(raw_from: str | None, raw_to: str | None, *, zone: ZoneInfo) -> Period:
    """`from` and `to` as given by a caller; BadRequest when missing, malformed or reversed."""
    first, last = _day(raw_from, "from"), _day(raw_to, "to")
    if first > last:
        raise BadRequest("'from' must not be after 'to'.", code="bad_period")
    if (last - first).days > MAX_DAYS:
        raise BadRequest("The period is longer than two years.", code="bad_period")
    return Period(first, last, zone)
