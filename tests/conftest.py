"""Test infrastructure.

One database per run, migrated once with Alembic (which tests the migrations). Each test gets
a connection inside an outer transaction that is rolled back; the code under test works in
SAVEPOINTs of it (join_transaction_mode="create_savepoint"), so tests never see each other.

The backend is chosen by CAREBRIDGE_TEST_DATABASE: `sqlite` (default, a WAL file) or
`postgresql` (a fresh database created on the server of CAREBRIDGE_TEST_POSTGRES_URL and
dropped afterwards). `make test` runs the suite once per backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine import definitions, schema
from engine.accounts import ensure_roles
from engine.calendar import Site
from engine.clock import FrozenClock
from engine.db import Base, make_engine
from engine.settings import ROOT
from engine.uow import UnitOfWorkSession
from engine.wiring import wire
from tests import factories

BACKEND = os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get(
    "CAREBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"carebridge database backend: {BACKEND}"


def pytest_configure(config: pytest.Config) -> None:
    # The feature modules subscribe to the core's events once, as every program's start does.
    wire()


def _postgres_engine() -> Iterator[Engine]:
    name = f"carebridge_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        make_url(PG_URL).set(database=name).render_as_string(hide_password=False), pool_size=10
    )
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def db_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if BACKEND == "postgresql":
        gen = _postgres_engine()
        engine = next(gen)
    else:
        path = tmp_path_factory.mktemp("db") / "carebridge.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        gen = None
    schema.upgrade(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions.begin() as session:
        ensure_roles(session)
        definitions.deploy_directory(
            session, ROOT / "processes", ROOT / "forms", now=datetime.now(UTC)
        )
    yield engine
    if gen is not None:
        with pytest.raises(StopIteration):
            next(gen)
    else:
        engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    connection = db_engine.connect()
    outer = connection.begin()
    session = UnitOfWorkSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    factories.bind(session)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def committed(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """For tests that need real commits seen by other connections (races, crashes). Everything
    but the deployed definitions and roles is deleted afterwards."""
    sessions = sessionmaker(bind=db_engine, expire_on_commit=False, class_=UnitOfWorkSession)
    yield sessions
    keep = {"process_definitions", "roles", "alembic_version"}
    with db_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())
        conn.execute(text("DELETE FROM audit_events"))


@pytest.fixture
def clock() -> FrozenClock:
    # A Monday morning in the site's zone (14:00 UTC = 09:00 New York).
    return FrozenClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))


@pytest.fixture
def site() -> Site:
    return Site()


@pytest.fixture
def processes_dir() -> Path:
    return ROOT / "processes"


# ---------------------------------------------------------------- web --------------
@pytest.fixture
def app(session: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """The Flask app on the test's connection: its transactions become SAVEPOINTs of ours."""
    from engine.settings import load_settings
    from web import create_app

    sessions = sessionmaker(
        bind=session.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        class_=UnitOfWorkSession,
    )
    settings = load_settings(database_url="sqlite://", secret_key="test-secret", testing=True)
    return create_app(
        settings,
        sessions=sessions,
        clock=clock,
        config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
    )


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def api_as(session: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """api_as(user) -> headers with a fresh Bearer token for that user."""
    from engine.accounts import create_token

    def headers(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {"Authorization": f"Bearer {create_token(session, user, now=clock.now())}"}

    return headers
