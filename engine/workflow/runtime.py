"""Running SpiffWorkflow: create, load, save, and act on workflows.

The only module (with parsing/scripting) that touches SpiffWorkflow objects; callers get
plain dataclasses back. State is stored WITHOUT the spec: the spec comes from the
definition's cached parse, which keeps a saved instance ~3x smaller and cheap to load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, StandardLoopTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.clock import Clock
from engine.errors import Conflict, Invalid, ScriptError

# ---------------------------------------------------------------- clock ------------
# SpiffWorkflow reads datetime.now() inside its timer module. We swap in a datetime whose
# now() consults a context-local clock, so a FrozenClock in tests (or a scheduler that
# fires "as of" a time) drives timers without sleeping. Threads start with no override
# and get the real time.
_clock_override: ContextVar[Clock | None] = ContextVar("carebridge_clock", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        clock = _clock_override.get()
        if clock is None:
            return datetime.now(tz)
        now = clock.now()
        return now.astimezone(tz) if tz is not None else now.astimezone(UTC).replace(tzinfo=None)


spiff_timer.datetime = _ClockedDatetime


@contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    token = _clock_override.set(clock)
    try:
        yield
    finally:
        _clock_override.reset(token)


# ---------------------------------------------------------------- serialization ----
class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the stored state and takes it back from the caller on load."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: Any = None,
        subprocess_specs: Any = None,
        script_engine: Any = None,
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    registry = DefaultRegistry()
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config, registry))


SERIALIZER = _make_serializer()
SERIALIZER_VERSION = SERIALIZER.VERSION


def dumps(wf: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(wf)


def loads(state: str, spec: Any, subprocess_specs: Any, script_engine: Any) -> BpmnWorkflow:
    dct = json.loads(state)
    SERIALIZER.migrate(dct)
    return SERIALIZER.registry.restore(
        dct, spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine
    )


# ---------------------------------------------------------------- views ------------
@dataclass(frozen=True)
class ReadyTask:
    id: str
    bpmn_id: str
    name: str
    lane: str | None
    properties: dict[str, str]
    variable: str | None
    instructions: str | None
    documentation: str | None
    process_id: str
    data: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    bpmn_id: str
    due_at: datetime


def _all_tasks(wf: BpmnWorkflow) -> Iterator[Task]:
    # Walk the task dicts rather than the tree iterator: the iterator stops at depth 1000
    # (SPIFFWORKFLOW.md, "loop cliff") and would silently hide deep tasks.
    yield from wf.tasks.values()
    for sub in wf.subprocesses.values():
        yield from sub.tasks.values()


def ready_human_tasks(wf: BpmnWorkflow) -> list[ReadyTask]:
    out = []
    for t in _all_tasks(wf):
        if t.state != TaskState.READY or not t.task_spec.manual:
            continue
        spec = t.task_spec
        ext = getattr(spec, "extensions", None) or {}
        out.append(
            ReadyTask(
                id=str(t.id),
                bpmn_id=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                lane=spec.lane,
                properties=dict(ext.get("properties", {})),
                variable=getattr(spec, "variable", None) or ext.get("variableName"),
                instructions=ext.get("instructionsForEndUser"),
                documentation=getattr(spec, "documentation", None),
                process_id=t.workflow.spec.name,
                data=t.data,
            )
        )
    return out


def waiting_timers(wf: BpmnWorkflow) -> list[WaitingTimer]:
    out = []
    for t in _all_tasks(wf):
        if t.state != TaskState.WAITING:
            continue
        event_def = getattr(t.task_spec, "event_definition", None)
        if not isinstance(event_def, TimerEventDefinition):
            continue
        value = event_def.details(t).value
        if value is None:
            continue
        out.append(
            WaitingTimer(
                task_id=str(t.id),
                bpmn_id=t.task_spec.bpmn_id,
                due_at=TimerEventDefinition.get_datetime(value),
            )
        )
    return out


def prune_finished_iterations(wf: BpmnWorkflow) -> int:
    """Forget the finished iterations of loops and multi-instance activities.

    SpiffWorkflow keeps every finished round of a repeated call activity or subprocess (its
    whole sub-workflow, and its task under the loop), so a pathway's state, and the time to
    load and save it, would grow with every round (SPIFFWORKFLOW.md). A finished iteration has
    already merged its data into the loop task, and nothing reads it again: its sub-workflow
    is dropped, and under a standard loop (which counts rounds in its own `merged` list, not
    by its children) the iteration's task goes too. Call it on a freshly loaded workflow:
    whatever finished was settled in the projections (timers fired or cancelled) in the
    command that finished it. Returns how many sub-workflows and tasks were dropped."""
    dropped = 0
    for workflow in (wf, *wf.subprocesses.values()):
        if workflow is not wf and workflow.parent_task_id not in wf.subprocesses:
            continue  # went with an enclosing iteration dropped just before
        for task in list(workflow.tasks.values()):
            loop = task.parent
            if (
                loop is None
                or not isinstance(loop.task_spec, LoopTask)
                or not task.has_state(TaskState.FINISHED_MASK)
            ):
                continue
            if task.id in wf.subprocesses:
                wf.delete_subprocess(task)
                dropped += 1
            if (
                isinstance(loop.task_spec, StandardLoopTask)
                and not task._children
                and task is not workflow.last_task
            ):
                loop._children.remove(task.id)
                del workflow.tasks[task.id]
                dropped += 1
    return dropped


def completed_bpmn_ids(wf: BpmnWorkflow) -> set[str]:
    return {
        t.task_spec.bpmn_id
        for t in _all_tasks(wf)
        if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id
    }


def status(wf: BpmnWorkflow) -> str:
    if wf.is_completed():
        return "completed"
    return "waiting"


# ---------------------------------------------------------------- actions ----------
def _wrap(exc: Exception) -> Exception:
    """Translate library exceptions into ours, without task data in the message."""
    from engine.workflow.scripting import find_script_error

    script_error = find_script_error(exc)
    task_spec = getattr(exc, "task_spec", None)
    element = getattr(task_spec, "bpmn_id", None)
    if script_error is not None:
        if element is None or script_error.public_message.startswith(f"{element}: "):
            return script_error
        # Name the element the code belongs to: a diagram has many scripts and conditions.
        given = script_error.details
        items = given if isinstance(given, list) else [given]
        details = [{**d, "element_id": element} for d in (items or [{}])]
        named = ScriptError(f"{element}: {script_error.public_message}", details=details)
        named.__cause__ = script_error.__cause__
        return named
    where = f" at {element}" if element is not None else ""
    return ScriptError(f"The pathway could not continue{where}: {type(exc).__name__}")


def run_engine(wf: BpmnWorkflow) -> None:
    try:
        wf.do_engine_steps()
    except (WorkflowException, ScriptError) as exc:
        raise _wrap(exc) from exc


def start(
    spec: Any, subprocess_specs: Any, script_engine: Any, data: Mapping[str, Any]
) -> BpmnWorkflow:
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    start_task = next(t for t in wf.tasks.values() if t.state == TaskState.READY)
    start_task.data.update(data)
    run_engine(wf)
    return wf


def get_task(wf: BpmnWorkflow, task_id: str) -> Task:
    task = wf.get_task_from_id(UUID(task_id))
    if task is None:
        raise Conflict("This task is no longer part of the pathway.", code="task_gone")
    return task


def complete(
    wf: BpmnWorkflow,
    task_id: str,
    data: Mapping[str, Any],
    *,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Put the form under the task's variableName (or at the top level without one), add
    `extra` at the top level (e.g. the scored `screening`), run the task, then engine steps."""
    task = get_task(wf, task_id)
    if task.state != TaskState.READY:
        raise Conflict("This task has already been completed.", code="task_closed")
    if hasattr(task.task_spec, "add_data_from_form"):
        task.task_spec.add_data_from_form(task, dict(data))
    else:
        task.data.update(data)
    task.data.update(extra or {})
    try:
        task.run()
    except (WorkflowException, ScriptError) as exc:
        raise _wrap(exc) from exc
    run_engine(wf)


def update_task_data(wf: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
    get_task(wf, task_id).data.update(data)


def set_live_data(wf: BpmnWorkflow, values: Mapping[str, Any]) -> int:
    """Put `values` into the data of every task that is ready, waiting or running (in called
    processes too), so the steps that follow read them: a flag set on the case after the
    pathway started (do-not-contact) reaches its later gateways and instructions. Returns
    how many tasks were changed."""
    changed = 0
    for t in _all_tasks(wf):
        if t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            t.data.update(values)
            changed += 1
    return changed


def fire_timers(wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    run_engine(wf)


def send_message(wf: BpmnWorkflow, name: str, payload: Mapping[str, Any]) -> None:
    event = BpmnEvent(MessageEventDefinition(name), dict(payload))
    try:
        wf.send_event(event)
    except WorkflowException as exc:
        raise Invalid(
            f"This pathway is not waiting for the message '{name}'.", code="message_not_expected"
        ) from exc
    run_engine(wf)


def iso_duration(value: str, start: datetime) -> Any:
    """An ISO-8601 duration (`PT24H`, `P1M`) as a timedelta from `start`, calendar-aware."""
    parsed = TimerEventDefinition.parse_iso_duration(value)
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def timer_outcome(wf: BpmnWorkflow, task_id: str) -> str:
    """What became of a timer that is no longer waiting: fired, or cancelled with its activity."""
    task = wf.get_task_from_id(UUID(task_id))
    if task is not None and task.state == TaskState.COMPLETED:
        return "fired"
    return "cancelled"


def message_names(spec: Any, subprocess_specs: Mapping[str, Any] | None = None) -> set[str]:
    """Every message a process (and what it calls) sends or waits for, by name."""
    names = set()
    for one in [spec, *(subprocess_specs or {}).values()]:
        for ts in one.task_specs.values():
            event_def = getattr(ts, "event_definition", None)
            if isinstance(event_def, MessageEventDefinition) and event_def.name:
                names.add(event_def.name)
    return names


def message_start_names(spec: Any) -> set[str]:
    names = set()
    for ts in spec.task_specs.values():
        event_def = getattr(ts, "event_definition", None)
        if ts.__class__.__name__ == "StartEvent" and isinstance(event_def, MessageEventDefinition):
            names.add(event_def.name)
    return names


def task_data(wf: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    return dict(get_task(wf, task_id).data)
