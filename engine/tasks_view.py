"""Read models of human tasks for the people who work them: task summaries with the client's
and the assignee's names, one task's detail (form, UI hints, rendered instructions), and the
inbox gauges the metrics endpoint exports. Reads only, apart from the audit row a view of a
task leaves (a task is part of the client's record). The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts.models import User
from engine.cases.models import Client
from engine.clock import Clock
from engine.definitions import services as definitions
from engine.errors import Forbidden, ScriptError
from engine.inbox.models import HumanTask
from engine.inbox.permissions import can_see, can_work
from engine.inbox.queries import InboxRow
from engine.instances import services as instances
from engine.instances.models import ProcessInstance
from engine.workflow import runtime

# Longer output is a template bug (or a loop); the reader would not scroll through it anyway.
MAX_INSTRUCTIONS_CHARS = 20_000


@dataclass(frozen=True)
class TaskSummary:
    id: int
    name: str
    bpmn_id: str
    process_key: str
    case_id: int | None
    client_id: int | None
    client_name: str | None
    role: str | None
    assignee: str | None  # username
    priority: str
    due_at: datetime
    created_at: datetime
    status: str

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due_at < now


@dataclass(frozen=True)
class TaskDetail:
    task: TaskSummary
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    instructions: str | None
    can_complete: bool


def usernames(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(
        session.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples().all()
    )


def _client_names(session: Session, client_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in client_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(Client.id, Client.given_name, Client.family_name).where(Client.id.in_(ids))
    ).tuples()
    return {cid: f"{given} {family}" for cid, given, family in rows}


def summarize_tasks(session: Session, tasks: Sequence[HumanTask | InboxRow]) -> list[TaskSummary]:
    """Summaries in the given order, with names resolved in two queries for the whole list."""
    names = usernames(session, (t.assignee_id for t in tasks))
    missing_clients = [t.client_id for t in tasks if not isinstance(t, InboxRow)]
    clients = _client_names(session, missing_clients)
    out = []
    for t in tasks:
        if isinstance(t, InboxRow):
            client_name = t.client_name
        else:
            client_name = clients.get(t.client_id) if t.client_id is not None else None
        out.append(
            TaskSummary(
                id=t.id,
                name=t.name,
                bpmn_id=t.bpmn_id,
                process_key=t.process_key,
                case_id=t.case_id,
                client_id=t.client_id,
                client_name=client_name,
                role=t.role,
                assignee=names.get(t.assignee_id) if t.assignee_id is not None else None,
                priority=t.priority,
                due_at=t.due_at,
                created_at=t.created_at,
                status=t.status,
            )
        )
    return out


def summarize_task(session: Session, task: HumanTask) -> TaskSummary:
    return summarize_tasks(session, [task])[0]


# ---------------------------------------------------------------- instructions -----
_JINJA = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)


def render_instructions(template: str | None, data: Mapping[str, Any]) -> str | None:
    """Render a task's `instructionsForEndUser` (Markdown with Jinja) from its task data.

    Sandboxed: a template cannot reach Python internals. Autoescaped: a value typed into an
    earlier form ("<script>") comes out as text, never as markup, whatever renders the
    Markdown later. A template that fails to render is shown as written rather than hiding
    the instructions."""
    if not template:
        return None
    try:
        text = str(_JINJA.from_string(template).render(dict(data)))
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError):
        # Syntax errors, sandbox refusals and type mistakes in the template all land here.
        return template
    return text[:MAX_INSTRUCTIONS_CHARS]


def _instructions(instance: ProcessInstance, task: HumanTask) -> str | None:
    """Only an open task has a READY workflow task whose data the instructions speak of."""
    if task.status != "open" or not instance.state:
        return None
    spec, subspecs = definitions.specs_for(instance.definition)
    wf = runtime.loads(instance.state, spec, subspecs, instances.script_engine())
    for ready in runtime.ready_human_tasks(wf):
        if ready.id == task.spiff_task_id:
            return render_instructions(ready.instructions or ready.documentation, ready.data)
    return None


def view_task(session: Session, *, task_id: int, actor: User, clock: Clock) -> TaskDetail:
    """One task for a person: its form, UI hints and rendered instructions. NotFound for an
    unknown id, Forbidden when the person may not see it; a successful view is audited."""
    task = instances.get_task(session, task_id)
    if not can_see(actor, task):
        raise Forbidden("This task belongs to another team's work.", code="cannot_view_task")
    instance = instances.get_instance(session, task.instance_id)
    forms = instance.definition.forms or {}
    try:
        instructions = _instructions(instance, task)
    except ScriptError:
        instructions = None  # a state that cannot be loaded must not hide the task's form
    audit.record(
        session,
        audit.AuditTag.TASK_VIEWED,
        actor=instances.actor_of(actor),
        at=clock.now(),
        category="case_record",
        case_id=task.case_id,
        client_id=task.client_id,
        instance_id=task.instance_id,
        task_id=task.id,
        details={"bpmn_id": task.bpmn_id},
    )
    return TaskDetail(
        task=summarize_task(session, task),
        form_schema=forms.get(task.form) if task.form else None,
        ui_schema=forms.get(task.ui_form) if task.ui_form else None,
        instructions=instructions,
        can_complete=task.status == "open" and can_work(actor, task),
    )


# ---------------------------------------------------------------- gauges -----------
def open_tasks_by_role(session: Session) -> dict[str, int]:
    """Open human tasks per role queue ("none" for a task without a role)."""
    rows = session.execute(
        select(HumanTask.role, func.count(HumanTask.id))
        .where(HumanTask.status == "open")
        .group_by(HumanTask.role)
    ).tuples()
    return {role or "none": count for role, count in rows}


def overdue_count(session: Session, *, now: datetime) -> int:
    stmt = select(func.count(HumanTask.id)).where(
        HumanTask.status == "open", HumanTask.due_at < now
    )
    return session.scalar(stmt) or 0


def database_ok(session: Session) -> bool:
    """A round trip to the database (health checks); raises the driver's error when it is down."""
    return session.scalar(select(1)) == 1
