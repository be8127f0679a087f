"""Rewrites an instance's human_tasks and timers rows from its workflow, in the same transaction
as the state save, so the inbox and the scheduler never read a workflow to know what is open."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.calendar import Site, add_business_days
from engine.cases.models import Case
from engine.inbox.models import PRIORITIES, PRIORITY_RANK, HumanTask
from engine.instances.models import ProcessInstance
from engine.timers.models import Timer
from engine.workflow import runtime
from engine.workflow.parsing import role_for_lane


@dataclass(frozen=True)
class SyncResult:
    created: list[HumanTask]
    cancelled: list[HumanTask]


def _priority(task: runtime.ReadyTask) -> str:
    prop = task.properties.get("priority")
    if prop in PRIORITY_RANK:
        return prop
    if prop and isinstance(task.data.get(prop), str) and task.data[prop] in PRIORITY_RANK:
        return task.data[prop]  # the property names a task-data variable (set by a DMN, say)
    data_value = task.data.get("priority")
    return data_value if data_value in PRIORITY_RANK else PRIORITIES[0]


DEFAULT_DUE = "P7D"


def _due_at(task: runtime.ReadyTask, now: datetime, site: Site) -> datetime:
    due_in = task.properties.get("dueIn")
    if due_in:
        return now + runtime.iso_duration(due_in, now)
    days = task.properties.get("dueInBusinessDays")
    if days not in (None, ""):
        return add_business_days(now, int(days), site=site)
    return now + runtime.iso_duration(DEFAULT_DUE, now)


def _on_call(session: Session, role: str | None) -> int | None:
    """The on-call member of a role (a crisis must land on one person at once, not a queue)."""
    from engine.accounts.models import Role, User

    return session.scalar(
        select(User.id)
        .join(User.roles)
        .where(Role.key == role, User.on_call.is_(True), User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def _assignee(
    session: Session, case: Case | None, t: runtime.ReadyTask, role: str | None
) -> int | None:
    """`assignTo=on_call` sends the task to the role's on-call member; otherwise the case's
    primary social worker keeps continuity on social_worker lanes; else the role's queue."""
    if t.properties.get("assignTo") == "on_call":
        on_call = _on_call(session, role)
        if on_call is not None:
            return on_call
    if role == "social_worker" and case is not None and case.primary_social_worker_id:
        return case.primary_social_worker_id
    return None


def _new_task(
    session: Session,
    instance: ProcessInstance,
    case: Case | None,
    t: runtime.ReadyTask,
    now: datetime,
    site: Site,
) -> HumanTask:
    role = role_for_lane(t.lane)
    assignee_id = _assignee(session, case, t, role)
    priority = _priority(t)
    return HumanTask(
        instance_id=instance.id,
        spiff_task_id=t.id,
        bpmn_id=t.bpmn_id,
        name=t.name,
        process_key=t.process_id,
        lane=t.lane,
        role=role,
        case_id=instance.case_id,
        client_id=case.client_id if case is not None else None,
        status="open",
        assignee_id=assignee_id,
        claimed_at=now if assignee_id else None,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        due_at=_due_at(t, now, site),
        form=t.properties.get("formJsonSchemaFilename"),
        ui_form=t.properties.get("formUiSchemaFilename"),
        variable=t.variable,
        created_at=now,
    )


# Built once: constructing and cache-keying a select costs more than running it on SQLite.
_OPEN_TASKS = select(HumanTask).where(
    HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open"
)
_WAITING_TIMERS = select(Timer).where(
    Timer.instance_id == bindparam("instance_id"), Timer.status == "waiting"
)


def sync(
    session: Session,
    instance: ProcessInstance,
    wf: Any,
    *,
    case: Case | None | Callable[[], Case | None],
    now: datetime,
    site: Site,
    trust_next_timer: bool = False,
    timer_rows: Sequence[Timer] | None = None,
) -> SyncResult:
    """`case` may be a loader, called only when a new task needs the case. With
    `trust_next_timer`, an instance whose next_timer_at is empty and whose workflow waits on no
    timer is taken to have no waiting timer rows (true when this function wrote them: it keeps
    both in step), which saves a query on most commands; a repair leaves it off. The caller
    may pass the instance's waiting timer rows, read after it took the instance's lock."""
    ready = {t.id: t for t in runtime.ready_human_tasks(wf)}
    # The in-session status decides: the caller may have completed a row without flushing it.
    open_by_id = {
        row.spiff_task_id: row
        for row in session.scalars(_OPEN_TASKS, {"instance_id": instance.id})
        if row.status == "open"
    }
    created = []
    for task_id, t in ready.items():
        if task_id not in open_by_id:
            if callable(case):
                case = case()
            row = _new_task(session, instance, case, t, now, site)
            session.add(row)
            created.append(row)
    cancelled = []
    for task_id, row in open_by_id.items():
        if task_id not in ready:  # e.g. an interrupting boundary event took the pathway elsewhere
            row.status = "cancelled"
            row.completed_at = now
            cancelled.append(row)

    waiting = {t.task_id: t for t in runtime.waiting_timers(wf)}
    if timer_rows is None:
        timer_rows = (
            []
            if trust_next_timer and not waiting and instance.next_timer_at is None
            else session.scalars(_WAITING_TIMERS, {"instance_id": instance.id}).all()
        )
    waiting_by_id = {row.spiff_task_id: row for row in timer_rows if row.status == "waiting"}
    for task_id, w in waiting.items():
        timer = waiting_by_id.get(task_id)
        if timer is None:
            session.add(
                Timer(
                    instance_id=instance.id,
                    spiff_task_id=task_id,
                    bpmn_id=w.bpmn_id,
                    due_at=w.due_at,
                    created_at=now,
                )
            )
        elif timer.due_at != w.due_at:  # a cycle timer moved on to its next occurrence
            timer.due_at = w.due_at
            timer.lease_owner = None
            timer.lease_expires_at = None
    for task_id, timer in waiting_by_id.items():
        if task_id not in waiting:
            timer.status = runtime.timer_outcome(wf, task_id)
            timer.fired_at = now if timer.status == "fired" else None
            timer.lease_owner = None
            timer.lease_expires_at = None

    instance.next_timer_at = min((t.due_at for t in waiting.values()), default=None)
    instance.status = runtime.status(wf)
    if instance.status == "completed" and instance.completed_at is None:
        instance.completed_at = now
    instance.updated_at = now
    session.flush()
    return SyncResult(created, cancelled)
