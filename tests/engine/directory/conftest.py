from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import directory
from engine.clock import FrozenClock

HSDS = Path(__file__).resolve().parents[2] / "fixtures" / "hsds"
SAMPLE = Path(__file__).resolve().parents[3] / "data" / "directory_sample"


@pytest.fixture
def load(session: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """load(path) -> the import report of that HSDS package, in the test's transaction."""

    def run(path: Path) -> directory.ImportReport:
        package = directory.read_package(path)
        return directory.import_package(session, package=package, clock=clock)

    return run
