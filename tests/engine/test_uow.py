"""The unit of work: commit, rollback, after-commit work only after a successful commit, and
every way a database says "someone else got there first" turned into one domain Conflict.

Runs on really committed data (the `committed` fixture): the conflicts are provoked with a
second connection, the way two workers would cause them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import accounts, audit, cases, instances
from engine.accounts.models import User
from engine.clock import FrozenClock
from engine.db import make_engine
from engine.errors import Conflict
from engine.uow import UnitOfWork, UnitOfWorkSession
from tests.conftest import BACKEND
from tests.factories import client_payload

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's lock errors")
sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock")


def _user(uow: UnitOfWork, name: str) -> User:
    return accounts.create_user(
        uow.session, username=name, display_name=name, roles=["social_worker"]
    )


def _exists(sessions, name: str) -> bool:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count()).where(User.username == name)) == 1


def _run(sessions, command) -> None:  # type: ignore[no-untyped-def]
    """Run `command(uow)` as one unit of work, the way web, scheduler and CLI do."""
    with UnitOfWork(sessions) as uow:
        command(uow)


def _two_users(sessions) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with UnitOfWork(sessions) as uow:
        return _user(uow, "first").id, _user(uow, "second").id


# ---------------------------------------------------------------- commit / rollback ----
def test_what_the_command_wrote_is_committed(committed):
    with UnitOfWork(committed) as uow:
        _user(uow, "kept")
    assert _exists(committed, "kept")


def test_an_error_in_the_command_rolls_everything_back_and_propagates(committed):
    def command(uow: UnitOfWork) -> None:
        _user(uow, "dropped")
        uow.session.flush()
        raise RuntimeError("the command failed")

    with pytest.raises(RuntimeError, match="failed"):
        _run(committed, command)
    assert not _exists(committed, "dropped")


def test_after_commit_work_runs_once_the_commit_has_succeeded(committed):
    ran: list[bool] = []
    with UnitOfWork(committed) as uow:
        _user(uow, "with_work")
        uow.after_commit(lambda: ran.append(_exists(committed, "with_work")))
        assert ran == []
    assert ran == [True]  # it ran after COMMIT: another connection already saw the row


def test_after_commit_work_is_dropped_when_the_command_fails(committed):
    ran: list[str] = []

    def command(uow: UnitOfWork) -> None:
        uow.after_commit(lambda: ran.append("published"))
        raise RuntimeError("the command failed")

    with pytest.raises(RuntimeError):
        _run(committed, command)
    assert ran == []


def test_after_commit_work_is_dropped_when_the_commit_itself_fails(committed):
    with UnitOfWork(committed) as uow:
        _user(uow, "taken")
    ran: list[str] = []

    def command(uow: UnitOfWork) -> None:
        uow.session.add(User(username="taken", display_name="twice"))  # flushed by COMMIT
        uow.after_commit(lambda: ran.append("published"))

    with pytest.raises(IntegrityError):
        _run(committed, command)
    assert ran == []


def test_a_failing_after_commit_hook_does_not_undo_or_fail_the_command(committed):
    def broken() -> None:
        raise RuntimeError("cache unavailable")

    with UnitOfWork(committed) as uow:
        _user(uow, "committed_anyway")
        uow.after_commit(broken)
    assert _exists(committed, "committed_anyway")


def test_the_audit_rows_of_a_command_are_appended_with_its_commit(committed):
    with UnitOfWork(committed) as uow:
        audit.record(uow.session, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=91)
    with committed() as s:
        assert [e.case_id for e in audit.events_for_case(s, 91)] == [91]
        assert audit.verify_chain(s).ok


def test_engine_code_finds_its_unit_of_work_through_the_session(committed):
    with UnitOfWork(committed) as uow:
        assert UnitOfWork.of(uow.session) is uow


# ---------------------------------------------------------------- conflicts ------------
def test_a_stale_version_is_a_conflict(committed):
    clock = FrozenClock(T0)
    with UnitOfWork(committed) as uow:
        worker = _user(uow, "sw")
        _case, started = cases.open_case(
            uow.session, client=client_payload(), reason="test", actor=worker, clock=clock
        )
    instance_id = started.instance.id

    def command(uow: UnitOfWork) -> None:
        mine = instances.get_instance(uow.session, instance_id)  # read at version n
        # What another worker's committed save looks like from here: the row is at n + 1.
        uow.session.execute(
            text("UPDATE process_instances SET version = version + 1 WHERE id = :id"),
            {"id": instance_id},
        )
        mine.next_timer_at = T0  # our save: UPDATE ... WHERE version = n matches nothing

    with pytest.raises(Conflict) as caught:
        _run(committed, command)
    assert caught.value.code == "stale_instance"


@sqlite_only
def test_sqlite_busy_behind_another_writer_is_a_conflict(committed, db_engine):
    impatient = make_engine(db_engine.url.render_as_string(hide_password=False))
    event.listen(impatient, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout=50"))
    holder = db_engine.connect()
    holder.exec_driver_sql("SELECT 1")  # its BEGIN IMMEDIATE: another writer holds the lock
    try:
        with pytest.raises(Conflict) as caught, UnitOfWork(sessionmaker(impatient)) as uow:
            _user(uow, "blocked")
        assert caught.value.code == "concurrent_write"
    finally:
        holder.rollback()
        holder.close()
        impatient.dispose()


@postgres_only
def test_a_lock_timeout_is_a_conflict(committed, db_engine):
    first, _ = _two_users(committed)
    with db_engine.connect() as holder:
        holder.execute(text("UPDATE users SET display_name = 'held' WHERE id = :id"), {"id": first})

        def command(uow: UnitOfWork) -> None:
            uow.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
            uow.session.execute(
                text("UPDATE users SET display_name = 'waited' WHERE id = :id"), {"id": first}
            )

        with pytest.raises(Conflict) as caught:
            _run(committed, command)
        holder.rollback()
    assert caught.value.code == "concurrent_write"


@postgres_only
def test_a_serialization_failure_is_a_conflict(committed, db_engine):
    first, _ = _two_users(committed)
    update = text("UPDATE users SET display_name = :name WHERE id = :id")

    def command(uow: UnitOfWork) -> None:
        uow.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        uow.session.execute(text("SELECT display_name FROM users WHERE id = :id"), {"id": first})
        with db_engine.begin() as other:  # commits a change after our snapshot was taken
            other.execute(update, {"name": "b", "id": first})
        uow.session.execute(update, {"name": "a", "id": first})

    with pytest.raises(Conflict) as caught:
        _run(committed, command)
    assert caught.value.code == "concurrent_write"


@postgres_only
def test_a_deadlock_is_a_conflict_for_exactly_one_of_the_two(committed):
    first, second = _two_users(committed)
    both_hold_one = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer(mine: int, theirs: int) -> None:
        update = text("UPDATE users SET display_name = 'x' WHERE id = :id")
        try:
            with UnitOfWork(committed) as uow:
                uow.session.execute(update, {"id": mine})
                both_hold_one.wait()
                uow.session.execute(update, {"id": theirs})  # each waits for the other
            outcome = "committed"
        except Conflict as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=writer, args=(first, second)),
        threading.Thread(target=writer, args=(second, first)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["committed", "concurrent_write"]


def test_other_database_errors_are_not_passed_off_as_conflicts(committed):
    with pytest.raises(DBAPIError) as caught, UnitOfWork(committed) as uow:
        uow.session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(caught.value, Conflict)


def test_no_listener_is_registered_on_sqlalchemys_session_class():
    plain = Session()
    hooked = [
        name
        for name in (
            "before_commit",
            "after_commit",
            "after_rollback",
            "do_orm_execute",
            "after_transaction_end",
        )
        if getattr(plain.dispatch, name)
    ]
    assert hooked == []
    assert UnitOfWorkSession().dispatch.before_commit  # ours carries the unit of work's hooks


def test_a_plain_session_opened_without_a_unit_of_work_still_appends_its_audit_rows(db_engine):
    plain = sessionmaker(bind=db_engine, expire_on_commit=False)  # not engine.db's kind
    try:
        with plain.begin() as s:
            audit.record(s, audit.AuditTag.CASE_VIEWED, actor=audit.SYSTEM, at=T0, case_id=92)
        with plain() as s:
            assert [e.case_id for e in audit.events_for_case(s, 92)] == [92]
    finally:
        with db_engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_events WHERE case_id = 92"))
