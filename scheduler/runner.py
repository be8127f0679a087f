"""Wake at the earliest due timer, fire what is due, sleep until the next one.

A slow safety sweep also runs, so timers created by another process (a web worker, a second
scheduler) are never missed for longer than the sweep interval.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine import timers
from engine.calendar import DEFAULT_SITE, Site
from engine.clock import Clock, SystemClock
from engine.errors import Conflict

log = logging.getLogger("carebridge.scheduler")

# SpiffWorkflow fires a timer only once due < now (strictly): wake a hair after due.
WAKE_SLACK = timedelta(milliseconds=20)


class TimerRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        site: Site = DEFAULT_SITE,
        owner: str | None = None,
        lease_s: int = 60,
        batch: int = 100,
        sweep_s: float = 15.0,
        on_fired: Callable[[int], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.site = site
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_s = lease_s
        self.batch = batch
        self.sweep_s = sweep_s
        self.on_fired = on_fired
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()

    # -- one pass -------------------------------------------------------------------
    def run_due(self) -> int:
        """Claim and fire everything due now; returns how many timers fired."""
        fired = 0
        with self._lock:  # one pass at a time per process; other processes coordinate by lease
            while True:
                with self.sessions.begin() as session:
                    ids = timers.claim_due_timers(
                        session,
                        owner=self.owner,
                        now=self.clock.now(),
                        lease_s=self.lease_s,
                        limit=self.batch,
                    )
                if not ids:
                    return fired
                for timer_id in ids:
                    if self._fire(timer_id):
                        fired += 1

    def _fire(self, timer_id: int, attempts: int = 3) -> bool:
        for attempt in range(attempts):
            try:
                with self.sessions.begin() as session:
                    done = timers.fire(session, timer_id=timer_id, clock=self.clock, site=self.site)
                if done and self.on_fired:
                    self.on_fired(timer_id)
                return done
            except (Conflict, OperationalError) as exc:
                # Someone changed the instance under us (a person completing a task): the
                # state we fired against is stale, so try again on the fresh state.
                log.info("timer %s retry %s after %s", timer_id, attempt + 1, type(exc).__name__)
            except Exception:
                log.exception(
                    "timer %s failed; its lease will expire and it will be retried", timer_id
                )
                return False
        return False

    def next_wakeup(self) -> datetime | None:
        with self.sessions.begin() as session:
            return timers.next_wakeup(session, now=self.clock.now())

    # -- APScheduler ----------------------------------------------------------------
    def _tick(self) -> None:
        try:
            self.run_due()
        except Exception:
            log.exception("timer pass failed")
        self._schedule_next()

    def _schedule_next(self) -> None:
        if self._scheduler is None:
            return
        try:
            when = self.next_wakeup()
        except Exception:
            log.exception("could not read the next timer")
            return
        if when is None:
            return
        run_at = max(when + WAKE_SLACK, datetime.now(when.tzinfo) + timedelta(milliseconds=5))
        self._scheduler.add_job(
            self._tick,
            "date",
            run_date=run_at,
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def nudge(self) -> None:
        """Call when a timer may have been created earlier than the scheduled wake-up."""
        self._schedule_next()

    def start(self) -> None:
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._tick, "interval", seconds=self.sweep_s, id="sweep", max_instances=1, coalesce=True
        )
        self._scheduler.start()
        self._scheduler.add_job(self._tick, "date", id="wake", replace_existing=True)

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
