"""`carebridge token create|list|revoke` and `carebridge user unlock|password`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from cli.main import main
from engine import accounts
from engine.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)
PASSWORD = "demo-pass-123"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("CAREBRIDGE_DEMO_PASSWORD", PASSWORD)
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--demo"]).exit_code == 0
    return runner


@pytest.fixture
def db(tmp_path: Path, runner: CliRunner) -> Iterator[Session]:
    """A session on the CLI's database; tests commit before each command they run."""
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    session = make_sessionmaker(engine)()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def test_token_create_with_scopes_and_expiry(runner: CliRunner, db: Session) -> None:
    result = runner.invoke(
        main, ["token", "create", "--scope", "referral", "--expires-days", "7", "alex"]
    )
    assert result.exit_code == 0, result.output
    grant = accounts.grant_for_token(db, result.output.strip(), now=_now())
    assert grant is not None
    assert grant.scopes == frozenset({"referral"})
    assert (
        accounts.grant_for_token(db, result.output.strip(), now=_now() + timedelta(days=8)) is None
    )


def test_token_create_refuses_an_unknown_scope(runner: CliRunner) -> None:
    result = runner.invoke(main, ["token", "create", "--scope", "root", "alex"])
    assert result.exit_code != 0


def test_token_list_shows_tokens_without_secrets(runner: CliRunner) -> None:
    secret = runner.invoke(main, ["token", "create", "--scope", "adt", "jordan"]).output.strip()
    listing = runner.invoke(main, ["token", "list"])
    assert listing.exit_code == 0
    [line] = [row for row in listing.output.splitlines() if "\tjordan\t" in row]
    assert "\tadt\t" in line
    assert line.endswith("active")
    assert secret not in listing.output


def test_token_revoke_stops_the_token(runner: CliRunner, db: Session) -> None:
    secret = runner.invoke(main, ["token", "create", "alex"]).output.strip()
    [line] = runner.invoke(main, ["token", "list", "--user", "alex"]).output.splitlines()
    token_id = line.split("\t")[0]
    assert runner.invoke(main, ["token", "revoke", token_id]).exit_code == 0
    assert accounts.grant_for_token(db, secret, now=_now()) is None
    db.rollback()  # release SQLite's lock for the next command
    assert (
        runner.invoke(main, ["token", "list", "--user", "alex"]).output.strip().endswith("revoked")
    )


def test_user_unlock_lifts_a_lockout(runner: CliRunner, db: Session) -> None:
    for _ in range(5):
        accounts.sign_in(db, username="alex", password="wrong", ip="10.0.0.1", now=_now())
    db.commit()
    assert (
        accounts.sign_in(db, username="alex", password=PASSWORD, ip="10.0.0.2", now=_now()).outcome
        == accounts.Outcome.LOCKED
    )
    db.commit()
    result = runner.invoke(main, ["user", "unlock", "alex"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    outcome = accounts.sign_in(db, username="alex", password=PASSWORD, ip="10.0.0.2", now=_now())
    assert outcome.outcome == accounts.Outcome.OK


def test_user_password_ends_the_users_sessions(runner: CliRunner, db: Session) -> None:
    alex = accounts.get_user(db, "alex")
    session_id = accounts.start_session(db, user=alex, now=_now(), policy=accounts.SessionPolicy())
    db.commit()
    result = runner.invoke(
        main, ["user", "password", "alex"], input="a brand new long secret\n" * 2
    )
    assert result.exit_code == 0, result.output
    db.expire_all()
    found = accounts.user_for_session(
        db, session_id=session_id, user_id=alex.id, now=_now(), policy=accounts.SessionPolicy()
    )
    assert found is None
