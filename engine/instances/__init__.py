from engine.instances.live import LIVE
from engine.instances.message_rules import authorize_message, declared_messages
from engine.instances.models import ProcessInstance
from engine.instances.services import (
    CommandResult,
    InstanceView,
    actor_of,
    complete_task,
    deliver_message,
    describe_instance,
    fire_timer,
    get_instance,
    get_task,
    start_process,
)


def configure_live_workflows(max_entries: int) -> None:
    """How many live workflows this process keeps between commands (0: none)."""
    LIVE.configure(max_entries)


__all__ = [
    "CommandResult",
    "InstanceView",
    "ProcessInstance",
    "actor_of",
    "authorize_message",
    "complete_task",
    "configure_live_workflows",
    "declared_messages",
    "deliver_message",
    "describe_instance",
    "fire_timer",
    "get_instance",
    "get_task",
    "start_process",
]
