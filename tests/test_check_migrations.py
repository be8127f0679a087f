"""scripts/check_migrations.py, the `make lint` step that compares the models with the
Alembic head, on fresh SQLite files."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, text

from engine import schema
from engine.db import make_engine
from engine.settings import ROOT


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_migrations", ROOT / "scripts" / "check_migrations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_migrations = _load_script()


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    yield engine
    engine.dispose()


def test_the_head_matches_the_models(fresh_engine: Engine) -> None:
    assert check_migrations.drift(fresh_engine) is None


def test_a_database_that_differs_from_the_models_is_reported(fresh_engine: Engine) -> None:
    schema.upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text("ALTER TABLE timers ADD COLUMN stray_column INTEGER"))
    found = check_migrations.compare(fresh_engine)
    assert found is not None
    assert "stray_column" in found
