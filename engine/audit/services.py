"""Append-only, hash-chained audit trail. Recorded inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, event, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    SessionTransactionOrigin,
)

from engine.audit.models import AuditEvent

GENESIS = "0" * 64
# Any constant: serializes appends to the chain on PostgreSQL (an advisory lock's key).
_PG_AUDIT_LOCK = 868635385198
# session.info keys: this transaction's last written hash, and its recorded, unwritten events.
_HEAD = "carebridge.audit_head"
_PENDING = "carebridge.audit_pending"
# PostgreSQL appends in one round trip: the lock, then one INSERT per event that reads the head
# and hashes in SQL (sha256 over prev_hash + the canonical body, exactly as _digest does). Sent
# as one simple query, so each statement takes its snapshot after the one before it: the head
# is read once the lock is held and sees every append committed before it, and each INSERT
# sees the previous one. The simple query protocol takes no parameters, so the values are
# quoted into it by psycopg's own client-side binding.
_PG_LOCK = f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK})"
_PG_APPEND = (
    "INSERT INTO audit_events (at, actor_id, actor, action, category, case_id, client_id, "
    "instance_id, task_id, details, prev_hash, hash) "
    "SELECT %(at)s, %(actor_id)s, %(actor)s, %(action)s, %(category)s, %(case_id)s, "
    "%(client_id)s, %(instance_id)s, %(task_id)s, %(details)s, head.prev, "
    "encode(sha256(convert_to(head.prev || %(body)s, 'UTF8')), 'hex') "
    "FROM (SELECT coalesce((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), "
    "%(genesis)s) AS prev) AS head"
)
_HEAD_HASH = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_INSERT = insert(AuditEvent.__table__)


class AuditTag(StrEnum):
    CASE_OPENED = "case:opened"
    CASE_VIEWED = "case:viewed"
    CASE_CLOSED = "case:closed"
    CASE_FLAGGED = "case:flagged"
    CLIENT_VIEWED = "client:viewed"
    TASK_VIEWED = "case:task:viewed"
    TASK_CLAIMED = "case:task:claimed"
    TASK_RELEASED = "case:task:released"
    TASK_ASSIGNED = "case:task:assigned"
    TASK_COMPLETED = "case:task:completed"
    TASK_CREATED = "case:task:created"
    INSTANCE_STARTED = "instance:started"
    INSTANCE_COMPLETED = "instance:completed"
    MESSAGE_RECEIVED = "instance:message"
    MESSAGE_ACCEPTED = "case:message:accepted"
    TIMER_FIRED = "instance:timer:fired"
    ASSESSMENT_RECORDED = "case:assessment:recorded"
    REFERRAL_UPDATED = "case:referral:updated"
    REFERRAL_VIEWED = "case:referral:viewed"
    CONSENT_RECORDED = "client:consent:recorded"
    CONSENT_REVOKED = "client:consent:revoked"
    CONSENTS_VIEWED = "client:consent:viewed"
    RESOURCE_SAVED = "directory:resource:saved"
    DEFINITION_DEPLOYED = "definition:deployed"
    USER_LOGIN = "user:login"
    USER_LOGIN_FAILED = "user:login_failed"
    TOKEN_CREATED = "user:token:created"  # noqa: S105  (an audit tag, not a secret)
    TOKEN_REVOKED = "user:token:revoked"  # noqa: S105
    USER_LOGOUT = "user:logout"
    USER_UNLOCKED = "user:unlocked"
    PASSWORD_CHANGED = "user:password:changed"  # noqa: S105
    AUDIT_VIEWED = "audit:viewed"


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str


SYSTEM = Actor(None, "system")


def _body(fields: dict[str, Any]) -> str:
    """The canonical text of an event's hashed fields (ASCII: json escapes the rest)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _body(row)).encode()).hexdigest()


def _hashed_fields(ev: Any) -> dict[str, Any]:
    return {
        "at": ev.at.isoformat(),
        "actor_id": ev.actor_id,
        "actor": ev.actor,
        "action": ev.action,
        "category": ev.category,
        "case_id": ev.case_id,
        "client_id": ev.client_id,
        "instance_id": ev.instance_id,
        "task_id": ev.task_id,
        "details": ev.details,
    }


def record(
    session: Session,
    action: AuditTag | str,
    *,
    actor: Actor,
    at: datetime,
    category: str = "workflow",
    case_id: int | None = None,
    client_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event to this transaction. Details hold ids and field names, never note text.

    The row is written when the transaction commits, or earlier when the session is asked
    something about audit_events (see _write_before_reads): appending links every row of the
    transaction to the chain at once, and takes the chain's lock as the last thing before
    commit, so writers wait for each other only that long."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    row = {
        # In UTC before hashing: the database returns UTC, and verify_chain hashes what it reads.
        "at": at.astimezone(UTC),
        "actor_id": actor.id,
        "actor": actor.name,
        "action": str(action),
        "category": category,
        "case_id": case_id,
        "client_id": client_id,
        "instance_id": instance_id,
        "task_id": task_id,
        "details": dict(details or {}),
    }
    if session.get_transaction() is None:
        session.connection()  # begin now: a rollback must take this event with it
    session.info.setdefault(_PENDING, []).append((_innermost(session), row))


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _pg_append(conn, [row for _transaction, row in pending])
        return
    prev = session.info.get(_HEAD)
    if prev is None:
        # First append of this transaction: read the head. BEGIN IMMEDIATE in engine.db
        # already serializes SQLite's writers until the transaction ends, so later appends in
        # the same transaction chain onto the head remembered below.
        prev = conn.execute(_HEAD_HASH).scalar() or GENESIS
    rows = []
    for _transaction, row in pending:
        row["prev_hash"] = prev
        row["hash"] = prev = _digest(prev, _hashed_fields(SimpleNamespace(**row)))
        rows.append(row)
    # Plain INSERTs in list order, so ids follow the chain: an ORM object per event costs
    # several times more in the unit of work, and nothing reads the events back as objects.
    conn.execute(_INSERT, rows)
    session.info[_HEAD] = prev


def _pg_append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Take the chain lock (held to the end of the transaction) and append `rows` in order,
    hashed by the server: one round trip (see _PG_APPEND)."""
    import psycopg
    from psycopg import ClientCursor
    from psycopg.types.json import Jsonb

    cursor = ClientCursor(conn.connection.driver_connection)  # type: ignore[arg-type]
    try:
        statements = [_PG_LOCK]
        for row in rows:
            body = _body(_hashed_fields(SimpleNamespace(**row)))
            values = {**row, "details": Jsonb(row["details"]), "body": body, "genesis": GENESIS}
            statements.append(cursor.mogrify(_PG_APPEND, values))
        cursor.execute("; ".join(statements))
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it had it run the statement: OperationalError and friends,
        # which the scheduler retries and the pool recognizes when a connection has dropped.
        raise DBAPIError.instance(
            _PG_APPEND, None, exc, psycopg.Error, connection_invalidated=conn.invalidated
        ) from exc
    finally:
        cursor.close()


def _write_before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        # Everything else first: the chain lock is then the last lock the transaction takes,
        # so no one holding it ever waits for a row lock.
        session.flush()
        _write_pending(session)


def _write_before_reads(state: ORMExecuteState) -> None:
    # A query inside the transaction must see the events recorded so far. Statements that
    # name an entity other than AuditEvent cannot read them; anything else (audit queries,
    # text(), bare tables) gets them written first.
    if not state.session.info.get(_PENDING):
        return
    mappers = state.all_mappers
    if not mappers or any(m.class_ is AuditEvent for m in mappers):
        _write_pending(state.session)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # A flush's internal subtransaction changes nothing here. The end of a transaction or
    # savepoint drops the events it recorded and did not write (a commit wrote them all), and
    # the remembered head: a rollback may have removed rows after it, or released the lock
    # that kept it current.
    if transaction.origin is SessionTransactionOrigin.SUBTRANSACTION:
        return
    session.info.pop(_HEAD, None)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # nothing outlives the outermost transaction
        return
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [(t, row) for t, row in pending if t is not transaction]


event.listen(Session, "before_commit", _write_before_commit)
event.listen(Session, "do_orm_execute", _write_before_reads)
event.listen(Session, "after_transaction_end", _transaction_ended)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_ids: list[int]

    @property
    def ok(self) -> bool:
        return not self.broken_ids


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; a changed, inserted or deleted row breaks the chain."""
    prev = GENESIS
    checked = 0
    broken: list[int] = []
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev or _digest(ev.prev_hash, _hashed_fields(ev)) != ev.hash:
                broken.append(ev.id)
            prev = ev.hash
            checked += 1
        last_id = rows[-1].id
    return ChainReport(checked, broken)


def events_for_case(session: Session, case_id: int, *, limit: int = 500) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
