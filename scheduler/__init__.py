"""The timer runner: APScheduler wakes the engine when timers are due. Holds no SQL and no
SpiffWorkflow: it asks engine.timers what is due and fires each in its own transaction."""

from scheduler.runner import TimerRunner

__all__ = ["TimerRunner"]
