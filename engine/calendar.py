"""Business days for deadlines: weekends and the site's public holidays don't count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@dataclass(frozen=True)
class Site:
    """Where deadlines are counted: the site's zone and public-holiday calendar."""

    timezone: str = "America/New_York"
    country: str = "US"
    subdivision: str | None = None


DEFAULT_SITE = Site()


@lru_cache(maxsize=32)
def _holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=[year, year + 1])


def is_business_day(day: date, *, site: Site = DEFAULT_SITE) -> bool:
    return day.weekday() < 5 and day not in _holidays(site.country, site.subdivision, day.year)


def add_business_days(
    start: datetime,
    days: int,
    *,
    site: Site = DEFAULT_SITE,
) -> datetime:
    """The same local wall-clock time `days` business days later, in UTC.

    Counting happens in the site's zone: a discharge at 23:00 local on a Friday is a Friday
    event even when it is already Saturday in UTC.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = ZoneInfo(site.timezone)
    local = start.astimezone(tz)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day, site=site):
            remaining -= 1
    due_local = datetime.combine(day, local.time(), tz)
    return due_local.astimezone(UTC)
