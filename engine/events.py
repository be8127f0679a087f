"""Domain events: what a command did, told to the feature modules that care.

The core (engine/instances) emits events and knows nobody who listens; feature modules
(referrals, later notifications and reports) subscribe at start-up through `wire()` in
engine/wiring.py. Subscribers run synchronously, in the emitting command's session and so in
its transaction: what they write commits or rolls back with the command.

A subscriber is `handler(session, event)`. Most return None; where a command uses what its
subscribers did, the event's docstring says what they may return (the commands they ran, extra
task data, ...). Events carry ids and small values, never ORM objects or note text.

`emit` finds the command's unit of work through `session.info` (set by engine.uow), so engine
code written against a plain `session` keeps working; the unit of work keeps the events of its
transaction for the work it runs after commit (an outbox dispatcher, for instance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from engine.calendar import DEFAULT_SITE, Site

# session.info key under which engine.uow keeps the session's unit of work.
UNIT_OF_WORK = "carebridge.unit_of_work"


class Event:
    """Base of every domain event (frozen dataclasses below)."""


@dataclass(frozen=True)
class TaskCreated(Event):
    task_id: int
    instance_id: int
    case_id: int | None
    bpmn_id: str
    role: str | None
    priority: str
    at: datetime


@dataclass(frozen=True)
class TaskCancelled(Event):
    """The workflow closed an open task without anyone completing it (a boundary event, a
    finished pathway, a withdrawal). `reason` is its cancel_reason."""

    task_id: int
    instance_id: int
    case_id: int | None
    bpmn_id: str
    reason: str | None
    actor_id: int | None
    actor_name: str
    at: datetime


@dataclass(frozen=True)
class WorkflowSaving(Event):
    """An instance of a case is about to be stored (every command's save). Subscribers may
    still move `workflow` (the runtime object, owned by the command: do not keep it) and
    return a dict {spiff task id: cancel reason} for the ready tasks they closed; the task rows
    get that reason, and their TaskCancelled says it."""

    instance_id: int
    case_id: int
    workflow: Any
    at: datetime


@dataclass(frozen=True)
class StandaloneTaskCompleting(Event):
    """Someone completes a task without a workflow (an escalation task). The subscriber that
    owns its `kind` validates and completes it, and returns the id of the pathway instance the
    task concerns; the others return None."""

    task_id: int
    kind: str
    form: Mapping[str, Any]
    actor_id: int
    at: datetime


@dataclass(frozen=True)
class TaskCompleting(Event):
    """A task's form is valid and the workflow is about to run it. Subscribers may refuse
    (raise a domain error: nothing has moved yet) or return a dict of extra task data, which
    is added to what the task stores. `properties` and `task_data` are the task's
    spiffworkflow properties and its data before the form; `form` is the validated form."""

    task_id: int
    instance_id: int
    case_id: int | None
    bpmn_id: str
    properties: Mapping[str, Any]
    task_data: Mapping[str, Any]
    form: Mapping[str, Any]
    actor_id: int
    at: datetime
    site: Site = DEFAULT_SITE


@dataclass(frozen=True)
class TaskCompleted(Event):
    """The task ran and its instance is saved. Subscribers may return the commands they ran
    (a list of engine.instances.CommandResult): their new tasks are reported with the
    completion's."""

    task_id: int
    instance_id: int
    case_id: int | None
    parent_instance_id: int | None
    bpmn_id: str
    properties: Mapping[str, Any]
    task_data: Mapping[str, Any]
    form: Mapping[str, Any]
    actor_id: int
    at: datetime
    site: Site = DEFAULT_SITE


@dataclass(frozen=True)
class ProcessCompleted(Event):
    """An instance reached its end, by whatever command. Subscribers may return the commands
    they ran, like TaskCompleted's."""

    instance_id: int
    case_id: int | None
    parent_instance_id: int | None
    process_key: str
    actor_id: int | None
    at: datetime
    site: Site = DEFAULT_SITE


@dataclass(frozen=True)
class MessageReceived(Event):
    """A message for a case, not yet correlated to an instance. A subscriber that owns the
    message `name` handles it and returns its results (a list of CommandResult); the first
    that returns something other than None takes the message, and the generic delivery (to
    every instance of the case waiting for it) does not run."""

    name: str
    case_id: int
    payload: Mapping[str, Any]
    actor_id: int | None
    at: datetime
    site: Site = DEFAULT_SITE


@dataclass(frozen=True)
class MessageDelivered(Event):
    instance_id: int
    case_id: int | None
    name: str
    actor_id: int | None
    at: datetime


@dataclass(frozen=True)
class TimerFired(Event):
    timer_id: int
    instance_id: int
    case_id: int | None
    bpmn_id: str
    at: datetime


@dataclass(frozen=True)
class CaseFlagChanged(Event):
    """A screening set flags on a case (`do_not_contact`, `behavioral_health`, ...).
    `task_id`: the task being completed whose form held the screening, if any (its
    TaskCompleted follows in the same command)."""

    case_id: int
    client_id: int
    flags: tuple[str, ...]
    actor_id: int | None
    at: datetime
    task_id: int | None = None


E = TypeVar("E", bound=Event)
E_contra = TypeVar("E_contra", bound=Event, contravariant=True)


class Handler(Protocol[E_contra]):
    def __call__(self, session: Session, event: E_contra, /) -> Any: ...


@dataclass
class Registry:
    """Who listens to which event, in the order they subscribed; and what runs after a unit
    of work commits (given the events it emitted)."""

    _handlers: dict[type[Event], list[Handler[Any]]] = field(default_factory=dict)
    _committed: list[Callable[[Sequence[Event]], None]] = field(default_factory=list)

    def subscribe(self, event_type: type[E], handler: Handler[E]) -> None:
        handlers = self._handlers.setdefault(event_type, [])
        if handler not in handlers:  # wiring twice must not deliver twice
            handlers.append(handler)

    def unsubscribe(self, event_type: type[E], handler: Handler[E]) -> None:
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)

    def on_committed(self, hook: Callable[[Sequence[Event]], None]) -> None:
        """Run `hook(events)` after every unit of work that emitted events has committed
        (never after a rollback): the place for an outbox dispatcher."""
        if hook not in self._committed:
            self._committed.append(hook)

    def handlers(self, event_type: type[Event]) -> list[Handler[Any]]:
        return self._handlers.get(event_type, [])

    def committed_hooks(self) -> list[Callable[[Sequence[Event]], None]]:
        return list(self._committed)

    def clear(self) -> None:
        self._handlers.clear()
        self._committed.clear()


REGISTRY = Registry()


def emit(session: Session, event: Event, *, registry: Registry | None = None) -> list[Any]:
    """Tell `event`'s subscribers, in `session`'s transaction; returns what each returned."""
    unit = session.info.get(UNIT_OF_WORK)
    if unit is not None:
        unit.record(event)
    registry = registry or (unit.registry if unit is not None else REGISTRY)
    return [handler(session, event) for handler in registry.handlers(type(event))]
