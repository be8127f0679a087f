"""Inbox reads. They touch only human_tasks (+ the client's name): never a workflow."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine import access
from engine.accounts.models import User
from engine.cases.models import Client
from engine.errors import BadRequest
from engine.inbox.models import PRIORITY_RANK, HumanTask
from engine.inbox.permissions import MANAGERS

VIEWS = ("mine", "team", "overdue", "followup", "all")
# Written into the SQL text rather than bound: a planner can only match a partial index
# (ix_human_tasks_team_queue) against a literal, not against a parameter of a generic plan.
IS_OPEN = HumanTask.status == literal_column("'open'")
# crisis (the default): stat, then asap, whatever their due dates, then everything else by due
# date, which puts overdue work before work still due. due: by due date. priority: by rank.
SORTS = ("crisis", "due", "priority")
DEFAULT_SORT = "crisis"
# stat 2, asap 1, the rest 0: one expression on priority_rank, so no column to keep in step.
CRISIS_RANK = case(
    (HumanTask.priority_rank == PRIORITY_RANK["stat"], 2),
    (HumanTask.priority_rank == PRIORITY_RANK["asap"], 1),
    else_=0,
)


@dataclass(frozen=True)
class InboxRow:
    """A task as a list shows it: the task's own columns and the client's name."""

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
    kind: str
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    escalates_task_id: int | None

    @staticmethod
    def of(task: HumanTask, client_name: str | None) -> InboxRow:
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
            kind=task.kind,
            acknowledged_at=task.acknowledged_at,
            acknowledged_by_id=task.acknowledged_by_id,
            escalates_task_id=task.escalates_task_id,
        )

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


def _branches(user: User, view: str, now: datetime) -> list[list[ColumnElement[bool]]]:
    """A view as disjoint alternatives (OR of ANDs, `status = 'open'` implied), each of which
    one index returns in due order: my tasks by ix_human_tasks_open_assignee_due, one role's
    unclaimed tasks by ix_human_tasks_team_queue, all open tasks by ix_human_tasks_open_due. A
    page then merges a few short ordered scans instead of sorting every matching row."""
    roles = sorted(user.role_keys)
    mine: list[ColumnElement[bool]] = [HumanTask.assignee_id == user.id]
    teams = [[HumanTask.assignee_id.is_(None), HumanTask.role == role] for role in roles]
    manager = user.has_role(*MANAGERS)
    if view == "mine":
        return [mine]
    if view == "team":
        return teams or [[false()]]
    if view == "overdue":
        late = HumanTask.due_at < now
        return [[late]] if manager else [[*b, late] for b in (mine, *teams)]
    if view == "followup":
        start, end = _day_bounds(user, now)
        today = [HumanTask.due_at >= start, HumanTask.due_at < end]
        return [[*b, *today] for b in (mine, *teams)]
    if view == "all":
        if manager:
            return [[]]
        # Mine, plus my roles' tasks held by anyone (or no one) else, of the cases I may
        # read (engine.access): a colleague's client off my care team is not listed.
        others = or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id != user.id)
        readable = access.readable_tasks(user, now=now)
        return [mine, *([HumanTask.role == role, others, readable] for role in roles)]
    raise BadRequest(f"Unknown view {view!r}; use one of {', '.join(VIEWS)}.", code="bad_view")


def _scope(stmt: Select[Any], user: User, view: str, now: datetime) -> Select[Any]:
    """`stmt` restricted to the open tasks of a view, as one condition."""
    branches = _branches(user, view, now)
    either = (
        or_(*(and_(true(), *b) for b in branches))
        if len(branches) > 1
        else and_(true(), *branches[0])
    )
    return stmt.where(IS_OPEN, either)


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


_MAX_KEY = 2**63 - 1


def _decode(cursor: str, *, fields: int) -> list[Any]:
    """A cursor this module wrote: `[rank?, due ISO time, task id]`. Anything else (edited,
    truncated, another sort's cursor) is a 400, never a database error."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadRequest("Invalid page cursor.", code="bad_cursor") from exc
    if not isinstance(values, list) or len(values) != fields:
        raise BadRequest("Invalid page cursor.", code="bad_cursor")
    *ranks, due, tid = values
    valid = all(_is_key(v) for v in (*ranks, tid)) and isinstance(due, str) and _is_time(due)
    if not valid:
        raise BadRequest("Invalid page cursor.", code="bad_cursor")
    return values


def _is_key(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_KEY


def _is_time(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def list_tasks(
    session: Session,
    *,
    user: User,
    view: str = "mine",
    now: datetime,
    sort: str = DEFAULT_SORT,
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
    filters: list[ColumnElement[bool]] = [IS_OPEN]
    if client:
        pattern = f"%{client.lower()}%"
        filters.append(
            HumanTask.client_id.in_(
                select(Client.id).where(
                    or_(
                        func.lower(Client.family_name).like(pattern),
                        func.lower(Client.given_name).like(pattern),
                    )
                )
            )
        )
    if task_type:
        filters.append(HumanTask.bpmn_id == task_type)
    order: list[ColumnElement[Any] | InstrumentedAttribute[Any]]
    if sort == "due":
        order = [HumanTask.due_at, HumanTask.id]
        if after:
            due, tid = _decode(after, fields=2)
            filters.append(tuple_(HumanTask.due_at, HumanTask.id) > tuple_(_dt(due), tid))
    else:
        rank_of = HumanTask.priority_rank if sort == "priority" else CRISIS_RANK
        order = [rank_of.desc(), HumanTask.due_at, HumanTask.id]
        if after:
            rank, due, tid = _decode(after, fields=3)
            filters.append(
                or_(
                    rank_of < rank,
                    and_(
                        rank_of == rank,
                        tuple_(HumanTask.due_at, HumanTask.id) > tuple_(_dt(due), tid),
                    ),
                )
            )
    branches = _branches(user, view, now)
    stmt = select(HumanTask, client_name).outerjoin(Client, Client.id == HumanTask.client_id)
    if len(branches) == 1:
        stmt = stmt.where(*filters, *branches[0])
    else:
        # Each branch's first page by its own index, merged: a page costs a few short index
        # range scans whatever the size of the views.
        parts = [
            select(HumanTask.id)
            .where(*filters, *branch)
            .order_by(*order)
            .limit(limit + 1)
            .subquery()
            for branch in branches
        ]
        ids = union_all(*(select(part.c.id) for part in parts)).subquery()
        stmt = stmt.where(HumanTask.id.in_(select(ids.c.id)))
    result = session.execute(stmt.order_by(*order).limit(limit + 1)).all()
    rows = [_row(task, name) for task, name in result[:limit]]
    next_cursor = None
    if len(result) > limit:
        last = result[limit - 1][0]
        key = [last.due_at.isoformat(), last.id]
        if sort == "due":
            next_cursor = _encode(key)
        elif sort == "priority":
            next_cursor = _encode([last.priority_rank, *key])
        else:
            next_cursor = _encode([_crisis_rank(last.priority), *key])
    return Page(rows, next_cursor)


def _crisis_rank(priority: str) -> int:
    return {"stat": 2, "asap": 1}.get(priority, 0)


def _dt(value: str) -> Any:
    return literal(datetime.fromisoformat(value), type_=HumanTask.due_at.type)


def _row(task: HumanTask, client_name: str | None) -> InboxRow:
    return InboxRow.of(task, client_name)


# Tab counts stop here: counting 50,000 open tasks on every page view costs more than the page.
# A count equal to COUNT_CAP means "COUNT_CAP or more" (show it as "1000+").
COUNT_CAP = 1000


def counts(session: Session, *, user: User, now: datetime, cap: int = COUNT_CAP) -> dict[str, int]:
    """Open tasks per view, each counted up to `cap`, in one statement. Every branch of a view
    (see _branches) is counted on its own index and capped: the cost is bounded by `cap`
    index entries per branch, however long the queues grow."""
    columns: list[ScalarSelect[int]] = []
    spans = []
    for view in VIEWS:
        branches = _branches(user, view, now)
        spans.append((view, len(columns), len(branches)))
        for branch in branches:
            capped = select(literal(1)).select_from(HumanTask).where(IS_OPEN, *branch).limit(cap)
            columns.append(select(func.count()).select_from(capped.subquery()).scalar_subquery())
    row = session.execute(select(*columns)).one()
    return {view: min(cap, sum(row[start : start + n])) for view, start, n in spans}


def tasks_for_case(session: Session, case_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)
        )
    )


@dataclass(frozen=True)
class Summary:
    """What a live inbox polls: the counts and the newest task, and a tag that changes when
    either does (so an unchanged inbox answers 304 without a body)."""

    counts: dict[str, int]
    latest_id: int | None
    etag: str


def summary(session: Session, *, user: User, now: datetime) -> Summary:
    """Counts of mine, team and overdue (capped like `counts`), open stat tasks among them, and
    the newest open task id the user's inbox shows. A handful of index lookups."""
    views = counts(session, user=user, now=now)
    scope = [*_branches(user, "mine", now), *_branches(user, "team", now)]
    if user.has_role(*MANAGERS):
        scope = [[]]  # supervisors watch every open task (their All tab)
    either = or_(*(and_(true(), *b) for b in scope))
    stat = select(literal(1)).where(
        IS_OPEN, HumanTask.priority_rank == PRIORITY_RANK["stat"], either
    )
    row = session.execute(
        select(
            select(func.count()).select_from(stat.limit(COUNT_CAP).subquery()).scalar_subquery(),
            select(func.max(HumanTask.id)).where(IS_OPEN, either).scalar_subquery(),
        )
    ).one()
    shown = {
        "mine": views["mine"],
        "team": views["team"],
        "overdue": views["overdue"],
        "stat": int(row[0]),
    }
    latest = row[1]
    tag = json.dumps([user.id, shown, views, latest], sort_keys=True)
    etag = hashlib.sha256(tag.encode()).hexdigest()[:32]
    return Summary(shown, latest, etag)
