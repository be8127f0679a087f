from engine.audit import actor_of
from engine.inbox.tasks import get_task
from engine.instances.live import LIVE
from engine.instances.message_rules import authorize_message, declared_messages
from engine.instances.models import ProcessInstance
from engine.instances.services import (
    CommandResult,
    InstanceView,
    complete_task,
    deliver_message,
    describe_instance,
    fire_timer,
    get_instance,
    push_live_data,
    rebuild_projections,
    start_by_message,
    start_process,
)
from engine.workflow.sandbox_pool import SANDBOX


def configure_live_workflows(max_entries: int) -> None:
    """How many live workflows this process keeps between commands (0: none)."""
    LIVE.configure(max_entries)


def configure_script_sandbox(*, workers: int, memory_mb: int) -> None:
    """How many sandbox worker processes run diagram code, and each one's memory limit."""
    SANDBOX.configure(size=workers, memory_mb=memory_mb)


__all__ = [
    "CommandResult",
    "InstanceView",
    "ProcessInstance",
    "actor_of",
    "authorize_message",
    "complete_task",
    "configure_live_workflows",
    "configure_script_sandbox",
    "declared_messages",
    "deliver_message",
    "describe_instance",
    "fire_timer",
    "get_instance",
    "get_task",
    "push_live_data",
    "rebuild_projections",
    "start_by_message",
    "start_process",
]
