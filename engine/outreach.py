"""Client outreach and the do-not-contact flag.

A task that reaches out to the client (a transitional-care call, a referral contact check, a
follow-up call) carries the task property `clientOutreach = true`, and an interrupting boundary
event catching the message `do_not_contact` that leads to its safe counterpart (or ends it).
While the case's client is flagged do-not-contact, the engine sends that message to any
pathway with such a task ready, in the same command, so no outreach task stays open or is
created: `withdraw_before_save` (a WorkflowSaving subscriber, wired by engine.wiring) runs
before every save of a case's instance, and `audit_withdrawal` records each withdrawn task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.cases.models import Case
from engine.clock import FrozenClock
from engine.errors import Invalid
from engine.events import Registry, TaskCancelled, WorkflowSaving
from engine.inbox.models import HumanTask
from engine.instances.models import ProcessInstance
from engine.workflow import runtime

OUTREACH_PROPERTY = "clientOutreach"
DNC_MESSAGE = "do_not_contact"
DNC_FLAG = "do_not_contact"
WITHDRAWN = "do_not_contact"  # HumanTask.cancel_reason of outreach the flag withdrew


_MAY_REACH_OUT: dict[str, bool] = {}


def may_reach_out(definition: Any) -> bool:
    """Whether a deployed definition (any of its files) has an outreach task at all: most
    saves then skip looking for one. Cached by content hash: a definition never changes, and
    its files are read once."""
    found = _MAY_REACH_OUT.get(definition.sha256)
    if found is None:
        files: Mapping[str, Any] = definition.files or {}
        found = _MAY_REACH_OUT[definition.sha256] = any(
            isinstance(text, str) and OUTREACH_PROPERTY in text for text in files.values()
        )
    return found


def is_outreach(task: runtime.ReadyTask) -> bool:
    return str(task.properties.get(OUTREACH_PROPERTY, "")).lower() == "true"


def ready_outreach(wf: Any) -> list[runtime.ReadyTask]:
    return [t for t in runtime.ready_human_tasks(wf) if is_outreach(t)]


def case_is_dnc(case: Case | None) -> bool:
    if case is None:
        return False
    return bool(case.client.do_not_contact or (case.flags or {}).get(DNC_FLAG))


def client_flags(case: Case | None) -> dict[str, bool]:
    """The case's current flags that are set (`do_not_contact`, `behavioral_health`, ...):
    what every task JSON carries, so a client of the API never acts on a stale flag."""
    if case is None:
        return {}
    return flags_of(case.flags, client_do_not_contact=case.client.do_not_contact)


def flags_of(case_flags: Any, *, client_do_not_contact: bool) -> dict[str, bool]:
    flags = {k: True for k, v in (case_flags or {}).items() if v is True}
    if client_do_not_contact:
        flags[DNC_FLAG] = True
    return dict(sorted(flags.items()))


def withdraw(wf: Any) -> list[str]:
    """Withdraw the workflow's ready outreach tasks (the diagram's boundary events take the
    pathway to their safe counterparts). Returns the spiff ids of the withdrawn tasks."""
    ready = ready_outreach(wf)
    if not ready:
        return []
    runtime.set_live_data(wf, {DNC_FLAG: True})
    try:
        runtime.send_message(wf, DNC_MESSAGE, {})
    except Invalid:
        # A version deployed before outreach tasks could be withdrawn (the pre-flight now
        # refuses that): its instances keep their own do-not-contact gateways.
        return []
    still = {t.id for t in runtime.ready_human_tasks(wf)}
    return [t.id for t in ready if t.id not in still]


# ---------------------------------------------------------------- subscribers ------
def withdraw_before_save(session: Session, event: WorkflowSaving) -> dict[str, str]:
    """Do-not-contact reaches every step: outreach that is ready now, whoever made it ready,
    is withdrawn before the instance is saved (the in-memory checks first: most saves have
    none). Returns {spiff task id: WITHDRAWN} for the withdrawn tasks."""
    instance = session.get(ProcessInstance, event.instance_id)  # the command's, in memory
    if instance is None or not may_reach_out(instance.definition):
        return {}
    if not ready_outreach(event.workflow):
        return {}
    if not case_is_dnc(session.get(Case, event.case_id)):
        return {}
    with runtime.using_clock(FrozenClock(event.at)):
        withdrawn = withdraw(event.workflow)
    return dict.fromkeys(withdrawn, WITHDRAWN)


def audit_withdrawal(session: Session, event: TaskCancelled) -> None:
    if event.reason != WITHDRAWN:
        return
    task = session.get(HumanTask, event.task_id)
    audit.record(
        session,
        audit.AuditTag.OUTREACH_WITHDRAWN,
        actor=audit.Actor(event.actor_id, event.actor_name),
        at=event.at,
        case_id=event.case_id,
        instance_id=event.instance_id,
        client_id=task.client_id if task is not None else None,
        task_id=event.task_id,
        details={"bpmn_id": event.bpmn_id, "reason": WITHDRAWN},
    )


def subscribe(registry: Registry) -> None:
    registry.subscribe(WorkflowSaving, withdraw_before_save)
    registry.subscribe(TaskCancelled, audit_withdrawal)
