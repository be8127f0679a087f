"""A worker's caseload, the supervisors' overview of every worker, and handoffs (a case's
primary worker moved, or a task reassigned, with the note the new holder reads first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import Role, User, UserRole
from engine.caseload.models import Handoff
from engine.cases.models import Case
from engine.clock import Clock
from engine.errors import Forbidden, Invalid, NotFound
from engine.inbox.models import PRIORITY_RANK, HumanTask
from engine.notes.models import ProgressNote
from engine.outreach import flags_of

MANAGERS = ("supervisor", "admin")
CASELOAD_VIEWED = "caseload:viewed"
PRIMARY_MOVED = "case:primary_worker:moved"
TASK_HANDOFF = "task:handoff"


@dataclass(frozen=True)
class CaseloadRow:
    case_id: int
    client: str
    risk_flags: list[str]
    open_tasks: int
    earliest_due: datetime | None
    last_contact_at: datetime | None
    days_since_contact: int | None
    admitted_at: datetime | None
    expected_discharge_at: datetime | None


@dataclass(frozen=True)
class WorkerCounts:
    username: str
    display_name: str
    open_cases: int
    stat_urgent_tasks: int
    overdue_tasks: int


def _pairs(session: Session, stmt: Any) -> dict[Any, Any]:
    """A two-column query as a dict (key → value)."""
    return {key: value for key, value in session.execute(stmt)}


def _user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise NotFound(f"No user named {username!r}.", code="user_not_found")
    return found


def caseload(
    session: Session, *, actor: User, clock: Clock, username: str | None = None
) -> tuple[User, list[CaseloadRow]]:
    """The open cases where the user is the primary worker. A worker reads their own;
    supervisors and admins anyone's (Forbidden otherwise). Audited with the case ids shown."""
    owner = actor if username in (None, "", actor.username) else None
    if owner is None:
        if not actor.has_role(*MANAGERS):
            raise Forbidden("You may read only your own caseload.", code="not_your_caseload")
        assert username is not None
        owner = _user(session, username)
    now = clock.now()
    cases = list(
        session.scalars(
            select(Case)
            .where(Case.primary_social_worker_id == owner.id, Case.status == "open")
            .order_by(Case.id)
        )
    )
    ids = [c.id for c in cases]
    tasks = {
        case_id: (count, due)
        for case_id, count, due in session.execute(
            select(HumanTask.case_id, func.count(HumanTask.id), func.min(HumanTask.due_at))
            .where(HumanTask.case_id.in_(ids), HumanTask.status == "open")
            .group_by(HumanTask.case_id)
        )
    }
    contacts = _pairs(
        session,
        select(ProgressNote.case_id, func.max(ProgressNote.signed_at))
        .where(ProgressNote.case_id.in_(ids))
        .group_by(ProgressNote.case_id),
    )
    rows = []
    for case in cases:
        count, due = tasks.get(case.id, (0, None))
        last = contacts.get(case.id)
        rows.append(
            CaseloadRow(
                case_id=case.id,
                client=case.client.display_name,
                risk_flags=sorted(
                    flags_of(case.flags, client_do_not_contact=case.client.do_not_contact)
                ),
                open_tasks=count,
                earliest_due=due,
                last_contact_at=last,
                days_since_contact=(now.date() - last.date()).days if last else None,
                admitted_at=case.admitted_at,
                expected_discharge_at=case.expected_discharge_at,
            )
        )
    audit.record(
        session,
        CASELOAD_VIEWED,
        actor=audit.actor_of(actor),
        at=now,
        category="case_list",
        details={"user_id": owner.id, "case_ids": ids},
    )
    return owner, rows


def social_workers(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(Role.key == "social_worker", User.active.is_(True))
            .order_by(User.username)
        )
    )


def team_overview(session: Session, *, actor: User, clock: Clock) -> list[WorkerCounts]:
    """Every social worker's open cases, open stat/urgent tasks and overdue tasks."""
    if not actor.has_role(*MANAGERS):
        raise Forbidden(
            "Only supervisors and admins see the team's caseloads.", code="role_required"
        )
    now = clock.now()
    workers = social_workers(session)
    ids = [w.id for w in workers]
    open_cases = _pairs(
        session,
        select(Case.primary_social_worker_id, func.count(Case.id))
        .where(Case.primary_social_worker_id.in_(ids), Case.status == "open")
        .group_by(Case.primary_social_worker_id),
    )
    open_tasks = select(HumanTask.assignee_id, func.count(HumanTask.id)).where(
        HumanTask.assignee_id.in_(ids), HumanTask.status == "open"
    )
    pressing = _pairs(
        session,
        open_tasks.where(HumanTask.priority_rank >= PRIORITY_RANK["urgent"]).group_by(
            HumanTask.assignee_id
        ),
    )
    overdue = _pairs(
        session,
        open_tasks.where(HumanTask.due_at < now).group_by(HumanTask.assignee_id),
    )
    return [
        WorkerCounts(
            w.username,
            w.display_name,
            open_cases.get(w.id, 0),
            pressing.get(w.id, 0),
            overdue.get(w.id, 0),
        )
        for w in workers
    ]


def move_primary_worker(
    session: Session, *, case_id: int, username: object, note: object, actor: User, clock: Clock
) -> Handoff:
    """A supervisor (or admin) gives a case to another social worker, with a handoff note the
    new worker reads first on the case. Invalid names `note` or `user`."""
    if not actor.has_role(*MANAGERS):
        raise Forbidden(
            "Only supervisors and admins move a case's primary worker.", code="role_required"
        )
    errors: list[dict[str, str]] = []
    if not isinstance(note, str) or not note.strip():
        errors.append({"field": "note", "message": "A handoff note is required."})
    target: User | None = None
    if not isinstance(username, str) or not username.strip():
        errors.append({"field": "user", "message": "This field is required."})
    else:
        target = session.scalar(select(User).where(User.username == username.strip()))
        if target is None or not target.active or not target.has_role("social_worker"):
            errors.append({"field": "user", "message": "An active social worker."})
    if errors:
        raise Invalid("The handoff is not complete.", code="form_invalid", details=errors)
    assert target is not None
    assert isinstance(note, str)
    # Lock the case row only (its joined client and worker are on the outer side of a join).
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update(of=Case.__table__)
        .execution_options(populate_existing=True)
    )
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    now = clock.now()
    handoff = Handoff(
        case_id=case.id,
        task_id=None,
        from_user_id=case.primary_social_worker_id,
        to_user_id=target.id,
        note=note.strip(),
        by_id=actor.id,
        at=now,
    )
    session.add(handoff)
    case.primary_social_worker_id = target.id
    session.flush()
    audit.record(
        session,
        PRIMARY_MOVED,
        actor=audit.actor_of(actor),
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details={
            "handoff_id": handoff.id,
            "from_user_id": handoff.from_user_id,
            "to_user_id": target.id,
        },
    )
    return handoff


def record_task_handoff(
    session: Session,
    *,
    task: HumanTask,
    previous_id: int | None,
    note: str | None,
    actor: User,
    at: datetime,
) -> Handoff:
    """The note given when a task changes hands: kept on the task (latest) and as history."""
    assert task.assignee_id is not None
    clean = note.strip() if note and note.strip() else None
    task.handoff_note = clean
    handoff = Handoff(
        case_id=task.case_id,
        task_id=task.id,
        from_user_id=previous_id,
        to_user_id=task.assignee_id,
        note=clean,
        by_id=actor.id,
        at=at,
    )
    session.add(handoff)
    session.flush()
    audit.record(
        session,
        TASK_HANDOFF,
        actor=audit.actor_of(actor),
        at=at,
        case_id=task.case_id,
        client_id=task.client_id,
        task_id=task.id,
        details={"handoff_id": handoff.id, "to_user_id": task.assignee_id, "has_note": bool(clean)},
    )
    return handoff


def handoffs_of_case(session: Session, case_id: int) -> list[Handoff]:
    """The case's handoffs, newest first (a primary-worker move and task reassignments)."""
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.case_id == case_id)
            .order_by(Handoff.at.desc(), Handoff.id.desc())
        )
    )


def handoff_json(session: Session, handoff: Handoff) -> dict[str, Any]:
    ids = {handoff.from_user_id, handoff.to_user_id, handoff.by_id}
    names = {
        u.id: u.username
        for u in session.scalars(select(User).where(User.id.in_({i for i in ids if i})))
    }
    return {
        "id": handoff.id,
        "task_id": handoff.task_id,
        "from_user": names.get(handoff.from_user_id) if handoff.from_user_id else None,
        "to_user": names.get(handoff.to_user_id),
        "by": names.get(handoff.by_id),
        "note": handoff.note,
        "at": handoff.at.isoformat(),
    }
