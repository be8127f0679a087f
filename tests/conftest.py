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

from engine import audit, definitions, schema
from engine.accounts import ensure_roles
from engine.calendar import Site
from engine.clock import FrozenClock
from engine.db import Base, make_engine
from engine.instances.live import LIVE, MAX_ENTRIES
from engine.settings import ROOT
from engine.uow import UnitOfWorkSession
from engine.wiring import wire
from tests import factories

# One audit key for the whole run: engine code appends with it, and apps and CLIs the tests
# build read the same one through load_settings.
TEST_AUDIT_KEY = "test-audit-key-0123456789abcdef"
os.environ.setdefault("CAREBRIDGE_AUDIT_KEY", TEST_AUDIT_KEY)
audit.configure_key(os.environ["CAREBRIDGE_AUDIT_KEY"])

BACKEND = os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get(
    "CAREBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live-workflows",
        choices=("on", "off"),
        default="off" if os.environ.get("CAREBRIDGE_LIVE_WORKFLOWS") == "0" else "on",
        help="keep live workflows between commands (on, the default) or restore every "
        "workflow from its stored state (off; CAREBRIDGE_LIVE_WORKFLOWS=0 does the same)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "live_workflows(mode): run with the live-workflow cache 'on' or 'off' "
        "whatever --live-workflows says (tests of the cache itself)",
    )
    if config.getoption("--live-workflows") == "off":
        # Apps and CLIs the tests build read it through load_settings.
        os.environ["CAREBRIDGE_LIVE_WORKFLOWS"] = "0"
    # The feature modules subscribe to the core's events once, as every program's start does.
    wire()


def pytest_report_header(config: pytest.Config) -> str:
    live = config.getoption("--live-workflows")
    return f"carebridge database backend: {BACKEND}; live workflows: {live}"


@pytest.fixture(autouse=True)
def live_workflows_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test starts with the cache as --live-workflows (or its marker) asks, and empty."""
    marker = request.node.get_closest_marker("live_workflows")
    mode = marker.args[0] if marker else request.config.getoption("--live-workflows")
    LIVE.configure(MAX_ENTRIES if mode == "on" else 0)
    LIVE.clear()
    yield mode
    LIVE.clear()


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
