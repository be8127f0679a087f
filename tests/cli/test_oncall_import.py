"""`carebridge oncall import FILE.csv`: all or nothing, errors by line number."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from engine.db import make_sessionmaker
from engine.oncall import OnCallShift

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)

HEADER = "role,username,starts_at,ends_at\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the demo users (alex: social worker, morgan: supervisor, kim: nurse)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'rota.sqlite3'}"
    env = {"CAREBRIDGE_DATABASE_URL": url, "CAREBRIDGE_DEMO_PASSWORD": "demo-pass-123"}
    result = CliRunner().invoke(main, ["init", "--demo"], env=env)
    assert result.exit_code == 0, result.output
    return url


def _shifts(url: str) -> list[OnCallShift]:
    with make_sessionmaker(url).begin() as s:
        return list(s.scalars(select(OnCallShift).order_by(OnCallShift.id)))


def _run(url: str, tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "rota.csv"
    path.write_text(text)
    return CliRunner().invoke(
        main, ["oncall", "import", str(path)], env={"CAREBRIDGE_DATABASE_URL": url}
    )


def test_a_good_file_is_imported(seeded: str, tmp_path: Path) -> None:
    before = len(_shifts(seeded))
    result = _run(
        seeded,
        tmp_path,
        HEADER
        + "social_worker,alex,2026-12-24T20:00:00-05:00,2026-12-25T08:00:00-05:00\n"
        + "supervisor,morgan,2026-12-24T20:00:00-05:00,2026-12-25T08:00:00-05:00\n",
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 shift(s)" in result.output
    added = _shifts(seeded)[before:]
    assert [(s.role, s.starts_at) for s in added] == [
        ("social_worker", datetime(2026, 12, 25, 1, 0, tzinfo=UTC)),
        ("supervisor", datetime(2026, 12, 25, 1, 0, tzinfo=UTC)),
    ]


def test_bad_lines_are_reported_by_number_and_nothing_is_imported(
    seeded: str, tmp_path: Path
) -> None:
    before = len(_shifts(seeded))
    result = _run(
        seeded,
        tmp_path,
        HEADER
        + "social_worker,alex,2026-12-24T20:00:00-05:00,2026-12-25T08:00:00-05:00\n"
        + "social_worker,kim,2026-12-24T20:00:00-05:00,2026-12-25T08:00:00-05:00\n"
        + "physician,ghost,2026-12-24T20:00:00,2026-12-24T08:00:00-05:00\n",
    )
    assert result.exit_code == 1
    assert "line 3: user: kim lacks the role social_worker." in result.output
    assert "line 4: user:" in result.output
    assert "line 4: starts_at:" in result.output
    assert "nothing was imported" in result.output
    assert len(_shifts(seeded)) == before


def test_a_wrong_header_names_the_missing_columns(seeded: str, tmp_path: Path) -> None:
    result = _run(seeded, tmp_path, "role,user,from,to\nsupervisor,morgan,a,b\n")
    assert result.exit_code != 0
    assert "missing username, starts_at, ends_at" in result.output


def test_a_long_file_shows_progress(seeded: str, tmp_path: Path) -> None:
    start = datetime(2027, 1, 1, tzinfo=UTC)
    lines = [
        f"supervisor,morgan,{(start + timedelta(hours=h)).isoformat()},"
        f"{(start + timedelta(hours=h + 1)).isoformat()}\n"
        for h in range(250)
    ]
    result = _run(seeded, tmp_path, HEADER + "".join(lines))
    assert result.exit_code == 0, result.output
    assert "checking" in result.output
    assert "imported 250 shift(s)" in result.output
