"""The commands that move pathways forward. Each runs inside the caller's transaction:
load → act → engine steps → save state + projections + audit. The caller commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import audit, events
from engine.accounts.models import User
from engine.assessments import services as assessments
from engine.audit import actor_of
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case
from engine.clock import Clock
from engine.definitions import services as definitions
from engine.definitions.models import ProcessDefinition
from engine.errors import Conflict, Invalid, NotFound
from engine.forms import validate
from engine.inbox.models import HumanTask
from engine.inbox.permissions import require_can_work, require_open
from engine.inbox.tasks import get_task as get_task  # re-exported: callers import it here
from engine.instances import projections
from engine.instances.live import LIVE
from engine.instances.models import ProcessInstance
from engine.timers.models import Timer
from engine.workflow import runtime
from engine.workflow.helpers import SCRIPT_HELPERS
from engine.workflow.scripting import make_script_engine

_script_engine: Any = None


def script_engine() -> Any:
    global _script_engine
    if _script_engine is None:
        _script_engine = make_script_engine(helpers=SCRIPT_HELPERS)
    return _script_engine


@dataclass(frozen=True)
class CommandResult:
    instance: ProcessInstance
    created_tasks: list[HumanTask] = field(default_factory=list)
    # The task a completion completed (so its caller need not read it again).
    task: HumanTask | None = None


# ---------------------------------------------------------------- load / save ------
# Statements of the hot path are built once: building and cache-keying a select costs more
# than running it on SQLite.
def _with_definition_and_case(stmt: Any, *, lock: Any) -> Any:
    """`stmt` (which selects a ProcessInstance) joined to its definition's hash and its case,
    locking the tables in `lock`: what every command reads with the instance it works on."""
    return (
        stmt.join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .outerjoin(Case, Case.id == ProcessInstance.case_id)
        .options(lazyload(Case.client), lazyload(Case.primary_social_worker))
        .with_for_update(of=lock)
        .execution_options(populate_existing=True)
    )


_LOCK_INSTANCE = _with_definition_and_case(
    select(ProcessInstance, ProcessDefinition.sha256, Case).where(
        ProcessInstance.id == bindparam("id")
    ),
    lock=ProcessInstance.__table__,
)
_CASE = (
    select(Case)
    .where(Case.id == bindparam("id"))
    .options(lazyload(Case.client), lazyload(Case.primary_social_worker))
)
# session.info key: cases read with their instance in this session (the identity map alone
# holds them only weakly), for the projection of new tasks.
_CASES = "carebridge.instance_cases"


def _case_of(session: Session, instance: ProcessInstance) -> Case | None:
    if instance.case_id is None:
        return None
    case: Case | None = session.info.get(_CASES, {}).get(instance.case_id)
    if case is None:
        case = session.scalars(_CASE, {"id": instance.case_id}).one()
    return case


def _lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    found = session.execute(_LOCK_INSTANCE, {"id": instance_id}).one_or_none()
    if found is None:
        raise NotFound("No such process instance.", code="instance_not_found")
    instance, sha256, case = found
    return _locked(session, instance, sha256, case)


def _locked(
    session: Session, instance: ProcessInstance, sha256: str, case: Case | None
) -> ProcessInstance:
    if case is not None:
        session.info.setdefault(_CASES, {})[case.id] = case
    # The definition's XML and forms come from a process-wide cache, not from this query.
    set_committed_value(
        instance, "definition", definitions.definition_for(session, instance.definition_id, sha256)
    )
    return instance


# A completion's two locks in one round trip: the task, and its instance with the definition's
# hash and the case. Both rows are locked, so after waiting for another worker PostgreSQL
# re-reads their latest versions. The instance's other open tasks are read afterwards, by the
# projection, in a statement of its own: one joined in here would come from the snapshot taken
# before the wait and miss a task that worker created. (The case, joined but not locked, is
# from that snapshot too, as it was in _LOCK_INSTANCE before: fine for reading its client and
# primary worker; the flags written by scoring could lose a concurrent change to them.)
_TASK_AND_INSTANCE = _with_definition_and_case(
    select(HumanTask, ProcessInstance, ProcessDefinition.sha256, Case)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .where(HumanTask.id == bindparam("id")),
    lock=(HumanTask.__table__, ProcessInstance.__table__),
)


def _lock_task_and_instance(session: Session, task_id: int) -> tuple[HumanTask, ProcessInstance]:
    found = session.execute(_TASK_AND_INSTANCE, {"id": task_id}).one_or_none()
    if found is None:
        raise NotFound("No such task.", code="task_not_found")
    task, instance, sha256, case = found
    return task, _locked(session, instance, sha256, case)


def _load(instance: ProcessInstance, *, live: bool = True) -> Any:
    """The instance's workflow: the live object its last save in this process left, when the
    stored state is still exactly that save's (see engine.instances.live), else restored.
    A read-only view passes live=False: it must not take an object a command could use."""
    wf = LIVE.take(instance.id, instance.state) if live else None
    if wf is None:
        spec, subspecs = definitions.specs_for(instance.definition)
        wf = runtime.loads(instance.state, spec, subspecs, script_engine())
    # Finished loop rounds are dropped here, on load, never in the save of the command that
    # finished them: that save's projection sync still reads the round (its timers' outcome).
    runtime.prune_finished_iterations(wf)
    return wf


def _save(
    session: Session,
    instance: ProcessInstance,
    wf: Any,
    *,
    now: datetime,
    site: Site,
    actor: audit.Actor,
    timer_rows: Sequence[Timer] | None = None,
) -> list[HumanTask]:
    """`timer_rows`: the instance's waiting timer rows, when the command has already read
    them after taking the instance's lock (the projection then skips that read)."""
    # Before anything is stored, subscribers may still move the workflow (do-not-contact
    # withdraws ready outreach: engine.outreach); they name the tasks they closed and why.
    reasons: dict[str, str] = {}
    if instance.case_id is not None:
        saving = events.WorkflowSaving(
            instance_id=instance.id, case_id=instance.case_id, workflow=wf, at=now
        )
        for closed in events.emit(session, saving):
            reasons.update(closed or {})
    state = runtime.dumps(wf)
    LIVE.remember(session, instance.id, state, wf)
    try:
        # Nothing is flushed before the projection's own flush, which then carries the task
        # row, the state and the status together: one UPDATE of the instance row (and one
        # version bump) per command.
        instance.state = state
        instance.serializer_version = runtime.SERIALIZER_VERSION
        with session.no_autoflush:
            result = projections.sync(
                session,
                instance,
                wf,
                case=lambda: _case_of(session, instance),
                now=now,
                site=site,
                trust_next_timer=True,
                timer_rows=timer_rows,
            )
    except StaleDataError as exc:
        raise Conflict(
            "Someone else changed this pathway at the same time. Reload and try again.",
            code="stale_instance",
        ) from exc
    for row in result.cancelled:
        if row.spiff_task_id in reasons:
            row.cancel_reason = reasons[row.spiff_task_id]
        events.emit(
            session,
            events.TaskCancelled(
                task_id=row.id,
                instance_id=instance.id,
                case_id=instance.case_id,
                bpmn_id=row.bpmn_id,
                reason=row.cancel_reason,
                actor_id=actor.id,
                actor_name=actor.name,
                at=now,
            ),
        )
    for task in result.created:
        _audit_instance(
            session,
            audit.AuditTag.TASK_CREATED,
            instance,
            actor=actor,
            at=now,
            client_id=task.client_id,
            task_id=task.id,
            details={"bpmn_id": task.bpmn_id, "role": task.role, "priority": task.priority},
        )
        events.emit(
            session,
            events.TaskCreated(
                task_id=task.id,
                instance_id=instance.id,
                case_id=instance.case_id,
                bpmn_id=task.bpmn_id,
                role=task.role,
                priority=task.priority,
                at=now,
            ),
        )
    if instance.status == "completed":
        _audit_instance(
            session,
            audit.AuditTag.INSTANCE_COMPLETED,
            instance,
            actor=actor,
            at=now,
            details={"process": instance.definition.process_key},
        )
    return result.created


def _audit_instance(
    session: Session,
    tag: audit.AuditTag,
    instance: ProcessInstance,
    *,
    actor: audit.Actor,
    at: datetime,
    **fields: Any,
) -> None:
    """An audit row about one instance: its case and id are filled in."""
    audit.record(
        session,
        tag,
        actor=actor,
        at=at,
        case_id=instance.case_id,
        instance_id=instance.id,
        **fields,
    )


# ---------------------------------------------------------------- start ------------
def start_process(
    session: Session,
    *,
    process_key: str,
    case: Case | None,
    actor: User | None,
    clock: Clock,
    data: Mapping[str, Any] | None = None,
    definition: ProcessDefinition | None = None,
    parent_instance_id: int | None = None,
    site: Site = DEFAULT_SITE,
) -> CommandResult:
    definition = definition or definitions.current_definition(session, process_key)
    now = clock.now()
    seed: dict[str, Any] = {}
    if case is not None:
        seed = {
            "case_id": case.id,
            "client_id": case.client_id,
            "do_not_contact": case.client.do_not_contact,
            "behavioral_health": bool((case.flags or {}).get("behavioral_health")),
        }
    seed.update(data or {})
    spec, subspecs = definitions.specs_for(definition)
    with runtime.using_clock(clock):
        wf = runtime.start(spec, subspecs, script_engine(), seed)
    instance = ProcessInstance(
        definition_id=definition.id,
        definition=definition,
        case_id=case.id if case else None,
        parent_instance_id=parent_instance_id,
        status="running",
        state="",
        serializer_version=runtime.SERIALIZER_VERSION,
        started_by_id=actor.id if actor else None,
        started_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    who = actor_of(actor)
    _audit_instance(
        session,
        audit.AuditTag.INSTANCE_STARTED,
        instance,
        actor=who,
        at=now,
        client_id=case.client_id if case else None,
        details={"process": definition.process_key, "version": definition.version},
    )
    created = _save(session, instance, wf, now=now, site=site, actor=who)
    return CommandResult(instance, created)


# ---------------------------------------------------------------- tasks ------------
def complete_task(
    session: Session,
    *,
    task_id: int,
    data: Mapping[str, Any],
    actor: User,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> CommandResult:
    """Validate the form, complete the task, run to the next wait state. Raises Invalid with
    field errors (nothing changed), Forbidden, or Conflict when someone else got there first.

    Emits TaskCompleting before the workflow moves (a subscriber may refuse, or add task
    data), then TaskCompleted once the instance is saved, then ProcessCompleted if the task
    finished its pathway (engine.events). A task without a workflow (an escalation task) is
    completed by the subscriber of StandaloneTaskCompleting that owns its kind."""
    try:
        task, instance = _lock_task_and_instance(session, task_id)
    except NotFound:
        return _complete_standalone(session, task_id=task_id, data=data, actor=actor, clock=clock)
    require_open(task)
    require_can_work(actor, task)
    schema = instance.definition.forms.get(task.form) if task.form else None
    if schema is not None:
        validate(schema, data)
    now = clock.now()
    # Instrument answers become Assessment rows; task data keeps only the scored outcome.
    clean, outcome = assessments.score_form(session, task, dict(data), actor, now)
    with runtime.using_clock(clock):
        wf = _load(instance)
        ready = _ready(wf, task.workflow_task_id)
        completing = events.TaskCompleting(
            task_id=task.id,
            instance_id=instance.id,
            case_id=instance.case_id,
            bpmn_id=task.bpmn_id,
            properties=dict(ready.properties) if ready else {},
            task_data=dict(ready.data) if ready else {},
            form=clean,
            actor_id=actor.id,
            at=now,
            site=site,
        )
        extra = dict(outcome)
        for added in events.emit(session, completing):
            extra.update(added or {})
        runtime.complete(wf, task.workflow_task_id, clean, extra=extra)
    task.status = "completed"
    task.completed_at = now
    task.completed_by_id = actor.id
    if task.assignee_id is None:
        task.assignee_id = actor.id
    who = actor_of(actor)
    _audit_instance(
        session,
        audit.AuditTag.TASK_COMPLETED,
        instance,
        actor=who,
        at=now,
        client_id=task.client_id,
        task_id=task.id,
        details={"bpmn_id": task.bpmn_id, "fields": sorted(clean)},
    )
    created = _save(session, instance, wf, now=now, site=site, actor=who)
    # The same facts, now that the instance is saved (vars: the dataclass's fields).
    completed = events.TaskCompleted(
        parent_instance_id=instance.parent_instance_id, **vars(completing)
    )
    created += _created_by(events.emit(session, completed))
    created += _finished(session, instance, actor_id=actor.id, now=now, site=site)
    if instance.status == "completed":
        _close_case_when_its_pathway_ends(session, instance, actor=who, now=now)
    return CommandResult(instance, created, task=task)


def _ready(wf: Any, spiff_task_id: str) -> runtime.ReadyTask | None:
    return next((t for t in runtime.ready_human_tasks(wf) if t.id == spiff_task_id), None)


def _created_by(outcomes: Sequence[Any]) -> list[HumanTask]:
    """The tasks created by the commands subscribers ran (they return CommandResults)."""
    return [
        task
        for outcome in outcomes
        for result in (outcome or ())
        if isinstance(result, CommandResult)
        for task in result.created_tasks
    ]


def _finished(
    session: Session, instance: ProcessInstance, *, actor_id: int | None, now: datetime, site: Site
) -> list[HumanTask]:
    """Tell subscribers a command has ended `instance` (a finished pathway closes the
    referrals it opened); returns the tasks their commands created."""
    if instance.status != "completed":
        return []
    ended = events.ProcessCompleted(
        instance_id=instance.id,
        case_id=instance.case_id,
        parent_instance_id=instance.parent_instance_id,
        process_key=instance.definition.process_key,
        actor_id=actor_id,
        at=now,
        site=site,
    )
    return _created_by(events.emit(session, ended))


def _close_case_when_its_pathway_ends(
    session: Session, instance: ProcessInstance, *, actor: audit.Actor, now: datetime
) -> None:
    """The pathway a case was opened with (its first instance) ending closes the case, so no
    new work starts on it (a screen-now is refused). Follow-ups started later by messages or
    screens do not close it."""
    if instance.case_id is None or instance.parent_instance_id is not None:
        return
    first = session.scalar(
        select(ProcessInstance.id)
        .where(ProcessInstance.case_id == instance.case_id)
        .order_by(ProcessInstance.id)
        .limit(1)
    )
    case = session.get(Case, instance.case_id)
    if first != instance.id or case is None or case.status != "open":
        return
    case.status = "closed"
    case.closed_at = now
    audit.record(
        session,
        audit.AuditTag.CASE_CLOSED,
        actor=actor,
        at=now,
        category="case_record",
        case_id=case.id,
        client_id=case.client_id,
        details={"instance_id": instance.id},
    )


def _complete_standalone(
    session: Session, *, task_id: int, data: Mapping[str, Any], actor: User, clock: Clock
) -> CommandResult:
    """A task without a workflow (an escalation task): the subscriber that owns its kind
    completes it and names the pathway instance it concerns (engine.alarms)."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    completing = events.StandaloneTaskCompleting(
        task_id=task.id, kind=task.kind, form=dict(data), actor_id=actor.id, at=clock.now()
    )
    for instance_id in events.emit(session, completing):
        if instance_id is not None:
            return CommandResult(get_instance(session, instance_id))
    raise NotFound("No such task.", code="task_not_found")


def deliver_message(
    session: Session,
    *,
    name: str,
    case_id: int,
    payload: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
    instance_ids: Sequence[int] | None = None,
) -> list[CommandResult]:
    """Deliver a message to the case's instances waiting for it; if none waits, start every
    deployed process whose start event catches it, seeded with the payload as `message`. A
    feature module may own a message through MessageReceived (the `discharge` message:
    engine.discharge checks its payload, one per admission, deadlines counted from it).

    `instance_ids` limits delivery to those instances (a correlated message) and never starts
    anything: an empty list back means none of them was waiting."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    now = clock.now()
    actor_id = actor.id if actor is not None else None
    if instance_ids is None:
        # A feature module may own this message (a referral's status is correlated by referral
        # id, checked against its state machine, then delivered to that referral's instance
        # only, through instance_ids; a discharge is checked and counted by engine.discharge).
        arrived = events.MessageReceived(
            name=name, case_id=case_id, payload=payload, actor_id=actor_id, at=now, site=site
        )
        for handled in events.emit(session, arrived):
            if handled is not None:
                return list(handled)
    who = actor_of(actor)
    results = []
    live = session.scalars(
        select(ProcessInstance.id)
        .where(
            ProcessInstance.case_id == case_id,
            ProcessInstance.status.not_in(("completed", "cancelled")),
            *([ProcessInstance.id.in_(instance_ids)] if instance_ids is not None else []),
        )
        .order_by(ProcessInstance.id)
    ).all()
    for instance_id in live:
        instance = _lock_instance(session, instance_id)
        with runtime.using_clock(clock):
            wf = _load(instance)
            try:
                runtime.send_message(wf, name, payload)
            except Invalid:
                continue
        _audit_instance(
            session,
            audit.AuditTag.MESSAGE_RECEIVED,
            instance,
            actor=who,
            at=now,
            details={"message": name, "fields": sorted(payload)},
        )
        created = _save(session, instance, wf, now=now, site=site, actor=who)
        created += _delivered(session, instance, name, actor_id=actor_id, now=now, site=site)
        results.append(CommandResult(instance, created))
    if results or instance_ids is not None:
        return results
    results = start_by_message(
        session,
        name=name,
        case=case,
        payload=payload,
        seed=_message_start_seed(payload, now=now),
        actor=actor,
        clock=clock,
        site=site,
    )
    if not results:
        raise Invalid(
            f"No pathway of this case is waiting for the message '{name}'.",
            code="message_not_expected",
        )
    return results


def start_by_message(
    session: Session,
    *,
    name: str,
    case: Case,
    payload: Mapping[str, Any],
    seed: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[CommandResult]:
    """Start every deployed process whose start event catches the message `name`, seeded with
    `seed`, and hand it the message. An empty list: no process starts on that message."""
    now = clock.now()
    who = actor_of(actor)
    results = []
    for definition in _definitions_started_by(session, name):
        started = start_process(
            session,
            process_key=definition.process_key,
            case=case,
            actor=actor,
            clock=clock,
            definition=definition,
            data=seed,
            site=site,
        )
        instance = started.instance
        with runtime.using_clock(clock):
            wf = _load(instance)
            runtime.send_message(wf, name, payload)
        created = started.created_tasks + _save(
            session, instance, wf, now=now, site=site, actor=who
        )
        created += _delivered(
            session, instance, name, actor_id=actor.id if actor else None, now=now, site=site
        )
        results.append(CommandResult(instance, created))
    return results


def _message_start_seed(payload: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    return {"message": dict(payload), "message_received_at": now.isoformat()}


def _delivered(
    session: Session,
    instance: ProcessInstance,
    name: str,
    *,
    actor_id: int | None,
    now: datetime,
    site: Site,
) -> list[HumanTask]:
    delivered = events.MessageDelivered(
        instance_id=instance.id, case_id=instance.case_id, name=name, actor_id=actor_id, at=now
    )
    return _created_by(events.emit(session, delivered)) + _finished(
        session, instance, actor_id=actor_id, now=now, site=site
    )


def _definitions_started_by(session: Session, message: str) -> list[ProcessDefinition]:
    keys = session.scalars(select(ProcessDefinition.process_key).distinct()).all()
    out = []
    for key in keys:
        definition = definitions.current_definition(session, key)
        spec, _ = definitions.specs_for(definition)
        if message in runtime.message_start_names(spec):
            out.append(definition)
    return out


_TIMER = select(Timer).where(Timer.id == bindparam("id")).execution_options(populate_existing=True)
_INSTANCE_TIMERS = (
    select(Timer)
    .where(Timer.instance_id == bindparam("instance_id"), Timer.status == "waiting")
    .execution_options(populate_existing=True)
)


def fire_timer(session: Session, *, timer_id: int, clock: Clock, site: Site = DEFAULT_SITE) -> bool:
    """Fire one due timer. Returns False when it no longer applies (already fired by another
    worker, or cancelled): the instance version check makes a stale second firing a no-op."""
    peek = session.scalars(_TIMER, {"id": timer_id}).one_or_none()
    if peek is None or peek.status != "waiting":
        return False
    now = clock.now()
    if peek.due_at > now:
        return False
    instance = _lock_instance(session, peek.instance_id)
    # Re-read under the instance lock: a worker that fired this timer while we waited has
    # committed by now, and its projection says so. The instance's other waiting timers come
    # in the same query, for the projection.
    timer_rows = session.scalars(_INSTANCE_TIMERS, {"instance_id": instance.id}).all()
    timer = next((t for t in timer_rows if t.id == timer_id), None)
    if timer is None or timer.status != "waiting":
        return False
    with runtime.using_clock(clock):
        wf = _load(instance)
        runtime.fire_timers(wf)
    _audit_instance(
        session,
        audit.AuditTag.TIMER_FIRED,
        instance,
        actor=audit.SYSTEM,
        at=now,
        details={
            "bpmn_id": timer.bpmn_id,
            "timer_id": timer.id,
            "due_at": timer.due_at.isoformat(),
        },
    )
    _save(session, instance, wf, now=now, site=site, actor=audit.SYSTEM, timer_rows=timer_rows)
    if timer.status == "waiting":  # not yet due by the engine's strict clock: free it for a retry
        timer.lease_owner = None
        timer.lease_expires_at = None
        return False
    fired = events.TimerFired(
        timer_id=timer.id,
        instance_id=instance.id,
        case_id=instance.case_id,
        bpmn_id=timer.bpmn_id,
        at=now,
    )
    events.emit(session, fired)
    _finished(session, instance, actor_id=None, now=now, site=site)
    return True


def get_instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("No such process instance.", code="instance_not_found")
    return instance


@dataclass(frozen=True)
class InstanceView:
    instance: ProcessInstance
    completed: set[str]
    active: set[str]
    waiting: set[str]
    data: dict[str, Any]


def describe_instance(session: Session, instance_id: int) -> InstanceView:
    """What the diagram view marks: completed, active (ready human tasks) and waiting elements."""
    instance = get_instance(session, instance_id)
    wf = _load(instance, live=False)
    active = {t.bpmn_id for t in runtime.ready_human_tasks(wf)}
    waiting = {t.bpmn_id for t in runtime.waiting_timers(wf)}
    return InstanceView(instance, runtime.completed_bpmn_ids(wf), active, waiting, dict(wf.data))


def rebuild_projections(session: Session, *, clock: Clock, site: Site = DEFAULT_SITE) -> int:
    """Re-derive human_tasks and timers of every live instance from its stored state (cheap
    insurance after a bug or a manual repair). The state itself is not changed."""
    live = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.status.not_in(("completed", "cancelled")))
    ).all()
    for instance_id in live:
        instance = _lock_instance(session, instance_id)
        case = session.get(Case, instance.case_id) if instance.case_id else None
        projections.sync(
            session, instance, _load(instance, live=False), case=case, now=clock.now(), site=site
        )
    return len(live)


def push_live_data(
    session: Session,
    *,
    case: Case,
    data: Mapping[str, Any],
    actor: User | None,
    clock: Clock,
    site: Site = DEFAULT_SITE,
) -> list[HumanTask]:
    """Set `data` on every running pathway of the case and save each, in this transaction:
    later gateways and instructions read it, and the save's subscribers act on it (a
    do-not-contact flag withdraws ready outreach: engine.outreach). Returns the task rows that
    were open before and are closed now."""
    now = clock.now()
    who = actor_of(actor)
    live = session.scalars(
        select(ProcessInstance.id)
        .where(
            ProcessInstance.case_id == case.id,
            ProcessInstance.status.not_in(("completed", "cancelled")),
        )
        .order_by(ProcessInstance.id)
    ).all()
    closed: list[HumanTask] = []
    for instance_id in live:
        instance = _lock_instance(session, instance_id)
        with runtime.using_clock(clock):
            wf = _load(instance)
        runtime.set_live_data(wf, dict(data))
        open_before = set(
            session.scalars(
                select(HumanTask.id).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "open"
                )
            )
        )
        _save(session, instance, wf, now=now, site=site, actor=who)
        closed += [
            row
            for row in session.scalars(select(HumanTask).where(HumanTask.id.in_(open_before)))
            if row.status != "open"
        ]
    return closed
