"""What every benchmark shares: a fresh database per run, the deployed diagrams, a team of
users, percentiles and plain-text tables."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine import accounts, definitions, schema
from engine.accounts.models import User
from engine.db import make_engine
from engine.settings import ROOT
from engine.uow import UnitOfWorkSession
from engine.wiring import wire

PG_URL = os.environ.get(
    "CAREBRIDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# The shipped diagrams and forms; CAREBRIDGE_BENCH_SOURCES=<dir with processes/ and forms/>
# measures another set (e.g. a snapshot, while the tree's diagrams are being edited).
SOURCES = Path(os.environ.get("CAREBRIDGE_BENCH_SOURCES", ROOT))
PROCESSES = SOURCES / "processes"
FORMS = SOURCES / "forms"


def postgres_available() -> bool:
    try:
        admin = create_engine(
            PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        admin.dispose()
        return True
    except Exception:  # noqa: BLE001  (any failure means: skip PostgreSQL)
        return False


@dataclass
class Database:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]


@contextmanager
def fresh_database(backend: str, *, pool_size: int = 5) -> Iterator[Database]:
    """A new, migrated database with the shipped diagrams deployed: a temporary SQLite file
    (WAL) or a PostgreSQL database created for this run and dropped afterwards."""
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="carebridge-bench-"))
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        engine = make_engine(url)
        try:
            yield _prepared(backend, url, engine)
        finally:
            engine.dispose()
            shutil.rmtree(tmp, ignore_errors=True)
        return
    name = f"carebridge_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=pool_size)
    try:
        yield _prepared(backend, url, engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepared(backend: str, url: str, engine: Engine) -> Database:
    wire()  # referrals subscribe to the engine's events, as at every program's start
    schema.upgrade(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False, class_=UnitOfWorkSession)
    with sessions.begin() as session:
        accounts.ensure_roles(session)
    with sessions.begin() as session:
        definitions.deploy_directory(session, PROCESSES, FORMS, now=datetime.now(UTC))
    return Database(backend, url, engine, sessions)


def deploy_extra(db: Database, files: Mapping[str, bytes]) -> None:
    """Deploy bench-only diagrams (with the shipped ones as their library and forms)."""
    library = definitions.read_diagrams(PROCESSES)
    with db.sessions.begin() as session:
        definitions.deploy(
            session,
            files,
            library={**library, **files},
            forms=definitions.read_forms(FORMS),
            instruments_dir=FORMS / "instruments",
            now=datetime.now(UTC),
        )


def make_users(db: Database, roles: Mapping[str, Sequence[str]]) -> dict[str, User]:
    """username -> user, loaded with roles and detached: the engine reads only their ids and
    roles, so one object serves every transaction of the run."""
    with db.sessions.begin() as session:
        for username, keys in roles.items():
            accounts.create_user(
                session, username=username, display_name=username.title(), roles=keys
            )
    with db.sessions() as session:
        users = session.scalars(select(User).where(User.username.in_(list(roles)))).all()
        for user in users:
            user.role_keys  # noqa: B018  (load the roles before the session closes)
        return {u.username: u for u in users}


# ---------------------------------------------------------------- measuring --------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms),
        "n": len(ms),
    }


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(cells)

    def render(self) -> str:
        cells = [[_cell(c) for c in row] for row in self.rows]
        widths = [
            max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
            for i, h in enumerate(self.columns)
        ]
        line = "  ".join("-" * w for w in widths)
        out = [self.title, line]
        out.append("  ".join(str(h).ljust(w) for h, w in zip(self.columns, widths, strict=True)))
        out.append(line)
        for row in cells:
            out.append(
                "  ".join(
                    c.rjust(w) if _numeric(c) else c.ljust(w)
                    for c, w in zip(row, widths, strict=True)
                )
            )
        out.append(line)
        out.extend(self.notes)
        return "\n".join(out)


def _numeric(cell: str) -> bool:
    return cell.replace(".", "", 1).replace(",", "").replace("-", "", 1).isdigit()


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if value >= 1 else f"{value:.3f}"
    return str(value)


def verdict(value: float | None, target: float, *, higher_is_better: bool) -> str:
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "MISSED"
