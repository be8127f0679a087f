"""Inbox reads. They touch only human_tasks (+ the client's name): never a workflow."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from engine.accounts.models import User
from engine.cases.models import Client
from engine.errors import BadRequest
from engine.inbox.models import HumanTask
from engine.inbox.permissions import MANAGERS

VIEWS = ("mine", "team", "overdue", "followup", "all")
SORTS = ("due", "priority")


@dataclass(frozen=True)
class InboxRow:
    id: int
    name: str
    bpmn_id: str
    process_key: str
    case_id: int | None
    client_id: int | None
    client_name: str | None
    role: str | None
    assignee_id: int | None
    priority: str
    due_at: datetime
    created_at: datetime
    status: str

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at < now


@dataclass(frozen=True)
class Page:
    rows: list[InboxRow]
    next_cursor: str | None


def _day_bounds(user: User, now: datetime) -> tuple[datetime, datetime]:
    tz = ZoneInfo(user.timezone)
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time.min, tz)
    return start, start + timedelta(days=1)


def _scope(stmt: Select[Any], user: User, view: str, now: datetime) -> Select[Any]:
    roles = sorted(user.role_keys)
    mine = HumanTask.assignee_id == user.id
    team = and_(HumanTask.assignee_id.is_(None), HumanTask.role.in_(roles))
    stmt = stmt.where(HumanTask.status == "open")
    if view == "mine":
        return stmt.where(mine)
    if view == "team":
        return stmt.where(team)
    if view == "overdue":
        stmt = stmt.where(HumanTask.due_at < now)
        return stmt if user.has_role(*MANAGERS) else stmt.where(or_(mine, team))
    if view == "followup":
        start, end = _day_bounds(user, now)
        return stmt.where(HumanTask.due_at >= start, HumanTask.due_at < end, or_(mine, team))
    if view == "all":
        return (
            stmt if user.has_role(*MANAGERS) else stmt.where(or_(mine, HumanTask.role.in_(roles)))
        )
    raise BadRequest(f"Unknown view {view!r}; use one of {', '.join(VIEWS)}.", code="bad_view")


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("Invalid page cursor.", code="bad_cursor") from exc


def list_tasks(
    session: Session,
    *,
    user: User,
    view: str = "mine",
    now: datetime,
    sort: str = "due",
    limit: int = 50,
    after: str | None = None,
    client: str | None = None,
    task_type: str | None = None,
) -> Page:
    """One page of a view, ordered by due date (or priority, then due), keyset-paginated so
    page 100 costs what page 1 costs."""
    if sort not in SORTS:
        raise BadRequest(f"Unknown sort {sort!r}.", code="bad_sort")
    limit = max(1, min(limit, 200))
    client_name = (Client.given_name + " " + Client.family_name).label("client_name")
    stmt = _scope(
        select(HumanTask, client_name).outerjoin(Client, Client.id == HumanTask.client_id),
        user,
        view,
        now,
    )
    if client:
        pattern = f"%{client.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Client.family_name).like(pattern),
                func.lower(Client.given_name).like(pattern),
            )
        )
    if task_type:
        stmt = stmt.where(HumanTask.bpmn_id == task_type)
    if sort == "due":
        order = [HumanTask.due_at, HumanTask.id]
        if after:
            due, tid = _decode(after)
            stmt = stmt.where(tuple_(HumanTask.due_at, HumanTask.id) > tuple_(_dt(due), tid))
    else:
        order = [HumanTask.priority_rank.desc(), HumanTask.due_at, HumanTask.id]
        if after:
            rank, due, tid = _decode(after)
            stmt = stmt.where(
                or_(
                    HumanTask.priority_rank < rank,
                    and_(
                        HumanTask.priority_rank == rank,
                        tuple_(HumanTask.due_at, HumanTask.id) > tuple_(_dt(due), tid),
                    ),
                )
            )
    result = session.execute(stmt.order_by(*order).limit(limit + 1)).all()
    rows = [_row(task, name) for task, name in result[:limit]]
    next_cursor = None
    if len(result) > limit:
        last = result[limit - 1][0]
        key = [last.due_at.isoformat(), last.id]
        next_cursor = _encode(key if sort == "due" else [last.priority_rank, *key])
    return Page(rows, next_cursor)


def _dt(value: str) -> Any:
    return literal(datetime.fromisoformat(value), type_=HumanTask.due_at.type)


def _row(task: HumanTask, client_name: str | None) -> InboxRow:
    return InboxRow(
        id=task.id,
        name=task.name,
        bpmn_id=task.bpmn_id,
        process_key=task.process_key,
        case_id=task.case_id,
        client_id=task.client_id,
        client_name=client_name,
        role=task.role,
        assignee_id=task.assignee_id,
        priority=task.priority,
        due_at=task.due_at,
        created_at=task.created_at,
        status=task.status,
    )


def counts(session: Session, *, user: User, now: datetime) -> dict[str, int]:
    return {
        view: session.scalar(_scope(select(func.count(HumanTask.id)), user, view, now)) or 0
        for view in VIEWS
    }


def tasks_for_case(session: Session, case_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)
        )
    )
