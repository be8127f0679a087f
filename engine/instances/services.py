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

from engine import alarms, audit, drafts, outreach, referrals
from engine.accounts.models import User
from engine.assessments import needs as assessment_needs
from engine.assessments import services as assessments
from engine.calendar import DEFAULT_SITE, Site
from engine.cases.models import Case, Client
from engine.clock import Clock
from engine.definitions import services as definitions
from engine.definitions.models import ProcessDefinition
from engine.errors import Conflict, Invalid, NotFound
from engine.inbox.models import HumanTask
from engine.instances import projections
from engine.instances.live import LIVE
from engine.instances.models import ProcessInstance
from engine.timers.models import Timer
from engine.workflow import runtime

_script_engine: Any = None
DISCHARGE_MESSAGE = "discharge"


def script_engine() -> Any:
    global _script_engine
    if _script_engine is None:
        from engine.workflow.helpers import SCRIPT_HELPERS
        from engine.workflow.scripting import make_script_engine

        _script_engine = make_script_engine(helpers=SCRIPT_HELPERS)
    return _script_engine


@dataclass(frozen=True)
class _FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def actor_of(user: User | None) -> audit.Actor:
    return audit.Actor(user.id, user.username) if user is not None else audit.SYSTEM


@dataclass(frozen=True)
class CommandResult:
    instance: ProcessInstance
    created_tasks: list[HumanTask] = field(default_factory=list)


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
    case = session.info.get(_CASES, {}).get(instance.case_id)
    if case is None:
        case = session.scalars(_CASE, {"id": instance.case_id}).one()
    return case  # type: ignore[no-any-return]


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
    # Do-not-contact reaches every step: outreach that is ready now, whoever made it ready,
    # is withdrawn before anything is saved (the in-memory check first: most saves have none).
    withdrawn: list[str] = []
    if (
        instance.case_id is not None
        and outreach.may_reach_out(instance.definition)
        and outreach.ready_outreach(wf)
    ):
        if outreach.case_is_dnc(_case_of(session, instance)):
            with runtime.using_clock(_FixedClock(now)):
                withdrawn = outreach.withdraw(wf)
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
        if row.spiff_task_id in withdrawn:
            row.cancel_reason = outreach.WITHDRAWN
            _audit_instance(
                session,
                audit.AuditTag.OUTREACH_WITHDRAWN,
                instance,
                actor=actor,
                at=now,
                client_id=row.client_id,
                task_id=row.id,
                details={"bpmn_id": row.bpmn_id, "reason": outreach.WITHDRAWN},
            )
    # Alarm hook points (the lead may move them onto TaskCreated/TaskCancelled events).
    alarms.start(session, result.created, now=now)
    alarms.stop_for_closed(session, result.cancelled, now=now)
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
_TASK = select(HumanTask).where(HumanTask.id == bindparam("id"))
_TASK_FOR_UPDATE = _TASK.with_for_update().execution_options(populate_existing=True)


def get_task(session: Session, task_id: int, *, for_update: bool = False) -> HumanTask:
    if for_update:
        task = session.scalars(_TASK_FOR_UPDATE, {"id": task_id}).one_or_none()
    else:
        task = session.get(HumanTask, task_id)  # may come from the identity map
    if task is None:
        raise NotFound("No such task.", code="task_not_found")
    return task


def require_open(task: HumanTask) -> None:
    if task.status != "open":
        raise Conflict(f"This task is already {task.status}.", code="task_closed")


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
    field errors (nothing changed), Forbidden, or Conflict when someone else got there first."""
    from engine.forms import instrument_fields, validate
    from engine.inbox.permissions import require_can_work
    from engine.reports.outcomes import outcome_of as report_outcome

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
    case = _case_of(session, instance)
    # Only a form with screening instruments can flag the client (AHC safety > 10): read the
    # flag before scoring only then, which spares the other completions a query.
    screens = schema is not None and bool(instrument_fields(schema))
    dnc_before = outreach.case_is_dnc(case) if screens else True
    # Instrument answers become Assessment rows; task data keeps only the scored outcome.
    clean, outcome = assessments.score_form(session, task, dict(data), actor, now)
    with runtime.using_clock(clock):
        wf = _load(instance)
        ready = next((t for t in runtime.ready_human_tasks(wf) if t.id == task.spiff_task_id), None)
        rule_data = (
            _check_task_rules(session, ready, task, clean, actor=actor, now=now)
            if ready is not None and task.case_id is not None
            else {}
        )
        # Referral steps (send with consent, re-refer, outcome) change Referral rows and may
        # add task data (the answer deadline) before the task runs.
        step = referrals.before_task_completion(
            session, task=task, wf=wf, data=clean, actor=actor, clock=clock, site=site
        )
        runtime.complete(
            wf, task.workflow_task_id, clean, extra={**rule_data, **outcome, **step.extra}
        )
    task.status = "completed"
    task.completed_at = now
    task.completed_by_id = actor.id
    if task.assignee_id is None:
        task.assignee_id = actor.id
    # The coded result the quality reports count (TCM, FUH, care-plan needs); codes only.
    covers = ready is not None and str(ready.properties.get("coversScreenedNeeds")) in (
        "true",
        "True",
    )
    task.outcome = report_outcome(task.bpmn_id, clean, covers_needs=covers) or task.outcome
    alarms.on_completed(session, task, actor=actor, now=now)  # alarm hook point (TaskCompleted)
    drafts.on_task_completed(session, task)
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
    # A care plan starts one referral instance per need; a finished pathway closes its referrals.
    for started in referrals.after_task_completion(
        session, step, instance=instance, actor=actor, clock=clock, site=site
    ):
        created += started.created_tasks
    if not dnc_before and outreach.case_is_dnc(case):
        # The screen just flagged the client (AHC interpersonal safety > 10): the flag reaches
        # every running pathway of the client now, in this transaction.
        from engine.cases.flags import gained_do_not_contact

        assert case is not None
        _, plan = gained_do_not_contact(session, case=case, actor=actor, clock=clock, site=site)
        if plan is not None:
            created.append(plan)
    if instance.status == "completed":
        _close_case_when_its_pathway_ends(session, instance, actor=who, now=now)
    return CommandResult(instance, created)


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
    """A task without a workflow (an escalation task): completed by engine.alarms. The result
    names the pathway instance of the task it escalated."""
    task = session.get(HumanTask, task_id)
    if task is None or task.kind != "escalation":
        raise NotFound("No such task.", code="task_not_found")
    done = alarms.complete_escalation(session, task_id=task_id, data=data, actor=actor, clock=clock)
    original = session.get(HumanTask, done.escalates_task_id) if done.escalates_task_id else None
    if original is None or original.instance_id is None:
        raise NotFound("The escalated task is gone.", code="task_not_found")
    return CommandResult(get_instance(session, original.instance_id))


def _store_language(session: Session, client_id: int | None, data: Mapping[str, Any]) -> None:
    """The intake's language and interpreter need go on the client: referrals show them and
    the directory search matches on them."""
    client = session.get(Client, client_id) if client_id is not None else None
    if client is None:
        return
    language = data.get("primary_language")
    if isinstance(language, str) and language.strip():
        client.preferred_language = language.strip()[:40]
    if isinstance(data.get("interpreter_needed"), bool):
        client.interpreter_needed = data["interpreter_needed"]


def _check_task_rules(
    session: Session,
    ready: runtime.ReadyTask,
    task: HumanTask,
    data: Mapping[str, Any],
    *,
    actor: User,
    now: datetime,
) -> dict[str, Any]:
    """What a task's properties ask of its completion: `coversScreenedNeeds` (a care plan
    must address every need the case's screens found, else Invalid naming each), `fuhCheck`
    (a HEDIS FUH check: its result goes on the case timeline), `closesCase`, and
    `recordsConsent` (the intake: a decline is noted, and the admission's screens decide
    whether the crisis path runs anyway). Returns task data to add."""
    assert task.case_id is not None
    extra: dict[str, Any] = {}
    consent_field = ready.properties.get("recordsConsent")
    if consent_field:
        _store_language(session, task.client_id, data)
        risk = assessment_needs.admission_risk(session, task.case_id)
        extra["admission_risk"] = {k: risk[k] for k in ("suicide_risk", "safety_concern", "any")}
        if data.get(consent_field) == "declined":
            if risk["any"] and "screening" not in ready.data:
                extra["screening"] = risk["screening"]
            audit.record(
                session,
                audit.AuditTag.SERVICES_DECLINED,
                actor=actor_of(actor),
                at=now,
                category="case_record",
                case_id=task.case_id,
                client_id=task.client_id,
                task_id=task.id,
                details={"crisis_path": risk["any"]},
            )
    if str(ready.properties.get("coversScreenedNeeds", "")).lower() == "true":
        assessment_needs.require_needs_addressed(session, case_id=task.case_id, plan=data)
    if str(ready.properties.get("closesCase", "")).lower() == "true":
        case = session.get(Case, task.case_id)
        assert case is not None
        case.status = "closed"
        case.closed_at = now
        audit.record(
            session,
            audit.AuditTag.CASE_CLOSED,
            actor=actor_of(actor),
            at=now,
            category="case_record",
            case_id=case.id,
            client_id=case.client_id,
            details={"bpmn_id": task.bpmn_id},
        )
    fuh = ready.properties.get("fuhCheck")
    if fuh:
        audit.record(
            session,
            audit.AuditTag.FUH_RECORDED,
            actor=actor_of(actor),
            at=now,
            category="behavioral_health",
            case_id=task.case_id,
            client_id=task.client_id,
            instance_id=task.instance_id,
            task_id=task.id,
            details={
                "check": f"{fuh}_day",
                "visit_status": data.get("visit_status"),
                "visit_date": data.get("visit_date"),
            },
        )
    return extra


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
    deployed process whose start event catches it, seeded with the payload as `message`. The
    `discharge` message goes to engine.discharge (payload checks, one per admission, deadlines
    counted from the discharge).

    `instance_ids` limits delivery to those instances (a correlated message) and never starts
    anything: an empty list back means none of them was waiting."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", code="case_not_found")
    if name == DISCHARGE_MESSAGE and instance_ids is None:
        # One discharge per admission, its payload checked, its deadlines counted from the
        # discharge itself: engine.discharge owns it.
        from engine import discharge

        return discharge.handle_discharge_message(
            session, case=case, payload=payload, actor=actor, clock=clock, site=site
        )
    if name == referrals.STATUS_MESSAGE and instance_ids is None:
        # Correlated by referral id: validated against the referral state machine, recorded,
        # then delivered to that referral's own instance only (it calls back with instance_ids).
        return referrals.handle_status_message(
            session, case=case, payload=payload, actor=actor, clock=clock, site=site
        )
    now = clock.now()
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
        results.append(
            CommandResult(instance, _save(session, instance, wf, now=now, site=site, actor=who))
        )
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
        results.append(
            CommandResult(
                instance,
                started.created_tasks + _save(session, instance, wf, now=now, site=site, actor=who),
            )
        )
    return results


def _message_start_seed(payload: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    return {"message": dict(payload), "message_received_at": now.isoformat()}


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


def push_contact_flag(
    session: Session, *, case: Case, actor: User | None, clock: Clock, site: Site = DEFAULT_SITE
) -> list[HumanTask]:
    """Tell every running pathway of the case that its client is now do-not-contact, in this
    transaction: later gateways and instructions read the flag, and ready outreach tasks are
    withdrawn (status cancelled, cancel_reason do_not_contact). Returns the withdrawn rows."""
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
    withdrawn: list[HumanTask] = []
    for instance_id in live:
        instance = _lock_instance(session, instance_id)
        with runtime.using_clock(clock):
            wf = _load(instance)
        runtime.set_live_data(wf, {outreach.DNC_FLAG: True})
        open_before = set(
            session.scalars(
                select(HumanTask.id).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "open"
                )
            )
        )
        _save(session, instance, wf, now=now, site=site, actor=who)
        withdrawn += [
            row
            for row in session.scalars(select(HumanTask).where(HumanTask.id.in_(open_before)))
            if row.cancel_reason == outreach.WITHDRAWN
        ]
    return withdrawn
