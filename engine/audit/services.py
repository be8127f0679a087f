"""Append-only, keyed hash chain of audit events, recorded inside the caller's transaction.

Each row's `hash` is HMAC-SHA256, under the audit key, of the previous row's hash and the row's
canonical JSON; the key lives outside the database (CAREBRIDGE_AUDIT_KEY, or var/audit-key), so
someone who can write to the database can neither re-hash an edited chain nor forge rows. Every
append also rewrites the signed head (engine.audit.models.AuditHead: row count and last hash),
so removing the newest rows or all of them is seen too; exported anchors
(engine.audit.anchors) cover the case where the head itself was deleted along with them.

The HMAC is computed here, in Python, under the chain lock, never in SQL: the key must not
travel to the database server (statement logs, pg_stat_activity), and pgcrypto is not
everywhere. On PostgreSQL an append is two round trips: the lock with the head, then the rows
with the new head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    SessionTransactionOrigin,
)

from engine.accounts.models import User
from engine.audit.models import AuditEvent, AuditHead
from engine.uow import UnitOfWork

GENESIS = "0" * 64
# Any constant: serializes appends to the chain on PostgreSQL (an advisory lock's key).
_PG_AUDIT_LOCK = 868635385198
# session.info keys: this transaction's last written hash, its recorded, unwritten events, and
# whether this session's hooks are in place.
_HEAD = "carebridge.audit_head"
_PENDING = "carebridge.audit_pending"
_WATCHED = "carebridge.audit_watched"
_PG_LOCK = f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK})"
_HEAD_ID = 1
_LAST_ROW = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
# The head row and the table's actual last hash, read together (the head may be missing).
_HEAD_STATE = (
    select(
        AuditHead.row_count,
        AuditHead.last_hash,
        AuditHead.rebuilt,
        AuditHead.signature,
        _LAST_ROW.scalar_subquery().label("actual"),
    )
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(AuditHead, AuditHead.id == _HEAD_ID)
)
_COUNT_ROWS = select(func.count(AuditEvent.id))
# Declarative types __table__ as any FromClause; a class mapped to one table has a Table.
_INSERT = insert(cast(Table, AuditEvent.__table__))
# SQLite >= 3.24 and PostgreSQL both speak this upsert.
_UPSERT_HEAD = (
    "INSERT INTO audit_head (id, row_count, last_id, last_hash, rebuilt, signature) "
    "VALUES (%(id)s, %(row_count)s, (SELECT max(id) FROM audit_events), %(last_hash)s, "
    "%(rebuilt)s, %(signature)s) "
    "ON CONFLICT (id) DO UPDATE SET row_count = excluded.row_count, last_id = excluded.last_id, "
    "last_hash = excluded.last_hash, rebuilt = excluded.rebuilt, signature = excluded.signature"
)
_PG_INSERT = (
    "INSERT INTO audit_events (at, actor_id, actor, action, category, case_id, client_id, "
    "instance_id, task_id, details, prev_hash, hash) VALUES "
)
_PG_ROW = (
    "(%(at)s, %(actor_id)s, %(actor)s, %(action)s, %(category)s, %(case_id)s, %(client_id)s, "
    "%(instance_id)s, %(task_id)s, %(details)s, %(prev_hash)s, %(hash)s)"
)

# The key, set once at the edge (configure_key) from Settings.audit_key.
_KEY: bytes | None = None


class AuditKeyMissing(RuntimeError):
    """No audit key was configured: nothing can be appended or verified."""


def configure_key(key: str | bytes) -> None:
    """Use `key` for the chain's HMAC (from CAREBRIDGE_AUDIT_KEY or var/audit-key)."""
    global _KEY
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < 16:
        raise ValueError("the audit key must be at least 16 bytes")
    _KEY = raw


def _mac(message: str) -> str:
    if _KEY is None:
        raise AuditKeyMissing(
            "the audit key is not configured (CAREBRIDGE_AUDIT_KEY or var/audit-key)"
        )
    return hmac.new(_KEY, message.encode(), hashlib.sha256).hexdigest()


def head_signature(row_count: int, last_hash: str, rebuilt: bool) -> str:
    return _mac(f"head|{row_count}|{last_hash}|{int(bool(rebuilt))}")


class AuditTag(StrEnum):
    CASE_OPENED = "case:opened"
    CASE_VIEWED = "case:viewed"
    CASE_CLOSED = "case:closed"
    CASE_FLAGGED = "case:flagged"
    CASE_UNFLAGGED = "case:unflagged"
    CASE_DISCHARGED = "case:discharged"
    SERVICES_DECLINED = "case:services_declined"
    OUTREACH_WITHDRAWN = "case:outreach:withdrawn"
    INPATIENT_WORK_ENDED = "case:inpatient_work:ended"
    FUH_RECORDED = "case:fuh:recorded"
    CLIENT_VIEWED = "client:viewed"
    TASK_VIEWED = "case:task:viewed"
    TASK_CLAIMED = "case:task:claimed"
    TASK_RELEASED = "case:task:released"
    TASK_ASSIGNED = "case:task:assigned"
    TASK_COMPLETED = "case:task:completed"
    TASK_CREATED = "case:task:created"
    DRAFT_SAVED = "case:task:draft:saved"
    DRAFT_VIEWED = "case:task:draft:viewed"
    DRAFT_DELETED = "case:task:draft:deleted"
    INSTANCE_STARTED = "instance:started"
    INSTANCE_COMPLETED = "instance:completed"
    MESSAGE_RECEIVED = "instance:message"
    MESSAGE_ACCEPTED = "case:message:accepted"
    TIMER_FIRED = "instance:timer:fired"
    ASSESSMENT_RECORDED = "case:assessment:recorded"
    REFERRAL_UPDATED = "case:referral:updated"
    REFERRAL_VIEWED = "case:referral:viewed"
    REFERRAL_ORGANISATION_NOTIFIED = "case:referral:organisation_notified"
    CONSENT_RECORDED = "client:consent:recorded"
    CONSENT_REVOKED = "client:consent:revoked"
    CONSENTS_VIEWED = "client:consent:viewed"
    RESOURCE_SAVED = "directory:resource:saved"
    DEFINITION_DEPLOYED = "definition:deployed"
    DEFINITION_MADE_CURRENT = "definition:made_current"
    PROCESS_DRAFT_SAVED = "definition:draft_saved"
    INSTANCE_MIGRATED = "instance:migrated"
    USER_LOGIN = "user:login"
    USER_LOGIN_FAILED = "user:login_failed"
    TOKEN_CREATED = "user:token:created"  # noqa: S105  (an audit tag, not a secret)
    TOKEN_REVOKED = "user:token:revoked"  # noqa: S105
    USER_LOGOUT = "user:logout"
    USER_UNLOCKED = "user:unlocked"
    PASSWORD_CHANGED = "user:password:changed"  # noqa: S105
    AUDIT_VIEWED = "audit:viewed"
    # Record-level access (engine.access): reads outside a case page, refusals, break-glass.
    CASE_LIST_VIEWED = "case:list:viewed"
    INSTANCE_VIEWED = "instance:viewed"
    ACCESS_REFUSED = "access:refused"
    BREAK_GLASS = "case:break_glass"
    TEAM_MEMBER_ADDED = "case:team:added"
    TEAM_MEMBER_REMOVED = "case:team:removed"
    BREAK_GLASS_REPORT_VIEWED = "report:break_glass:viewed"


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str


SYSTEM = Actor(None, "system")


def actor_of(user: User | None) -> Actor:
    """Who an audit row names: the user, or the system when no one acted."""
    return Actor(user.id, user.username) if user is not None else SYSTEM


def _body(fields: dict[str, Any]) -> str:
    """The canonical text of an event's hashed fields (ASCII: json escapes the rest)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    return _mac(prev_hash + _body(row))


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

    The row is written by the session's unit of work as the last thing before it commits
    (engine.uow), or earlier when the session is asked something about audit_events (see
    _write_before_reads): appending links every row of the transaction to the chain at once,
    and takes the chain's lock as the last thing before commit, so writers wait for each other
    only that long."""
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
    if _WATCHED not in session.info:
        _watch(session)
    session.info.setdefault(_PENDING, []).append((_innermost(session), row))


def _watch(session: Session) -> None:
    """Through this session's unit of work (engine.uow), never a listener on the Session
    class: the unit of work appends the rows before it commits; reads of audit_events see
    them first; a rolled-back savepoint takes its own rows with it."""
    session.info[_WATCHED] = True
    unit = UnitOfWork.of(session)
    unit.before_commit(append_pending)
    unit.on_execute(_write_before_reads)
    unit.on_transaction_end(_transaction_ended)


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


@dataclass(frozen=True)
class _Head:
    row_count: int
    last_hash: str
    rebuilt: bool


def _current_head(conn: Connection, state: Any) -> _Head:
    """The head to append after, from the head row and the table's actual last hash. A head
    that is missing while rows exist, unsigned by our key, or not matching the table, was
    tampered with (or predates the keyed chain): appends go on, chained to the actual last
    row, but the head stays flagged `rebuilt` so that verify keeps saying so."""
    actual = state.actual if state is not None else None
    if state is not None and state.row_count is not None:
        signed = hmac.compare_digest(
            state.signature, head_signature(state.row_count, state.last_hash, state.rebuilt)
        )
        if signed and state.last_hash == (actual or GENESIS):
            return _Head(state.row_count, state.last_hash, state.rebuilt)
    if actual is None:
        return _Head(0, GENESIS, bool(state is not None and state.row_count is not None))
    return _Head(conn.execute(_COUNT_ROWS).scalar_one(), actual, True)


def _chain(head: _Head, rows: list[dict[str, Any]]) -> _Head:
    prev = head.last_hash
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = _digest(prev, _hashed_fields(SimpleNamespace(**row)))
    return _Head(head.row_count + len(rows), prev, head.rebuilt)


def _head_values(head: _Head) -> dict[str, Any]:
    return {
        "id": _HEAD_ID,
        "row_count": head.row_count,
        "last_hash": head.last_hash,
        "rebuilt": head.rebuilt,
        "signature": head_signature(head.row_count, head.last_hash, head.rebuilt),
    }


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _pg_append(conn, [row for _transaction, row in pending])
        return
    head = session.info.get(_HEAD)
    if head is None:
        # First append of this transaction: read the head. BEGIN IMMEDIATE in engine.db
        # already serializes SQLite's writers until the transaction ends, so later appends in
        # the same transaction chain onto the head remembered below.
        head = _current_head(conn, conn.execute(_HEAD_STATE).first())
    rows = [row for _transaction, row in pending]
    head = _chain(head, rows)
    # Plain INSERTs in list order, so ids follow the chain: an ORM object per event costs
    # several times more in the unit of work, and nothing reads the events back as objects.
    conn.execute(_INSERT, rows)
    conn.exec_driver_sql(_UPSERT_HEAD.replace("%(", ":").replace(")s", ""), _head_values(head))
    session.info[_HEAD] = head


def _pg_append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Take the chain lock (held to the end of the transaction) with the head in one round
    trip, hash in Python, then append `rows` in order with the new head in a second."""
    import psycopg
    from psycopg import ClientCursor
    from psycopg.types.json import Jsonb

    cursor = ClientCursor(conn.connection.driver_connection)  # type: ignore[arg-type]
    statement = _PG_LOCK
    try:
        head_sql = str(
            _HEAD_STATE.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        )
        cursor.execute(f"{_PG_LOCK}; {head_sql}")
        cursor.nextset()  # past the lock's result, to the head's
        state = cursor.fetchone()
        named = None
        if state is not None:
            named = SimpleNamespace(
                row_count=state[0],
                last_hash=state[1],
                rebuilt=state[2],
                signature=state[3],
                actual=state[4],
            )
        head = _current_head(conn, named)
        head = _chain(head, rows)
        values = [
            cursor.mogrify(_PG_ROW, {**row, "details": Jsonb(row["details"])}) for row in rows
        ]
        statement = _PG_INSERT + ", ".join(values)
        cursor.execute(statement + "; " + cursor.mogrify(_UPSERT_HEAD, _head_values(head)))
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it had it run the statement: OperationalError and friends,
        # which the scheduler retries and the pool recognizes when a connection has dropped.
        raise DBAPIError.instance(
            statement, None, exc, psycopg.Error, connection_invalidated=conn.invalidated
        ) from exc
    finally:
        cursor.close()


def append_pending(session: Session) -> None:
    """Append this transaction's recorded events to the chain (the unit of work calls this
    after its final flush, as the last writes before COMMIT)."""
    if session.info.get(_PENDING):
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


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_ids: list[int]
    # Findings about the chain as a whole (head, anchors), each a sentence for the operator.
    problems: list[str] = field(default_factory=list)
    last_id: int | None = None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.broken_ids and not self.problems


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every HMAC in order (a changed, inserted or deleted row, or one re-hashed
    without the key, breaks the chain) and check the signed head against the table (rows
    removed at the end, or all of them). Anchors are checked by engine.audit.anchors."""
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
            expected = _digest(ev.prev_hash, _hashed_fields(ev))
            if ev.prev_hash != prev or not hmac.compare_digest(expected, ev.hash):
                broken.append(ev.id)
            prev = ev.hash
            checked += 1
        last_id = rows[-1].id
    problems = _head_problems(session.get(AuditHead, _HEAD_ID), checked, prev)
    return ChainReport(checked, broken, problems, last_id or None, prev)


def _head_problems(head: AuditHead | None, checked: int, last_hash: str) -> list[str]:
    if head is None:
        if checked:
            return [
                "the signed head is missing while rows exist: rows may have been removed "
                "at the end; check against an exported anchor"
            ]
        return []  # a fresh install (or everything deleted: only an anchor can tell)
    signature = head_signature(head.row_count, head.last_hash, head.rebuilt)
    if not hmac.compare_digest(head.signature, signature):
        return ["the head's signature is not valid: it was rewritten without the audit key"]
    problems = []
    if head.rebuilt:
        problems.append(
            "the head was rebuilt after it was found missing or altered: rows removed before "
            "then cannot be ruled out; check against an exported anchor"
        )
    if head.row_count != checked or head.last_hash != last_hash:
        missing = head.row_count - checked
        what = (
            f"{missing} row(s) missing (the newest rows were deleted, or the table emptied)"
            if missing > 0
            else "rows added or changed after the last append"
        )
        problems.append(
            f"the signed head records {head.row_count} rows ending in {head.last_hash[:12]}…, "
            f"the table has {checked} ending in {last_hash[:12]}…: {what}"
        )
    return problems


class LegacyChainError(Exception):
    """`rekey_legacy_chain` found nothing to re-key, or a chain it must not vouch for."""


def _legacy_digest(prev_hash: str, row: dict[str, Any]) -> str:
    # The chain as written before the audit key existed (plain sha256, see migration c11b_audit).
    return hashlib.sha256((prev_hash + _body(row)).encode()).hexdigest()


def rekey_legacy_chain(session: Session) -> int:
    """Re-sign, once, a trail written before the audit key: every row must verify either as the
    old plain-sha256 chain (a prefix of at least one row) or, after it, as the keyed chain;
    then every hash is recomputed with the key and a clean signed head written. Returns the
    number of rows. LegacyChainError when there is no legacy prefix or any row fails both."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_LOCK)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev, legacy, keyed = GENESIS, 0, False
    for ev in events:
        fields = _hashed_fields(ev)
        if ev.prev_hash != prev:
            raise LegacyChainError(f"row {ev.id} does not link to the row before it")
        if not keyed and ev.hash == _legacy_digest(prev, fields):
            legacy += 1
        elif hmac.compare_digest(ev.hash, _digest(prev, fields)):
            keyed = True
        else:
            raise LegacyChainError(f"row {ev.id} matches neither the old nor the keyed chain")
        prev = ev.hash
    if not legacy:
        raise LegacyChainError("no rows from before the audit key: nothing to re-key")
    prev = GENESIS
    for ev in events:
        ev.prev_hash = prev
        ev.hash = prev = _digest(prev, _hashed_fields(ev))
    session.flush()
    conn.exec_driver_sql("DELETE FROM audit_head")
    head = _Head(len(events), prev, False)
    values = _head_values(head)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_UPSERT_HEAD, values)
    else:
        conn.exec_driver_sql(_UPSERT_HEAD.replace("%(", ":").replace(")s", ""), values)
    session.info.pop(_HEAD, None)
    return len(events)


def events_for_case(session: Session, case_id: int, *, limit: int = 500) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
