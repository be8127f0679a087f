"""Read models only the HTML pages need: a case at a glance, a pathway as steps, the case list.
A task's page reads engine.tasks_view.view_task, as the API does. Reads only, except the audit
row every view of a client's record leaves (written in the caller's transaction like any other
change)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, notifications
from engine.access import (
    CaseAccess,
    mask_answers,
    mask_details,
    readable_cases,
    record_list_read,
)
from engine.accounts.models import User
from engine.assessments.models import Assessment
from engine.cases.models import Case, Client
from engine.cases.services import read_case, view_instance
from engine.cases.team import TeamEntry, can_change_team, team_of
from engine.clock import Clock
from engine.definitions.models import ProcessDefinition
from engine.definitions.services import get_definition
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.instances.services import describe_instance
from engine.tasks_view import usernames
from engine.workflow import parsing

# ---------------------------------------------------------------- pathways ---------

_FLOW_NODES = {
    "startEvent": "event",
    "endEvent": "event",
    "intermediateCatchEvent": "event",
    "intermediateThrowEvent": "event",
    "boundaryEvent": "event",
    "userTask": "task",
    "manualTask": "task",
    "task": "task",
    "scriptTask": "automatic",
    "serviceTask": "automatic",
    "businessRuleTask": "automatic",
    "sendTask": "automatic",
    "receiveTask": "task",
    "callActivity": "call",
    "subProcess": "call",
    "exclusiveGateway": "gateway",
    "parallelGateway": "gateway",
    "inclusiveGateway": "gateway",
    "eventBasedGateway": "gateway",
}


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    kind: str  # event|task|automatic|call|gateway
    element: str  # the BPMN element name, e.g. userTask
    called: str | None = None  # calledElement of a call activity


@dataclass(frozen=True)
class ProcessOutline:
    process_id: str
    name: str
    steps: tuple[Step, ...]
    user_tasks: tuple[tuple[str, str], ...]  # (bpmn id, name)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _outline(process: Any) -> ProcessOutline:
    """Steps in the order a reader would follow them: breadth-first from the start events
    along sequence flows, boundary events right after the activity they are attached to."""
    nodes: dict[str, Any] = {}
    for child in process:
        name = _local(child.tag)
        if name in _FLOW_NODES and child.get("id"):
            nodes[child.get("id")] = child
    outgoing: dict[str, list[str]] = {}
    for flow in process.iter(f"{{{parsing.BPMN_NS}}}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    boundaries: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        if _local(node.tag) == "boundaryEvent":
            boundaries.setdefault(node.get("attachedToRef", ""), []).append(node_id)
    starts = [i for i, n in nodes.items() if _local(n.tag) == "startEvent"]
    order: list[str] = []
    seen: set[str] = set()
    queue = list(starts)
    while queue:
        current = queue.pop(0)
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        order.append(current)
        for b in boundaries.get(current, []):
            if b not in seen:
                order.append(b)
                seen.add(b)
                queue.extend(outgoing.get(b, []))
        queue.extend(outgoing.get(current, []))
    order += [i for i in nodes if i not in seen]  # unreachable nodes still belong on the list
    steps = []
    for node_id in order:
        node = nodes[node_id]
        element = _local(node.tag)
        steps.append(
            Step(
                id=node_id,
                name=(node.get("name") or node_id).strip(),
                kind=_FLOW_NODES[element],
                element=element,
                called=node.get("calledElement") if element == "callActivity" else None,
            )
        )
    tasks = tuple((s.id, s.name) for s in steps if s.element in ("userTask", "manualTask"))
    return ProcessOutline(process.get("id", ""), process.get("name") or "", tuple(steps), tasks)


_outline_lock = threading.Lock()


@functools.lru_cache(maxsize=128)
def _outlines_of(name: str, text: str) -> dict[str, ProcessOutline]:
    try:
        doc = parsing.parse_document(name, text.encode("utf-8"))
    except parsing.DeploymentInvalid:
        return {}
    if doc.kind != "bpmn":
        return {}
    return {
        p.get("id"): _outline(p)
        for p in doc.root.iter(f"{{{parsing.BPMN_NS}}}process")
        if p.get("id")
    }


def outlines(files: dict[str, str]) -> dict[str, ProcessOutline]:
    """Every process in a definition's files, by process id (parsed once per content)."""
    out: dict[str, ProcessOutline] = {}
    with _outline_lock:
        for name, text in sorted(files.items()):
            out.update(_outlines_of(name, text))
    return out


@dataclass(frozen=True)
class StepState:
    step: Step
    state: str  # completed|active|waiting|pending


@dataclass(frozen=True)
class PathwayView:
    instance: ProcessInstance
    definition: ProcessDefinition
    completed: frozenset[str]
    active: frozenset[str]
    waiting: frozenset[str]
    steps: list[StepState]


def _state(step_id: str, completed: set[str], active: set[str], waiting: set[str]) -> str:
    if step_id in active:
        return "active"
    if step_id in waiting:
        return "waiting"
    if step_id in completed:
        return "completed"
    return "pending"


def pathway_view(session: Session, instance: ProcessInstance) -> PathwayView:
    """The markers bpmn-js draws and the step list shown without it. A call activity whose
    called process is under way is itself marked active."""
    view = describe_instance(session, instance.id)
    completed, active, waiting = set(view.completed), set(view.active), set(view.waiting)
    definition = instance.definition
    by_process = outlines(definition.files)
    main = by_process.get(definition.process_key)
    for outline in by_process.values():
        for step in outline.steps:
            if step.called and step.id not in completed:
                called = by_process.get(step.called)
                ids = {s.id for s in called.steps} if called else set()
                if ids & (active | waiting):
                    active.add(step.id)
    steps: list[StepState] = []
    if main is not None:
        for step in main.steps:
            steps.append(StepState(step, _state(step.id, completed, active, waiting)))
            called = by_process.get(step.called or "")
            if called is not None and called.process_id != main.process_id:
                steps += [
                    StepState(s, _state(s.id, completed, active, waiting))
                    for s in called.steps
                    if s.kind != "event" or s.element == "boundaryEvent"
                ]
    return PathwayView(
        instance=instance,
        definition=definition,
        completed=frozenset(completed),
        active=frozenset(active),
        waiting=frozenset(waiting),
        steps=steps,
    )


def task_types(session: Session) -> list[tuple[str, str]]:
    """(bpmn id, name) of every user task in the latest version of each deployed process:
    the inbox's task-type filter. Read from the diagrams, not by scanning the task table."""
    latest = (
        select(ProcessDefinition.process_key, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.process_key)
        .subquery()
    )
    rows = session.scalars(
        select(ProcessDefinition).join(
            latest,
            (ProcessDefinition.process_key == latest.c.process_key)
            & (ProcessDefinition.version == latest.c.v),
        )
    ).all()
    found: dict[str, str] = {}
    for definition in rows:
        for outline in outlines(definition.files).values():
            for bpmn_id, name in outline.user_tasks:
                found.setdefault(bpmn_id, name)
    return sorted(found.items(), key=lambda item: item[1].lower())


# ---------------------------------------------------------------- cases ------------


@dataclass(frozen=True)
class TeamMember:
    user_id: int
    name: str
    roles: tuple[str, ...]
    part: str  # why they are on the team


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    task_name: str | None


@dataclass(frozen=True)
class ScreenAnswers:
    """One screening's item answers as this reader may see them."""

    answers: dict[str, Any]
    hidden: list[str]  # items masked for this reader


@dataclass(frozen=True)
class CaseOverview:
    case: Case
    client: Client
    open_tasks: list[HumanTask]
    done_tasks: list[HumanTask]
    names: dict[int, str]
    team: list[TeamMember]
    timeline: list[TimelineItem]
    assessments: list[Assessment]
    pathways: list[PathwayView]
    access: CaseAccess
    answers: dict[int, ScreenAnswers]  # by assessment id
    care_team: list[TeamEntry]
    can_change_team: bool


def case_overview(session: Session, *, case_id: int, actor: User, clock: Clock) -> CaseOverview:
    """Everything the case page shows, masked for this reader. Audited as a view of the
    client's record; RecordAccessDenied for a reader outside the rule."""
    read = read_case(session, case_id=case_id, actor=actor, clock=clock)
    case, granted = read.case, read.access
    tasks = list(
        session.scalars(
            select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)
        )
    )
    open_tasks = sorted((t for t in tasks if t.status == "open"), key=lambda t: t.due_at)
    done_tasks = sorted(
        (t for t in tasks if t.status != "open"),
        key=lambda t: t.completed_at or t.created_at,
        reverse=True,
    )
    names = usernames(
        session,
        [t.assignee_id for t in tasks]
        + [t.completed_by_id for t in tasks]
        + [case.primary_social_worker_id, case.opened_by_id],
        display=True,
    )
    events = audit.events_for_case(session, case.id, limit=1000)
    task_names = {t.id: t.name for t in tasks}
    timeline = [
        TimelineItem(
            e.at,
            e.actor,
            e.action,
            mask_details(e.details or {}, sensitive=granted.sensitive),
            task_names.get(e.task_id or -1),
        )
        for e in events
    ]
    # Alerts and their delivery state (engine.notifications) sit among the events.
    timeline += [
        TimelineItem(at, "system", action, details, task_names.get(details["task_id"] or -1))
        for at, action, details in notifications.timeline(session, case_id=case.id)
    ]
    timeline.sort(key=lambda item: item.at, reverse=True)
    instances = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.case_id == case.id)
        .order_by(ProcessInstance.id)
    ).all()
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.administered_at.desc(), Assessment.id.desc())
        )
    )
    names.update(usernames(session, [a.administered_by_id for a in assessments], display=True))
    return CaseOverview(
        case=case,
        client=case.client,
        open_tasks=open_tasks,
        done_tasks=done_tasks,
        names=names,
        team=_team(session, case, tasks),
        timeline=timeline,
        assessments=assessments,
        pathways=[pathway_view(session, i) for i in instances],
        access=granted,
        answers={
            a.id: ScreenAnswers(
                *mask_answers(a.instrument, a.answers or {}, sensitive=granted.sensitive)
            )
            for a in assessments
        },
        care_team=team_of(session, case),
        can_change_team=can_change_team(session, case=case, actor=actor),
    )


def _team(session: Session, case: Case, tasks: list[HumanTask]) -> list[TeamMember]:
    parts: dict[int, list[str]] = {}
    if case.primary_social_worker_id:
        parts.setdefault(case.primary_social_worker_id, []).append("Primary social worker")
    for t in tasks:
        if t.status == "open" and t.assignee_id:
            parts.setdefault(t.assignee_id, []).append(f"Holds: {t.name}")
    for t in tasks:
        if t.status == "completed" and t.completed_by_id and t.completed_by_id not in parts:
            parts.setdefault(t.completed_by_id, []).append(f"Completed: {t.name}")
    if not parts:
        return []
    users = session.scalars(select(User).where(User.id.in_(parts))).all()
    by_id = {u.id: u for u in users}
    return [
        TeamMember(uid, by_id[uid].display_name, tuple(sorted(by_id[uid].role_keys)), "; ".join(p))
        for uid, p in parts.items()
        if uid in by_id
    ]


def instance_for_diagram(
    session: Session, *, instance_id: int, actor: User, clock: Clock
) -> PathwayView:
    """A pathway's diagram data: a read of its case's record (rule and audit of
    view_instance)."""
    view_instance(session, instance_id=instance_id, actor=actor, clock=clock)
    instance = session.get(ProcessInstance, instance_id)
    assert instance is not None  # view_instance raised NotFound otherwise
    return pathway_view(session, instance)


def definition_xml(session: Session, definition_id: int) -> tuple[str, str, ProcessDefinition]:
    """(file name, XML text, definition) of one deployed version's main diagram."""
    definition = get_definition(session, definition_id)
    return definition.main_file, definition.bpmn_xml, definition


def find_cases(
    session: Session,
    *,
    actor: User,
    clock: Clock,
    name: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Case]:
    """The cases this reader may read (engine.access), newest first, optionally by client
    name (given or family, any part) and status. One audit row per list or search."""
    stmt = (
        select(Case)
        .join(Client, Client.id == Case.client_id)
        .where(readable_cases(actor, now=clock.now()))
    )
    if name:
        pattern = f"%{name.lower()}%"
        stmt = stmt.where(
            func.lower(Client.family_name).like(pattern)
            | func.lower(Client.given_name).like(pattern)
            | func.lower(Client.mrn).like(pattern)
        )
    if status:
        stmt = stmt.where(Case.status == status)
    rows = list(session.scalars(stmt.order_by(Case.id.desc()).limit(limit)))
    record_list_read(
        session,
        actor=actor,
        at=clock.now(),
        case_ids=[c.id for c in rows],
        search=bool(name or status),
    )
    return rows


def open_task_counts(session: Session, case_ids: Iterable[int]) -> dict[int, int]:
    ids = list(case_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(HumanTask.case_id, func.count())
        .where(HumanTask.case_id.in_(ids), HumanTask.status == "open")
        .group_by(HumanTask.case_id)
    )
    return {case_id: n for case_id, n in rows.tuples() if case_id is not None}
