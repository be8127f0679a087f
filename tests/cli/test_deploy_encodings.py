"""`carebridge deploy` reads the encoding a diagram's XML declaration names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

STUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "studio"

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return CliRunner()


@pytest.mark.parametrize(
    ("name", "key"), [("latin1_call.bpmn", "latin_call"), ("utf16_call.bpmn", "utf16_call")]
)
def test_deploy_accepts_a_diagram_declared_in_another_encoding(
    runner: CliRunner, name: str, key: str
) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["deploy", str(STUDIO / name)])
    assert result.exit_code == 0, result.output
    assert f"{key} v1: deployed" in result.output
