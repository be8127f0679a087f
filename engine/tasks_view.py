"""Read models of human tasks for the people who work them: task summaries with the client's
and the assignee's names, one task's detail (form, UI hints, instructions) for the JSON API and
the task page alike, and the inbox gauges the metrics endpoint exports. Reads only, apart from
the audit row a view of a task leaves (a task is part of the client's record). The caller owns
the transaction."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, alarms, audit
from engine.accounts.models import User
from engine.accounts.services import users_with_role
from engine.alarms.form import ESCALATION_FORM
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.definitions import services as definitions
from engine.definitions.models import ProcessDefinition
from engine.errors import Forbidden, ScriptError
from engine.inbox.models import HumanTask
from engine.inbox.permissions import can_reassign, can_see, can_work
from engine.inbox.queries import InboxRow
from engine.instances import services as instances
from engine.instances.models import ProcessInstance
from engine.outreach import DNC_FLAG, flags_of
from engine.workflow import runtime
from engine.workflow.instruction_templates import MAX_INSTRUCTIONS_CHARS
from engine.workflow.sandbox_pool import SANDBOX, WorkerDied, WorkerTimedOut

# A template that has not rendered by then is shown as written (it runs in a sandbox worker).
INSTRUCTIONS_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class TaskSummary(InboxRow):
    """An inbox row with its assignee's username resolved: what the API shows of a task."""

    assignee: str | None  # username
    acknowledged_by: str | None  # username
    # The case's flags as they are now (never as they were when the task was created).
    client_flags: dict[str, bool] = field(default_factory=dict)
    cancel_reason: str | None = None


_ROW_FIELDS = tuple(f.name for f in fields(InboxRow))


def usernames(
    session: Session, user_ids: Iterable[int | None], *, display: bool = False
) -> dict[int, str]:
    """Usernames by user id; with `display`, the names people read on a page instead."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    column = User.display_name if display else User.username
    return dict(session.execute(select(User.id, column).where(User.id.in_(ids))).tuples().all())


def _client_names(session: Session, client_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in client_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(Client.id, Client.given_name, Client.family_name).where(Client.id.in_(ids))
    ).tuples()
    return {cid: f"{given} {family}" for cid, given, family in rows}


def _summary(
    row: InboxRow,
    names: Mapping[int, str],
    client_flags: dict[str, bool] | None = None,
    cancel_reason: str | None = None,
) -> TaskSummary:
    return TaskSummary(
        **{name: getattr(row, name) for name in _ROW_FIELDS},
        assignee=names.get(row.assignee_id) if row.assignee_id is not None else None,
        acknowledged_by=(
            names.get(row.acknowledged_by_id) if row.acknowledged_by_id is not None else None
        ),
        client_flags=client_flags or {},
        cancel_reason=cancel_reason,
    )


def case_flags(session: Session, case_ids: Iterable[int | None]) -> dict[int, dict[str, bool]]:
    """The current flags of each case (outreach.flags_of), in one query for the whole list."""
    ids = {i for i in case_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(Case.id, Case.flags, Client.do_not_contact)
        .join(Client, Client.id == Case.client_id)
        .where(Case.id.in_(ids))
    ).tuples()
    return {cid: flags_of(flags, client_do_not_contact=dnc) for cid, flags, dnc in rows}


def summarize_tasks(session: Session, tasks: Sequence[HumanTask | InboxRow]) -> list[TaskSummary]:
    """Summaries in the given order, with names and case flags resolved in three queries for
    the whole list."""
    names = usernames(session, [i for t in tasks for i in (t.assignee_id, t.acknowledged_by_id)])
    clients = _client_names(session, [t.client_id for t in tasks if isinstance(t, HumanTask)])
    flags = case_flags(session, (t.case_id for t in tasks))
    out = []
    for t in tasks:
        row = (
            t
            if isinstance(t, InboxRow)
            else InboxRow.of(t, clients.get(t.client_id) if t.client_id is not None else None)
        )
        out.append(
            _summary(
                row,
                names,
                flags.get(row.case_id) if row.case_id is not None else None,
                t.cancel_reason if isinstance(t, HumanTask) else None,
            )
        )
    return out


def summarize_task(session: Session, task: HumanTask) -> TaskSummary:
    return summarize_tasks(session, [task])[0]


# ---------------------------------------------------------------- instructions -----
def render_instructions(
    template: str | None,
    data: Mapping[str, Any],
    *,
    fence: tuple[str, str] | None = None,
    timeout_s: float = INSTRUCTIONS_TIMEOUT_S,
) -> str | None:
    """Render a task's `instructionsForEndUser` (Markdown with Jinja) from its task data.

    Sandboxed: a template cannot reach Python internals, and it renders in a sandbox worker
    process with a time and memory limit. Autoescaped: a value typed into an earlier form
    ("<script>") comes out as text, never as markup, whatever renders the Markdown later. A
    template that fails to render, or runs past its limits, is shown as written rather than
    hiding the instructions. With `fence` (start, end), every value the template prints comes
    out escaped between those two strings, with the private-use characters U+E000/U+E001
    removed from it (the HTML page fences values off from its Markdown with them)."""
    if not template:
        return None
    request = {
        "op": "render",
        "template": template,
        "data": pickle.dumps(dict(data), protocol=pickle.HIGHEST_PROTOCOL),
        "fence": fence,
        "timeout_s": timeout_s,
    }
    try:
        text = SANDBOX.call(request, timeout_s=timeout_s).get("text")
    except (WorkerTimedOut, WorkerDied, pickle.PicklingError, TypeError):
        text = None
    return template[:MAX_INSTRUCTIONS_CHARS] if text is None else str(text)


# ---------------------------------------------------------------- one task ---------
@dataclass(frozen=True)
class TaskDetail:
    """One task as the API and the task page show it."""

    task: HumanTask
    summary: TaskSummary
    case: Case | None
    client: Client | None
    definition: ProcessDefinition | None  # None for a task without a workflow (escalation)
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    # The diagram's Jinja template and the READY task's data it speaks of (the data also
    # prefills a repeated form); both empty unless the task is open.
    instructions_template: str | None
    data: dict[str, Any]
    assignee: User | None
    completed_by: User | None
    can_work: bool  # open, and the actor may complete it (the API's `can_complete`)
    can_reassign: bool
    can_acknowledge: bool  # open stat work not yet acknowledged, and the actor may
    candidates: list[User]  # who may take it over
    case_access: access.CaseAccess | None = None  # how the reader may read the task's case

    @property
    def instructions(self) -> str | None:
        """The instructions as plain text (Markdown), rendered from the task data."""
        return render_instructions(self.instructions_template, self.data)


def _ready_task(instance: ProcessInstance, task: HumanTask) -> runtime.ReadyTask | None:
    """Only an open task has a READY workflow task whose data the instructions speak of; a
    closed one is history."""
    if task.status != "open" or not instance.state:
        return None
    try:
        spec, subspecs = definitions.specs_for(instance.definition)
        wf = runtime.loads(instance.state, spec, subspecs, instances.script_engine())
        ready = runtime.ready_human_tasks(wf)
    except ScriptError:
        return None  # a state that cannot be loaded must not hide the task's form
    return next((t for t in ready if t.id == task.spiff_task_id), None)


def _schema(forms: Mapping[str, Any], name: str | None) -> dict[str, Any] | None:
    schema = forms.get(name) if name else None
    return schema if isinstance(schema, dict) else None


def _may_acknowledge(session: Session, actor: User, task: HumanTask) -> bool:
    if task.status != "open" or task.acknowledged_at is not None:
        return False
    if task.priority != "stat" and task.kind != "escalation":
        return False
    return can_work(actor, task) or alarms.can_acknowledge(session, actor, task)


def view_task(
    session: Session, *, task_id: int, actor: User, clock: Clock, record_view: bool = True
) -> TaskDetail:
    """One task for a person: its form, UI hints, instructions and who may work it. NotFound
    for an unknown id, Forbidden when the person may not see it. A view is audited as a read
    of the client's record; `record_view=False` is for re-reading a task the same request
    already shows (a form sent back with errors)."""
    task = instances.get_task(session, task_id)
    granted: access.CaseAccess | None = None
    if task.case_id is not None:
        # A task of a case is part of the client's record: the record-level rule decides
        # (the care team, who may acknowledge its stat work, is among its readers).
        _, granted = access.require_case_read(
            session, user=actor, case_id=task.case_id, now=clock.now()
        )
    elif not can_see(actor, task):
        raise Forbidden("This task belongs to another team's work.", code="cannot_view_task")
    definition: ProcessDefinition | None = None
    forms: Mapping[str, Any] = {}
    ready = None
    if task.instance_id is not None:
        instance = instances.get_instance(session, task.instance_id)
        definition = instance.definition
        forms = definition.forms or {}
        ready = _ready_task(instance, task)
    workable = task.status == "open" and can_work(actor, task)
    data = dict(ready.data) if ready else {}
    if granted is not None and not (granted.sensitive or workable):
        # Whoever works the task needs what it is about; other readers see it masked.
        data = access.mask_data(data, access.sensitive_fields(forms.values()))
    case = session.get(Case, task.case_id) if task.case_id is not None else None
    client = session.get(Client, task.client_id) if task.client_id is not None else None
    assignee = session.get(User, task.assignee_id) if task.assignee_id is not None else None
    completed_by = (
        session.get(User, task.completed_by_id) if task.completed_by_id is not None else None
    )
    reassign = task.status == "open" and can_reassign(actor, task)
    if record_view:
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
            details={
                "bpmn_id": task.bpmn_id,
                **({"access": str(granted.basis)} if granted is not None else {}),
                **(
                    {"break_glass": True}
                    if granted is not None and granted.basis is access.Basis.BREAK_GLASS
                    else {}
                ),
            },
        )
    row = InboxRow.of(task, client.display_name if client is not None else None)
    current_flags = (
        flags_of(case.flags, client_do_not_contact=case.client.do_not_contact)
        if case is not None
        else {}
    )
    if ready and DNC_FLAG in current_flags:
        # Instructions read the flag as it is now, not as the pathway was seeded with it.
        data[DNC_FLAG] = True
    return TaskDetail(
        task=task,
        summary=_summary(
            row,
            usernames(session, [task.assignee_id, task.acknowledged_by_id]),
            current_flags,
            task.cancel_reason,
        ),
        case=case,
        client=client,
        definition=definition,
        # An escalation task has no workflow: its small form is the alarm's own.
        form_schema=ESCALATION_FORM if task.kind == "escalation" else _schema(forms, task.form),
        ui_schema=_schema(forms, task.ui_form),
        instructions_template=(ready.instructions or ready.documentation) if ready else None,
        data=data,
        assignee=assignee,
        completed_by=completed_by,
        can_work=workable,
        can_acknowledge=_may_acknowledge(session, actor, task),
        can_reassign=reassign,
        candidates=users_with_role(session, task.role) if reassign and task.role else [],
        case_access=granted,
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
