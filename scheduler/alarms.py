"""The alert jobs of the scheduler process: take due steps of the alarm ladder, then deliver
the outbox. APScheduler runs them every few seconds beside the timer runner."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.session import Session, sessionmaker

from engine import alarms
from engine.clock import Clock, SystemClock
from engine.errors import Conflict
from engine.uow import UnitOfWork
from scheduler.notifier import NotificationSender

log = logging.getLogger("carebridge.alarms")


class EscalationRunner:
    """Each due task is escalated in its own transaction, under its row lock (engine.alarms
    re-checks it is still due there), so two schedulers never take one step twice."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()

    def run_due(self) -> int:
        with UnitOfWork(self.sessions) as uow:
            ids = alarms.due(uow.session, now=self.clock.now())
        raised = 0
        for task_id in ids:
            try:
                with UnitOfWork(self.sessions) as uow:
                    raised += alarms.escalate(uow.session, task_id=task_id, now=self.clock.now())
            except (Conflict, OperationalError):
                log.warning("escalation of task %s deferred: database busy", task_id)
        return raised


class AlertJobs:
    """Both jobs on one background scheduler (its own, so the timer runner is untouched)."""

    def __init__(
        self, escalations: EscalationRunner, sender: NotificationSender, *, every_s: float = 5.0
    ) -> None:
        self.escalations = escalations
        self.sender = sender
        self.every_s = every_s
        self._scheduler: BackgroundScheduler | None = None

    def tick(self) -> None:
        try:
            self.escalations.run_due()
        except Exception:
            log.exception("escalation pass failed")
        try:
            self.sender.run_due()
        except Exception:
            log.exception("notification pass failed")

    def start(self) -> None:
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.every_s,
            id="alerts",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
