"""`carebridge token create --scope` and `carebridge hl7`, in-process on their own SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from engine.accounts.models import ApiToken
from engine.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CAREBRIDGE_DEMO_PASSWORD", "demo-pass-123")
    return path


def test_token_create_with_scopes_stores_them(db_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["init", "--demo"])
    result = runner.invoke(
        main, ["token", "create", "--scope", "fhir:read", "--scope", "hl7", "admin"]
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{db_file}")
    with make_sessionmaker(engine).begin() as session:
        scopes = session.scalars(select(ApiToken.scopes)).all()
    engine.dispose()
    assert scopes == ["fhir:read hl7"]


def test_token_create_refuses_an_unknown_scope(db_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["init", "--demo"])
    result = runner.invoke(main, ["token", "create", "--scope", "fhir:admin", "admin"])
    assert result.exit_code != 0


def test_hl7_listen_is_a_command(db_file: Path) -> None:
    result = CliRunner().invoke(main, ["hl7", "listen", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_hl7_listen_refuses_a_token_without_the_hl7_scope(db_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["init", "--demo"])
    token = runner.invoke(main, ["token", "create", "--scope", "fhir:read", "admin"])
    result = runner.invoke(main, ["hl7", "listen", "--port", "0", "--token", token.output.strip()])
    assert result.exit_code != 0
    assert "hl7 scope" in result.output
