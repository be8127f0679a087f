"""The scheduler's heartbeat: written by a pass that reached the database, read by
`carebridge scheduler --check` (the container health probe of the scheduler command)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from scheduler import TimerRunner, heartbeat


def test_a_pass_writes_the_heartbeat_with_its_time(
    committed: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "beat.json"
    runner = TimerRunner(committed, clock=clock, sweep_s=15.0, heartbeat=path)
    runner.run_due()
    assert heartbeat.problem(path, now=clock.now()) is None


def test_a_runner_without_a_heartbeat_path_writes_none(
    committed: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> None:
    TimerRunner(committed, clock=clock).run_due()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_heartbeat_is_a_problem(tmp_path: Path, clock: FrozenClock) -> None:
    found = heartbeat.problem(tmp_path / "never.json", now=clock.now())
    assert found is not None
    assert "no heartbeat" in found


def test_a_beat_within_three_sweeps_is_healthy(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "beat.json"
    heartbeat.beat(path, at=clock.now(), interval_s=15.0)
    later = clock.now() + timedelta(seconds=3 * 15 + heartbeat.GRACE_S)
    assert heartbeat.problem(path, now=later) is None


def test_a_beat_older_than_three_sweeps_is_a_problem(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "beat.json"
    heartbeat.beat(path, at=clock.now(), interval_s=15.0)
    later = clock.now() + timedelta(seconds=3 * 15 + heartbeat.GRACE_S + 1)
    found = heartbeat.problem(path, now=later)
    assert found is not None
    assert "last pass" in found


def test_the_allowed_age_follows_the_interval_the_scheduler_wrote(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "beat.json"
    heartbeat.beat(path, at=clock.now(), interval_s=120.0)
    assert heartbeat.problem(path, now=clock.now() + timedelta(minutes=5)) is None


def test_an_unreadable_heartbeat_is_a_problem(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "beat.json"
    path.write_text("{not json")
    found = heartbeat.problem(path, now=clock.now())
    assert found is not None
    assert "unreadable" in found
