"""The unit of work: one command's transaction, from BEGIN to after commit.

Web requests, scheduler jobs and CLI commands all run a command the same way:

    with UnitOfWork(sessions) as uow:          # BEGIN
        instances.complete_task(uow.session, ...)   # emits events; subscribers run here
    # on exit: flush, audit rows appended, COMMIT, then the after-commit work

What it owns, so no listener on SQLAlchemy's Session class has to:
- appending the audit rows recorded in the transaction (engine.audit), last before COMMIT;
- one domain error for every way the database says "someone else got there first": a version
  mismatch (StaleDataError), a deadlock, a serialization failure, a lock timeout, SQLite's
  busy/locked. Each becomes engine.errors.Conflict, nothing was written, and a person gets a
  409 (web/errors.py) while the scheduler retries;
- after-commit work (the live-workflow cache's publication, the registry's on_committed hooks
  such as an outbox dispatcher), run only once COMMIT has succeeded and dropped on rollback.

Engine services take a plain `session`; they reach their unit of work through `session.info`
(`UnitOfWork.of(session)`). The session's events reach its unit of work through hooks
registered once on `UnitOfWorkSession` (engine.db's sessionmakers make those), our own
subclass, not SQLAlchemy's Session class: registering them on each session instead costs about
0.2 ms a command. A plain Session opened elsewhere (a test's, a script's) is adopted with hooks
on that one instance, so its commits append audit rows and publish after-commit work too.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.orm.exc import StaleDataError

from engine import events
from engine.clock import Clock, SystemClock
from engine.errors import Conflict
from engine.events import REGISTRY, UNIT_OF_WORK, Event, Registry

log = logging.getLogger("carebridge.uow")

# PostgreSQL SQLSTATEs of a concurrent writer: deadlock_detected, serialization_failure,
# lock_not_available (lock_timeout or NOWAIT).
CONFLICT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# SQLite's primary result codes for "another connection holds the lock" (busy_timeout ran out).
_SQLITE_CONFLICT_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_CONFLICT_TEXT = ("database is locked", "database table is locked")


def conflict_from(exc: BaseException) -> Conflict | None:
    """The domain Conflict a database error stands for, or None when it is not a conflict."""
    if isinstance(exc, Conflict):
        return exc
    if isinstance(exc, StaleDataError):
        return Conflict(
            "Someone else changed this pathway at the same time. Reload and try again.",
            code="stale_instance",
        )
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in CONFLICT_SQLSTATES or _sqlite_busy(orig):
            return Conflict(
                "Someone else changed this at the same time. Reload and try again.",
                code="concurrent_write",
            )
    return None


def _sqlite_busy(orig: BaseException | None) -> bool:
    if not isinstance(orig, sqlite3.Error):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    # An extended result code keeps its primary code in the low byte.
    if code is not None and code & 0xFF in _SQLITE_CONFLICT_CODES:
        return True
    return any(text in str(orig) for text in _SQLITE_CONFLICT_TEXT)


Work = Callable[[Session], None]


class UnitOfWork:
    """One command's transaction. Use as a context manager over a session factory; or
    `UnitOfWork.of(session)` for the unit of work a session already belongs to."""

    def __init__(
        self,
        sessions: Callable[[], Session] | None = None,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        self._sessions = sessions
        self._session: Session | None = None
        self.clock = clock or SystemClock()  # the command's clock, for callers that want one
        self.registry = registry or REGISTRY
        self.events: list[Event] = []
        self._before_commit_work: list[Work] = []
        self._on_execute: list[Callable[[ORMExecuteState], None]] = []
        self._on_transaction_end: list[Callable[[Session, SessionTransaction], None]] = []
        self._after_commit: list[Callable[[], None]] = []

    # -- the session ------------------------------------------------------------------
    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work has not begun")
        return self._session

    @classmethod
    def of(cls, session: Session) -> UnitOfWork:
        """The unit of work `session` belongs to; a session opened without one is adopted."""
        unit = session.info.get(UNIT_OF_WORK)
        if unit is None:
            unit = cls()
            unit._bind(session)
        return unit

    def _bind(self, session: Session) -> None:
        self._session = session
        session.info[UNIT_OF_WORK] = self
        if not isinstance(session, UnitOfWorkSession):
            # Adopted: hooks on this one instance (an adopted session may be committed by its
            # owner, a test's savepoint release, and this work must follow it).
            for name, hook in _HOOKS.items():
                event.listen(session, name, hook)

    # -- what commands add ------------------------------------------------------------
    def emit(self, ev: Event) -> list[Any]:
        """engine.events.emit on this unit of work's session."""
        return events.emit(self.session, ev)

    def record(self, ev: Event) -> None:
        """Keep an emitted event (engine.events.emit calls this) for the after-commit hooks."""
        self.events.append(ev)

    def before_commit(self, work: Callable[[Session], None]) -> None:
        """Run `work(session)` as the last writes of every commit of this session, after the
        final flush (engine.audit appends its rows here). Registering twice runs it once."""
        if work not in self._before_commit_work:
            self._before_commit_work.append(work)

    def on_execute(self, hook: Callable[[ORMExecuteState], None]) -> None:
        """Call `hook` before each ORM statement of this session (once, however often asked)."""
        if hook not in self._on_execute:
            self._on_execute.append(hook)

    def on_transaction_end(self, hook: Callable[[Session, SessionTransaction], None]) -> None:
        """Call `hook` as each transaction or savepoint of this session ends."""
        if hook not in self._on_transaction_end:
            self._on_transaction_end.append(hook)

    def after_commit(self, work: Callable[[], None]) -> None:
        """Run `work` once this transaction has committed; dropped if it rolls back."""
        self._after_commit.append(work)

    # -- transaction ------------------------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        if self._sessions is None:
            raise RuntimeError("UnitOfWork(sessions) opens its own session")
        session = self._sessions()
        self._bind(session)
        session.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc is None:
                try:
                    session.commit()
                except Exception as commit_error:
                    session.rollback()
                    conflict = conflict_from(commit_error)
                    if conflict is not None and conflict is not commit_error:
                        raise conflict from commit_error
                    raise
                return
            session.rollback()
            conflict = conflict_from(exc)
            if conflict is not None and conflict is not exc:
                raise conflict from exc
        finally:
            session.close()

    # -- session hooks ----------------------------------------------------------------
    def _before_commit(self, session: Session) -> None:
        # Everything else is flushed first, so the audit rows go last: the chain's lock is then
        # the last lock the transaction takes, and no one holding it waits for a row lock.
        session.flush()
        for work in self._before_commit_work:
            work(session)

    def _committed(self, session: Session) -> None:
        work, self._after_commit = self._after_commit, []
        emitted, self.events = self.events, []
        for item in work:
            self._run_quietly(item)
        if emitted:
            for hook in self.registry.committed_hooks():
                self._run_quietly(functools.partial(hook, emitted))

    def _rolled_back(self, session: Session) -> None:
        # A rolled-back savepoint also lands here: its work named state that was never stored
        # (the cache then misses and restores); an outbox dispatcher reads committed rows anyway.
        self._after_commit.clear()
        self.events.clear()

    @staticmethod
    def _run_quietly(work: Callable[[], Any]) -> None:
        # The transaction has committed: a failure here must not turn a success into an error.
        try:
            work()
        except Exception:
            log.exception("after-commit work failed")


class UnitOfWorkSession(Session):
    """The Session engine.db's sessionmakers make: its events reach its unit of work through
    the class-level hooks below (registered once, at import)."""


def _unit(session: Session) -> UnitOfWork | None:
    return session.info.get(UNIT_OF_WORK)


def _before_commit(session: Session) -> None:
    unit = _unit(session)
    if unit is not None:
        unit._before_commit(session)


def _after_commit(session: Session) -> None:
    unit = _unit(session)
    if unit is not None:
        unit._committed(session)


def _after_rollback(session: Session) -> None:
    unit = _unit(session)
    if unit is not None:
        unit._rolled_back(session)


def _do_orm_execute(state: ORMExecuteState) -> None:
    unit = _unit(state.session)
    if unit is not None:
        for hook in unit._on_execute:
            hook(state)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    unit = _unit(session)
    if unit is not None:
        for hook in unit._on_transaction_end:
            hook(session, transaction)


_HOOKS: dict[str, Callable[..., None]] = {
    "before_commit": _before_commit,
    "after_commit": _after_commit,
    "after_rollback": _after_rollback,
    "do_orm_execute": _do_orm_execute,
    "after_transaction_end": _after_transaction_end,
}
for _name, _hook in _HOOKS.items():
    event.listen(UnitOfWorkSession, _name, _hook)
