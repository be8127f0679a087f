"""The keyed chain and its signed head on the suite's backend (SQLite or PostgreSQL); the CLI's
tamper cases (tests/cli/test_audit_tamper.py) run on SQLite only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from engine import audit
from engine.audit import AuditEvent, AuditHead

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _record(sessions, count: int) -> list[int]:
    with sessions.begin() as s:
        for case_id in range(count):
            audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=case_id)
    with sessions.begin() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _report(sessions) -> audit.ChainReport:
    with sessions.begin() as s:
        return audit.verify_chain(s)


def test_every_append_signs_the_head(committed) -> None:
    ids = _record(committed, 3)
    with committed.begin() as s:
        head = s.get(AuditHead, 1)
        last = s.get(AuditEvent, ids[-1])
        assert (head.row_count, head.last_hash, head.rebuilt) == (len(ids), last.hash, False)
    assert _report(committed).ok


def test_hashes_are_keyed(committed, monkeypatch) -> None:
    _record(committed, 2)
    monkeypatch.setattr(audit.services, "_KEY", b"another-key-of-sixteen-bytes")
    report = _report(committed)
    assert report.broken_ids
    assert "signature is not valid" in report.problems[0]


def test_deleting_the_newest_row_is_reported(committed) -> None:
    ids = _record(committed, 3)
    with committed.begin() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
    report = _report(committed)
    assert report.broken_ids == []
    assert "1 row(s) missing" in report.problems[0]


def test_emptying_the_table_is_reported(committed) -> None:
    _record(committed, 2)
    with committed.begin() as s:
        s.execute(delete(AuditEvent))
    assert "the table has 0" in _report(committed).problems[0]


def test_an_edited_row_is_named(committed) -> None:
    ids = _record(committed, 3)
    with committed.begin() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(actor="forger"))
    assert _report(committed).broken_ids == [ids[1]]


def test_appends_after_a_deleted_head_stay_flagged(committed) -> None:
    _record(committed, 2)
    with committed.begin() as s:
        s.execute(delete(AuditHead))
    _record(committed, 1)
    report = _report(committed)
    assert report.broken_ids == []
    assert "the head was rebuilt" in report.problems[0]
