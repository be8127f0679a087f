"""Stat tasks that cannot be missed: acknowledgement, the escalation ladder and its alerts."""

from engine.alarms.acknowledgement import (
    acknowledge,
    can_acknowledge,
    complete_escalation,
    on_completed,
)
from engine.alarms.form import ESCALATION_FORM
from engine.alarms.ladder import STEP, due, escalate, next_due, resume, start, stop_for_closed
from engine.alarms.subscribers import subscribe

__all__ = [
    "ESCALATION_FORM",
    "STEP",
    "acknowledge",
    "can_acknowledge",
    "complete_escalation",
    "due",
    "escalate",
    "next_due",
    "on_completed",
    "resume",
    "start",
    "stop_for_closed",
    "subscribe",
]
