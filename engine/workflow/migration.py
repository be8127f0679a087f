"""Moving a running workflow onto another version of its spec, with SpiffWorkflow's own
migration helpers (SpiffWorkflow.bpmn.util.diff): task specs are aligned by BPMN id, and
the tasks the instance waits on are reset and re-predicted under the new spec.

`blockers` says why a workflow must stay where it is; `migrate` moves it (in memory)."""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin, InclusiveGatewayMixin
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.errors import CareBridgeError
from engine.workflow import runtime

_WAITING = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Tasks that may set data before a gateway downstream of them is reached.
_PRODUCERS = frozenset(
    {"UserTask", "ManualTask", "ScriptTask", "BusinessRuleTask", "CallActivity", "SubWorkflowTask"}
)


def _type(spec: Any) -> str:
    return type(spec).__name__


def _form_of(spec: Any) -> tuple[str | None, str | None]:
    props = (getattr(spec, "extensions", None) or {}).get("properties", {})
    return props.get("formJsonSchemaFilename"), props.get("formUiSchemaFilename")


def _boundary_split(spec: Any) -> Any | None:
    return next((i for i in spec.inputs if isinstance(i, BoundaryEventSplit)), None)


def _gains_boundary_events(task: Any, new: Any) -> bool:
    split = _boundary_split(new)
    if split is None:
        return False
    parent = task.parent.task_spec if task.parent is not None else None
    if not isinstance(parent, BoundaryEventSplit):
        return True
    old_events = {o.name for o in parent.outputs}
    return bool({o.name for o in split.outputs} - old_events)


def _names(expression: str) -> set[str]:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    # Names a comprehension binds are not the case's data.
    return {n.id for n in names} - {n.id for n in names if isinstance(n.ctx, ast.Store)}


def _conditions(spec: Any) -> list[str]:
    # (condition, output name) pairs; a BPMN condition holds its expression text in args[0].
    out = []
    for condition, _ in getattr(spec, "cond_task_specs", []):
        text = getattr(condition, "args", [None])[0] if condition is not None else None
        if isinstance(text, str) and text.strip():
            out.append(text)
    return out


def _gateways_reached_now(new_spec: Any, start_names: set[str]) -> list[Any]:
    """Gateways of `new_spec` reached from the tasks named `start_names` without passing a
    task that could set data first: they will decide on the data the instance has now."""
    found, seen = [], set()
    # A waiting task that produces data (a form) may still set what the gateway reads.
    stack = [
        out
        for n in start_names
        if n in new_spec.task_specs and _type(new_spec.task_specs[n]) not in _PRODUCERS
        for out in new_spec.task_specs[n].outputs
    ]
    while stack:
        spec = stack.pop()
        if spec.name in seen:
            continue
        seen.add(spec.name)
        if isinstance(spec, (ExclusiveGatewayMixin, InclusiveGatewayMixin)):
            found.append(spec)
        if _type(spec) in _PRODUCERS:
            continue
        stack.extend(spec.outputs)
    return found


def blockers(
    wf: BpmnWorkflow, new_spec: Any, new_subspecs: Any, *, now: datetime, serializer: Any
) -> list[str]:
    """Why `wf` cannot move to `new_spec` (empty: it can). Checked on a migrated copy where a
    question is only answered by running the new spec (the timers)."""
    reasons: list[str] = []
    registry = serializer.registry
    spec_diff = SpecDiff(registry, wf.spec, new_spec)
    waiting = [t for t in wf.get_tasks(state=_WAITING, skip_subprocesses=True)]
    removed = set(spec_diff.removed)
    for task in waiting:
        spec = task.task_spec
        label = spec.bpmn_id or spec.name
        if spec in removed:
            reasons.append(f"the task '{label}' it is waiting on was removed")
            continue
        new = spec_diff.alignment.get(spec)
        if new is not None and _type(new) != _type(spec):
            reasons.append(
                f"the task '{label}' it is waiting on changed type ({_type(spec)} to {_type(new)})"
            )
        elif new is not None and _form_of(new) != _form_of(spec):
            # The open inbox task keeps the form it was offered with; answers to another
            # form would be checked against the wrong schema.
            reasons.append(f"the form of the task '{label}' it is waiting on changed")
        elif new is not None and _gains_boundary_events(task, new):
            # Boundary events hang off a split before the task, which this case has passed:
            # the new escalation or deadline would silently never start for it.
            reasons.append(
                f"the task '{label}' it is waiting on has new boundary events that would "
                "not start for this case"
            )
    for sub in wf.subprocesses.values():
        name = sub.spec.name
        if name != new_spec.name and name not in (new_subspecs or {}):
            reasons.append(f"the subprocess '{name}' it is running is not in the new version")
    if reasons:
        return reasons
    data: dict[str, Any] = dict(wf.data)
    for task in waiting:
        data.update(task.data)
    current = {t.task_spec.name for t in waiting}
    for gateway in _gateways_reached_now(new_spec, current):
        missing = sorted(
            {n for c in _conditions(gateway) for n in _names(c)} - data.keys() - _BUILTINS
        )
        if missing:
            reasons.append(
                f"the gateway '{gateway.bpmn_id}' needs {', '.join(missing)}, which this "
                "case does not have yet"
            )
    if reasons:
        return reasons
    copy = runtime.loads(runtime.dumps(wf), wf.spec, wf.subprocess_specs, wf.script_engine)
    try:
        # Not run: a timer already due would fire in the run and leave no trace to check.
        migrate(copy, new_spec, new_subspecs, serializer=serializer, run=False)
    except CareBridgeError as exc:
        return [f"the new version cannot continue from where this case is: {exc.public_message}"]
    # A timer the case waits on whose new definition is already due has fired during the
    # migration itself (SpiffWorkflow re-checks it on reset); a new one may be due as well.
    waited = {t.task_id: t.bpmn_id for t in runtime.waiting_timers(wf)}
    still = {t.task_id for t in runtime.waiting_timers(copy)}
    fired = sorted({bpmn_id for task_id, bpmn_id in waited.items() if task_id not in still})
    fired += [t.bpmn_id for t in runtime.waiting_timers(copy) if t.due_at <= now]
    reasons += [f"the timer '{bpmn_id}' would fire at once" for bpmn_id in fired]
    return reasons


_BUILTINS = frozenset({"True", "False", "None", "len", "int", "str", "float", "bool", "any", "all"})


def migrate(
    wf: BpmnWorkflow, new_spec: Any, new_subspecs: Any, *, serializer: Any, run: bool = True
) -> None:
    """Re-attach `new_spec` (and the called processes' specs) to `wf` in place, tasks mapped
    by BPMN id; the tasks it waits on are re-predicted under the new spec."""
    top, subs = diff_workflow(serializer.registry, wf, new_spec, new_subspecs or {})
    migrate_workflow(top, wf, new_spec)
    for sp_id, sub_diff in subs.items():
        sub = wf.subprocesses.get(sp_id)
        if sub is not None and sub_diff is not None:
            migrate_workflow(sub_diff, sub, new_subspecs[sub.spec.name])
    wf.subprocess_specs = new_subspecs or {}
    if run:
        runtime.run_engine(wf)
