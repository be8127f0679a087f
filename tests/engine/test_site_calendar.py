"""The site calendar: CAREBRIDGE_CLOSED_DAYS on top of the public holidays, the end of the
business day, and start-up stopping on a bad line with its file name and line number."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from engine.calendar import (
    CalendarFileError,
    Site,
    add_business_days,
    end_of_business_days_after,
    end_of_calendar_day_after,
    is_business_day,
    load_closed_days,
    parse_closed_days,
)
from engine.settings import load_settings

NY = ZoneInfo("America/New_York")
GOOD = """# site calendar
2026-03-03 closed   # flu clinic day: the social work office is shut
2026-11-26 open
2026-12-24 CLOSED
"""


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    path = tmp_path / "closed_days.txt"
    path.write_text(GOOD)
    return path


def test_lines_are_read_with_comments_and_blank_lines_skipped(calendar_file):
    assert load_closed_days(calendar_file) == (
        (date(2026, 3, 3), False),
        (date(2026, 11, 26), True),
        (date(2026, 12, 24), False),
    )


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        ("2026-03-03 closed\n2026-13-01 closed\n", 2, "not a date"),
        ("# ok\n\n2026-03-03 shut\n", 3, "expected 'closed' or 'open'"),
        ("2026-03-03\n", 1, "expected 'YYYY-MM-DD closed'"),
        ("2026-03-03 closed extra\n", 1, "expected 'YYYY-MM-DD closed'"),
        ("20260303 closed\n", 1, "YYYY-MM-DD"),
        ("2026-03-03 closed\n2026-03-03 open\n", 2, "already listed on line 1"),
    ],
)
def test_an_invalid_line_is_named_by_file_and_line(tmp_path, text, line, complaint):
    path = tmp_path / "site.txt"
    path.write_text(text)
    with pytest.raises(CalendarFileError) as err:
        load_closed_days(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert complaint in str(err.value)
    assert err.value.line == line


def test_a_missing_file_stops_start_up_too(tmp_path):
    with pytest.raises(CalendarFileError) as err:
        load_closed_days(tmp_path / "nope.txt")
    assert "nope.txt" in str(err.value)


def test_settings_read_the_file_and_the_day_end_once(calendar_file, monkeypatch):
    monkeypatch.setenv("CAREBRIDGE_CLOSED_DAYS", str(calendar_file))
    monkeypatch.setenv("CAREBRIDGE_BUSINESS_DAY_END", "16:30")
    site = load_settings(secret_key="x").site
    assert site.business_day_end == time(16, 30)
    assert not is_business_day(date(2026, 3, 3), site=site)
    assert is_business_day(date(2026, 11, 26), site=site)  # Thanksgiving, reopened


def test_settings_loading_stops_on_a_bad_line(tmp_path, monkeypatch):
    path = tmp_path / "bad.txt"
    path.write_text("2026-03-03 closed\nnext tuesday closed\n")
    monkeypatch.setenv("CAREBRIDGE_CLOSED_DAYS", str(path))
    with pytest.raises(CalendarFileError, match=r"bad\.txt:2: "):
        load_settings(secret_key="x")


def test_a_bad_business_day_end_stops_start_up(monkeypatch):
    monkeypatch.setenv("CAREBRIDGE_BUSINESS_DAY_END", "5pm")
    with pytest.raises(ValueError, match="CAREBRIDGE_BUSINESS_DAY_END"):
        load_settings(secret_key="x")


def test_create_app_stops_on_a_bad_line(tmp_path, monkeypatch):
    from web import create_app

    path = tmp_path / "bad.txt"
    path.write_text("2026-02-30 closed\n")
    monkeypatch.setenv("CAREBRIDGE_CLOSED_DAYS", str(path))
    with pytest.raises(CalendarFileError, match=r"bad\.txt:1: "):
        create_app()


def test_the_cli_stops_with_the_file_and_line(tmp_path, monkeypatch):
    from cli.main import main

    path = tmp_path / "bad.txt"
    path.write_text("# header\n2026-03-03 maybe\n")
    monkeypatch.setenv("CAREBRIDGE_CLOSED_DAYS", str(path))
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code != 0
    assert f"{path}:2:" in result.output


def test_without_a_file_the_public_calendar_alone_counts(monkeypatch):
    monkeypatch.delenv("CAREBRIDGE_CLOSED_DAYS", raising=False)
    site = load_settings(secret_key="x").site
    assert site.overrides == ()
    assert not is_business_day(date(2026, 11, 26), site=site)


def test_a_closed_line_moves_the_referral_style_deadline_too():
    """`add_business_days` (the referral answer deadline, task dueInBusinessDays) uses the
    same calendar."""
    site = Site(overrides=parse_closed_days("2026-03-03 closed\n", source="x"))
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert add_business_days(start, 2, site=site) == datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


def test_end_of_business_day_counts_the_local_date():
    # Friday 23:30 New York is Saturday 04:30 UTC: still Friday's discharge.
    friday_night = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
    due = end_of_business_days_after(friday_night, 2, site=Site())
    assert due.astimezone(NY) == datetime(2026, 12, 1, 17, 0, tzinfo=NY)


def test_end_of_day_is_the_last_second_of_the_site_date():
    due = end_of_calendar_day_after(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), 7, site=Site())
    assert due.astimezone(NY) == datetime(2026, 3, 9, 23, 59, 59, tzinfo=NY)
    assert due == datetime(2026, 3, 10, 3, 59, 59, tzinfo=UTC)  # EDT from 8 March


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        end_of_business_days_after(datetime(2026, 3, 2, 8, 0), 2)  # noqa: DTZ001


def test_settings_built_directly_read_the_file_too(calendar_file):
    from engine.settings import Settings

    site = Settings(secret_key="x", closed_days_file=calendar_file).site
    assert not is_business_day(date(2026, 3, 3), site=site)


def test_settings_built_directly_stop_on_a_bad_line(tmp_path):
    from engine.settings import Settings

    path = tmp_path / "bad.txt"
    path.write_text("2026-03-03 closed\n2026-03-04 sometimes\n")
    with pytest.raises(CalendarFileError, match=r"bad\.txt:2: "):
        Settings(secret_key="x", closed_days_file=path)
