"""Business days for deadlines: weekends, the site's public holidays and the site's own closed
days don't count. A site calendar file (CAREBRIDGE_CLOSED_DAYS) adjusts the public calendar:
`YYYY-MM-DD closed` adds a closed day, `YYYY-MM-DD open` reopens a public holiday."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

DEFAULT_BUSINESS_DAY_END = time(17, 0)


@dataclass(frozen=True)
class Site:
    """Where deadlines are counted: the site's zone, public-holiday calendar, its own
    closed/open days (date -> open?) and the end of its business day."""

    timezone: str = "America/New_York"
    country: str = "US"
    subdivision: str | None = None
    # A tuple of (day, open) pairs rather than a dict: a Site stays hashable and immutable.
    overrides: tuple[tuple[date, bool], ...] = ()
    business_day_end: time = DEFAULT_BUSINESS_DAY_END

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def override_map(self) -> Mapping[date, bool]:
        return _override_map(self.overrides)


DEFAULT_SITE = Site()


@lru_cache(maxsize=8)
def _override_map(overrides: tuple[tuple[date, bool], ...]) -> dict[date, bool]:
    return dict(overrides)


@lru_cache(maxsize=32)
def _holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=[year, year + 1])


def is_business_day(day: date, *, site: Site = DEFAULT_SITE) -> bool:
    """The site's own calendar line for the day wins; otherwise weekdays that are not public
    holidays. (An `open` line opens any day, a Saturday too: the site says it works then.)"""
    override = site.override_map.get(day) if site.overrides else None
    if override is not None:
        return override
    return day.weekday() < 5 and day not in _holidays(site.country, site.subdivision, day.year)


def nth_business_day_after(day: date, days: int, *, site: Site = DEFAULT_SITE) -> date:
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day, site=site):
            remaining -= 1
    return day


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
    tz = site.zone
    local = start.astimezone(tz)
    day = nth_business_day_after(local.date(), days, site=site)
    due_local = datetime.combine(day, local.time(), tz)
    return due_local.astimezone(UTC)


def end_of_business_days_after(
    start: datetime, days: int, *, site: Site = DEFAULT_SITE
) -> datetime:
    """The end of the site's business day (site.business_day_end, site time) on the `days`-th
    business day after the local date of `start`, in UTC. The time of day of `start` does
    not matter: a 03:00 and a 23:30 discharge on one date share their deadline."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = site.zone
    day = nth_business_day_after(start.astimezone(tz).date(), days, site=site)
    return datetime.combine(day, site.business_day_end, tz).astimezone(UTC)


# The last second of a calendar day. HEDIS counts "within 7 days" by date, so a check due
# "at the end of day 7" is due at 23:59:59 site time on the discharge date + 7.
END_OF_DAY = time(23, 59, 59)


def end_of_calendar_day_after(start: datetime, days: int, *, site: Site = DEFAULT_SITE) -> datetime:
    """23:59:59 site time on the local date of `start` plus `days` calendar days, in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = site.zone
    day = start.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, END_OF_DAY, tz).astimezone(UTC)


# ---------------------------------------------------------------- site calendar file ----
class CalendarFileError(ValueError):
    """A line of the site calendar file that cannot be read: names the file and the line."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line


_KINDS = {"closed": False, "open": True}


def parse_closed_days(text: str, *, source: Path | str) -> tuple[tuple[date, bool], ...]:
    """`YYYY-MM-DD closed|open` per line; `#` starts a comment; blank lines are skipped. A date
    listed twice is an error too: which of the two lines the site meant is not ours to guess."""
    seen: dict[date, int] = {}
    out: list[tuple[date, bool]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise CalendarFileError(source, number, "expected 'YYYY-MM-DD closed' or 'open'")
        day_text, kind = parts[0], parts[1].lower()
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise CalendarFileError(source, number, f"not a date: {day_text!r}") from None
        if len(day_text) != 10:
            raise CalendarFileError(source, number, f"write the date as YYYY-MM-DD: {day_text!r}")
        if kind not in _KINDS:
            raise CalendarFileError(source, number, f"expected 'closed' or 'open', not {kind!r}")
        if day in seen:
            raise CalendarFileError(source, number, f"{day} is already listed on line {seen[day]}")
        seen[day] = number
        out.append((day, _KINDS[kind]))
    return tuple(sorted(out))


def load_closed_days(path: Path | str) -> tuple[tuple[date, bool], ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarFileError(path, 0, f"cannot read the site calendar: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CalendarFileError(path, 0, "the site calendar is not UTF-8 text") from None
    return parse_closed_days(text, source=path)


def parse_day_end(value: str) -> time:
    """`HH:MM` (24-hour), e.g. `17:00`."""
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"CAREBRIDGE_BUSINESS_DAY_END must be HH:MM, not {value!r}") from None
    if parsed.tzinfo is not None:
        raise ValueError("CAREBRIDGE_BUSINESS_DAY_END is site time: give no offset")
    return parsed
