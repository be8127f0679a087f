"""Shifts of the on-call rota: read, add, delete, import, and the gaps nobody covers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import ROLE_KEYS, Role, User
from engine.errors import Invalid, NotFound
from engine.oncall.models import OnCallShift

ONCALL_CHANGED = "oncall:shift:added"
ONCALL_REMOVED = "oncall:shift:deleted"


@dataclass(frozen=True)
class Gap:
    role: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ShiftInput:
    """One shift as a person wrote it (API body or CSV line), not yet checked."""

    role: object
    user: object
    starts_at: object
    ends_at: object


def parse_time(value: object, field: str) -> tuple[datetime | None, dict[str, str] | None]:
    """An ISO-8601 instant with its offset; a naive time is refused (whose 03:00?)."""
    if not isinstance(value, str) or not value.strip():
        return None, {"field": field, "message": "Give a date and time (ISO 8601)."}
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None, {"field": field, "message": "Not an ISO 8601 date and time."}
    if when.tzinfo is None:
        return None, {"field": field, "message": "Add the UTC offset (e.g. -05:00 or Z)."}
    return when.astimezone(UTC), None


@dataclass(frozen=True)
class _Checked:
    role: str
    user: User
    starts_at: datetime
    ends_at: datetime


def _check(session: Session, data: ShiftInput) -> tuple[_Checked | None, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    role = data.role if isinstance(data.role, str) else ""
    if role not in ROLE_KEYS:
        errors.append({"field": "role", "message": f"One of {', '.join(ROLE_KEYS)}."})
    user = None
    if not isinstance(data.user, str) or not data.user.strip():
        errors.append({"field": "user", "message": "Name the user (username)."})
    else:
        user = session.scalar(select(User).where(User.username == data.user.strip()))
        if user is None or not user.active:
            errors.append({"field": "user", "message": f"No active user {data.user.strip()!r}."})
            user = None
        elif role in ROLE_KEYS and not user.has_role(role):
            errors.append({"field": "user", "message": f"{user.username} lacks the role {role}."})
    starts_at, problem = parse_time(data.starts_at, "starts_at")
    if problem:
        errors.append(problem)
    ends_at, problem = parse_time(data.ends_at, "ends_at")
    if problem:
        errors.append(problem)
    if starts_at and ends_at and ends_at <= starts_at:
        errors.append({"field": "ends_at", "message": "The shift must end after it starts."})
    if errors or user is None or starts_at is None or ends_at is None:
        return None, errors
    return _Checked(role, user, starts_at, ends_at), []


def _audit(
    session: Session, tag: str, shift: OnCallShift, actor: audit.Actor, at: datetime
) -> None:
    audit.record(
        session,
        tag,
        actor=actor,
        at=at,
        category="rota",
        details={
            "shift_id": shift.id,
            "role": shift.role,
            "user_id": shift.user_id,
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
        },
    )


def add_shift(
    session: Session, *, data: ShiftInput, actor: audit.Actor, at: datetime
) -> OnCallShift:
    """Raises Invalid naming each bad field (role, user, starts_at, ends_at)."""
    checked, errors = _check(session, data)
    if checked is None:
        raise Invalid("The shift is not valid.", code="invalid_shift", details=errors)
    return _insert(session, checked, actor=actor, at=at)


def _insert(session: Session, c: _Checked, *, actor: audit.Actor, at: datetime) -> OnCallShift:
    shift = OnCallShift(
        role=c.role,
        user_id=c.user.id,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        created_by=actor.id,
        created_at=at,
    )
    session.add(shift)
    session.flush()
    _audit(session, ONCALL_CHANGED, shift, actor, at)
    return shift


def import_shifts(
    session: Session,
    *,
    rows: Sequence[tuple[int, ShiftInput]],
    actor: audit.Actor,
    at: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[OnCallShift]:
    """All or nothing: every (line number, shift) is checked first; any bad line raises
    Invalid whose details carry `line` beside `field` for every problem, and nothing is
    written. `progress(n)` is called as lines are checked."""
    checked: list[_Checked] = []
    errors: list[dict[str, object]] = []
    for done, (line, data) in enumerate(rows, start=1):
        one, problems = _check(session, data)
        errors += [{"line": line, **p} for p in problems]
        if one is not None:
            checked.append(one)
        if progress is not None and done % 100 == 0:
            progress(100)
    if errors:
        raise Invalid(
            "The rota file has errors; nothing was imported.", code="invalid_rota", details=errors
        )
    return [_insert(session, c, actor=actor, at=at) for c in checked]


def delete_shift(session: Session, *, shift_id: int, actor: audit.Actor, at: datetime) -> None:
    shift = session.get(OnCallShift, shift_id)
    if shift is None:
        raise NotFound("No such on-call shift.", code="shift_not_found")
    _audit(session, ONCALL_REMOVED, shift, actor, at)
    session.delete(shift)
    session.flush()


def list_shifts(
    session: Session,
    *,
    role: str | None = None,
    at: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[OnCallShift]:
    """Shifts of a role (or all), those covering `at`, or those overlapping [start, end)."""
    stmt = select(OnCallShift)
    if role:
        stmt = stmt.where(OnCallShift.role == role)
    if at is not None:
        stmt = stmt.where(OnCallShift.starts_at <= at, OnCallShift.ends_at > at)
    if start is not None:
        stmt = stmt.where(OnCallShift.ends_at > start)
    if end is not None:
        stmt = stmt.where(OnCallShift.starts_at < end)
    return list(session.scalars(stmt.order_by(OnCallShift.starts_at, OnCallShift.id)))


def on_call_now(session: Session, *, role: str, at: datetime) -> list[int]:
    """Active users of `role` on call at `at`, the one whose shift started first first."""
    rows = session.execute(
        select(OnCallShift.user_id)
        .join(User, User.id == OnCallShift.user_id)
        .join(User.roles)
        .where(
            OnCallShift.role == role,
            OnCallShift.starts_at <= at,
            OnCallShift.ends_at > at,
            User.active.is_(True),
            Role.key == role,
        )
        .order_by(OnCallShift.starts_at, OnCallShift.id)
    ).scalars()
    return list(dict.fromkeys(rows))


def gaps(session: Session, *, roles: Iterable[str], start: datetime, end: datetime) -> list[Gap]:
    """The stretches of [start, end) when nobody is on call for each role."""
    out: list[Gap] = []
    for role in roles:
        cursor = start
        for shift in list_shifts(session, role=role, start=start, end=end):
            if shift.starts_at > cursor:
                out.append(Gap(role, cursor, shift.starts_at))
            cursor = max(cursor, shift.ends_at)
            if cursor >= end:
                break
        if cursor < end:
            out.append(Gap(role, cursor, end))
    return out
