"""Audit rows are appended when the transaction commits; the chain stays whole under load."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from engine import audit
from tests.conftest import BACKEND

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _count(sessions) -> int:
    with sessions.begin() as s:
        return s.scalar(select(func.count(audit.AuditEvent.id)))


def test_rows_recorded_in_a_transaction_are_there_after_commit(committed):
    before = _count(committed)
    with committed.begin() as s:
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=1)
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=2)
    assert _count(committed) == before + 2
    with committed.begin() as s:
        assert audit.verify_chain(s).ok


def test_rows_of_a_rolled_back_transaction_never_appear(committed):
    before = _count(committed)

    def failing_command() -> None:
        with committed.begin() as s:
            audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=1)
            raise RuntimeError("the command failed")

    with pytest.raises(RuntimeError):
        failing_command()
    assert _count(committed) == before


def test_a_rolled_back_savepoint_drops_only_its_own_rows(committed):
    with committed.begin() as s:
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=1)
        nested = s.begin_nested()
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=2)
        nested.rollback()
    with committed.begin() as s:
        cases = s.scalars(
            select(audit.AuditEvent.case_id).where(audit.AuditEvent.case_id.is_not(None))
        )
        assert cases.all() == [1]


def test_rows_are_visible_to_reads_inside_their_own_transaction(committed):
    with committed.begin() as s:
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=7)
        assert [e.case_id for e in audit.events_for_case(s, 7)] == [7]


def test_concurrent_writers_keep_one_unbroken_chain(committed):
    def write(case_id: int) -> None:
        for _ in range(15):
            with committed.begin() as s:
                audit.record(
                    s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=case_id
                )

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with committed.begin() as s:
        report = audit.verify_chain(s)
        written = s.scalar(select(func.count()).where(audit.AuditEvent.case_id.in_([0, 1, 2])))
    assert (written, report.broken_ids) == (45, [])


def test_awkward_text_hashes_the_same_in_the_database_and_in_python(committed):
    # On PostgreSQL the server hashes appends; verify_chain recomputes them in Python.
    odd = 'O\'Brien; \\ "quoted" -- ünïcode ✓ $$ %(x)s {}'
    with committed.begin() as s:
        audit.record(
            s,
            audit.AuditTag.CASE_VIEWED,
            actor=audit.Actor(None, odd[:80]),
            at=T0,
            case_id=3,
            details={"field": odd, "nested": {"list": [1, None, odd]}},
        )
    with committed.begin() as s:
        [event] = audit.events_for_case(s, 3)
        assert event.details["field"] == odd
        assert event.actor == odd[:80]
        assert event.hash == audit.services._digest(
            event.prev_hash, audit.services._hashed_fields(event)
        )
        assert audit.verify_chain(s).ok


def test_a_naive_time_is_refused_before_anything_is_queued(session):
    with pytest.raises(ValueError, match="timezone-aware"):
        audit.record(
            session, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0.replace(tzinfo=None)
        )


def test_a_time_in_another_zone_is_stored_and_hashed_in_utc(committed):
    from zoneinfo import ZoneInfo

    local = T0.astimezone(ZoneInfo("America/New_York"))
    with committed.begin() as s:
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=local, case_id=4)
    with committed.begin() as s:
        [event] = audit.events_for_case(s, 4)
        assert event.at == T0
        assert audit.verify_chain(s).ok


@pytest.mark.skipif(BACKEND != "postgresql", reason="the one-round-trip append is PostgreSQL's")
def test_a_database_error_in_the_append_arrives_as_sqlalchemys(committed, monkeypatch):
    monkeypatch.setattr(audit.services, "_PG_LOCK", "SELECT pg_advisory_xact_lock('not a key')")
    with pytest.raises(DBAPIError), committed.begin() as s:
        audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=5)
