"""`carebridge directory import PATH`: the report on the console, refusals with file, row and
reason, and `carebridge init --demo` loading the sample directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import main
from engine.db import make_sessionmaker
from engine.referrals import CommunityResource

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)
HSDS = Path(__file__).resolve().parents[1] / "fixtures" / "hsds"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'directory.sqlite3'}"
    result = CliRunner().invoke(main, ["init"], env={"CAREBRIDGE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return url


def _services(url: str) -> int:
    with make_sessionmaker(url).begin() as s:
        return int(s.scalar(select(func.count()).select_from(CommunityResource)) or 0)


def test_import_reports_counts_and_each_refused_row(url: str) -> None:
    result = CliRunner().invoke(
        main, ["directory", "import", str(HSDS / "csv")], env={"CAREBRIDGE_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert "services: 2 created, 0 updated" in result.output
    assert "refused services.csv row 5: minimum_age is above maximum_age" in result.output
    assert "8 row(s) refused" in result.output
    assert _services(url) == 2


def test_a_path_that_is_no_package_is_an_error(url: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = CliRunner().invoke(
        main,
        ["directory", "import", str(tmp_path / "notes.txt")],
        env={"CAREBRIDGE_DATABASE_URL": url},
    )
    assert result.exit_code != 0
