"""Rewrites an instance's human_tasks and timers rows from its workflow, in the same transaction
as the state save, so the inbox and the scheduler never read a workflow to know what is open."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import oncall
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


def _from_data(task: runtime.ReadyTask, prop: str) -> Any:
    """The task-data value a `…Variable` property names by dotted path (`routing.priority`),
    or None. Lets a decision table set a task's priority, due time and lane at run time while
    the literal property stays the diagram's fallback."""
    path = task.properties.get(prop)
    if not isinstance(path, str) or not path.strip():
        return None
    value: Any = task.data
    for part in path.strip().split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _priority(task: runtime.ReadyTask) -> str:
    decided = _from_data(task, "priorityVariable")
    if isinstance(decided, str) and decided in PRIORITY_RANK:
        return decided
    prop = task.properties.get("priority")
    if prop in PRIORITY_RANK:
        return prop
    if prop and isinstance(task.data.get(prop), str) and task.data[prop] in PRIORITY_RANK:
        return task.data[prop]  # the property names a task-data variable (set by a DMN, say)
    data_value = task.data.get("priority")
    return data_value if data_value in PRIORITY_RANK else PRIORITIES[0]


DEFAULT_DUE = "P7D"


def _due_at(task: runtime.ReadyTask, now: datetime, site: Site) -> datetime:
    """`dueAt` names a task-data variable holding the deadline itself (ISO-8601 with offset,
    computed by the engine from the real event, e.g. the discharge): it may already be past,
    and the task is then created overdue with its true due time. Otherwise the decision
    table's `dueInVariable`, `dueIn` (ISO duration) or `dueInBusinessDays` from now, else the
    default."""
    due_var = task.properties.get("dueAt")
    if due_var:
        value = task.data.get(due_var)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
    decided = _from_data(task, "dueInVariable")
    if isinstance(decided, str) and decided.strip():
        try:
            return now + runtime.iso_duration(decided.strip(), now)
        except Exception:  # noqa: BLE001, S110 - SpiffWorkflow raises a bare Exception; use dueIn
            pass
    due_in = task.properties.get("dueIn")
    if due_in:
        return now + runtime.iso_duration(due_in, now)
    days = task.properties.get("dueInBusinessDays")
    if days not in (None, ""):
        return add_business_days(now, int(days), site=site)
    return now + runtime.iso_duration(DEFAULT_DUE, now)


# Work that cannot wait for someone to look at a queue: it goes to a person at once.
URGENT = ("stat", "asap")


def _assignee(
    session: Session,
    case: Case | None,
    t: runtime.ReadyTask,
    *,
    role: str | None,
    priority: str,
    now: datetime,
) -> tuple[int | None, str | None]:
    """(holder, how). A stat or asap task goes to whoever is on call for its role now, with
    safety nets down to every supervisor (engine.oncall.assignment): never to a queue.
    Otherwise `assignTo=on_call` asks the rota without safety nets; the case's primary social
    worker keeps continuity on social_worker lanes; else the role's queue."""
    if priority in URGENT or t.properties.get("assignTo") == "on_call":
        pick = oncall.pick_for_role(session, role=role, at=now)
        if pick.assignee_id is not None and (priority in URGENT or pick.how != "fallback"):
            return pick.assignee_id, pick.how
    if role == "social_worker" and case is not None and case.primary_social_worker_id:
        return case.primary_social_worker_id, "continuity"
    return None, None


def _new_task(
    session: Session,
    instance: ProcessInstance,
    case: Case | None,
    t: runtime.ReadyTask,
    now: datetime,
    site: Site,
) -> HumanTask:
    decided_lane = _from_data(t, "laneVariable")
    lane = decided_lane if isinstance(decided_lane, str) and decided_lane.strip() else t.lane
    role = role_for_lane(lane)
    if role == "social_worker" and case is not None and case.status == "closed":
        # A closed case's work that runs on (a referral an organisation accepted) belongs to
        # the case managers: no social worker follows the case any more.
        role = "case_manager"
    priority = _priority(t)
    assignee_id, assigned_by = _assignee(session, case, t, role=role, priority=priority, now=now)
    return HumanTask(
        instance_id=instance.id,
        spiff_task_id=t.id,
        bpmn_id=t.bpmn_id,
        name=t.name,
        process_key=t.process_id,
        lane=lane,
        role=role,
        case_id=instance.case_id,
        client_id=case.client_id if case is not None else None,
        status="open",
        assignee_id=assignee_id,
        assigned_by=assigned_by,
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
        row.workflow_task_id: row
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
