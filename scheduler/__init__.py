"""The timer runner: APScheduler wakes the engine when timers are due. Holds no SQL and no
SpiffWorkflow: it asks engine.timers what is due and fires each in its own transaction."""

from scheduler.alarms import AlertJobs, EscalationRunner
from scheduler.notifier import NotificationSender
from scheduler.runner import TimerRunner

__all__ = ["AlertJobs", "EscalationRunner", "NotificationSender", "TimerRunner"]
