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

__all__ = [
    "CommandResult",
    "InstanceView",
    "ProcessInstance",
    "actor_of",
    "complete_task",
    "deliver_message",
    "describe_instance",
    "fire_timer",
    "get_instance",
    "get_task",
    "start_process",
]
