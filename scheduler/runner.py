"""Wake at the earliest due timer, fire what is due, sleep until the next one.

A slow safety sweep also runs, so timers created by another process (a web worker, a second
scheduler) are never missed for longer than the sweep interval.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm.session import Session, sessionmaker

from engine import instances, timers
from engine.calendar import DEFAULT_SITE, Site
from engine.clock import Clock, SystemClock
from engine.errors import Conflict
from engine.uow import UnitOfWork
from engine.wiring import wire
from scheduler import heartbeat

log = logging.getLogger("carebridge.scheduler")

# SpiffWorkflow fires a timer only once due < now (strictly): wake a hair after due.
WAKE_SLACK = timedelta(milliseconds=20)
# A timer due this soon after a pass is waited for in the same job.
HORIZON = timedelta(milliseconds=250)
# Stop firing a claimed batch once this share of its lease has gone.
LEASE_BUDGET = 0.6


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
        workers: int | None = None,
        heartbeat: Path | None = None,
    ) -> None:
        wire()  # the scheduler's commands emit events too: their subscribers must be there
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.site = site
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_s = lease_s
        self.batch = batch
        self.sweep_s = sweep_s
        self.on_fired = on_fired
        self.heartbeat = heartbeat
        # Timers of a claimed batch are fired by this many threads. On PostgreSQL a firing
        # waits on round trips most of its time, so a few in flight multiply what one process
        # fires; SQLite takes one writer at a time, so there it stays one.
        self.workers = workers or (4 if _dialect(sessions) == "postgresql" else 1)
        self._pool: ThreadPoolExecutor | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._stopping = threading.Event()
        self.next_due: datetime | None = None

    # -- one pass -------------------------------------------------------------------
    def run_due(self) -> int:
        """Claim and fire everything due now; returns how many timers fired. Leaves the next
        wake-up time (read in the transaction of the last, empty claim) in `self.next_due`."""
        fired = 0
        with self._lock:  # one pass at a time per process; other processes coordinate by lease
            while True:
                with UnitOfWork(self.sessions) as uow:
                    now = self.clock.now()
                    ids = timers.claim_due_timers(
                        uow.session,
                        owner=self.owner,
                        now=now,
                        lease_s=self.lease_s,
                        limit=self.batch,
                    )
                    if not ids:
                        self.next_due = timers.next_wakeup(uow.session, now=now)
                if self.heartbeat is not None:
                    self._beat(self.heartbeat, now)
                if not ids:
                    return fired
                deadline = [time.monotonic() + self.lease_s * LEASE_BUDGET] * len(ids)
                outcomes = list(self._executor().map(self._fire_before, ids, deadline))
                fired += sum(1 for outcome in outcomes if outcome)
                # Firing has been slow: the rest of the batch would have been fired after its
                # lease ran out, racing another worker. Hand it back; the next claim retakes it.
                late = [t for t, outcome in zip(ids, outcomes, strict=True) if outcome is None]
                self._release(late)

    def _beat(self, path: Path, now: datetime) -> None:
        """A pass reached the database: tell the health probe (scheduler.heartbeat)."""
        try:
            heartbeat.beat(path, at=now, interval_s=self.sweep_s)
        except OSError:
            log.exception("could not write the heartbeat %s; timers keep firing", path)

    def _fire_before(self, timer_id: int, deadline: float) -> bool | None:
        """Fire one timer of a batch, or None when the batch's lease budget has run out."""
        if time.monotonic() > deadline:
            return None
        return self._fire(timer_id)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="timer-fire")
        return self._pool

    def _release(self, timer_ids: list[int]) -> None:
        if not timer_ids:
            return
        with UnitOfWork(self.sessions) as uow:
            for timer_id in timer_ids:
                timers.release_lease(uow.session, timer_id=timer_id, owner=self.owner)

    def _fire(self, timer_id: int, attempts: int = 3) -> bool:
        for attempt in range(attempts):
            try:
                with UnitOfWork(self.sessions) as uow:
                    done = instances.fire_timer(
                        uow.session, timer_id=timer_id, clock=self.clock, site=self.site
                    )
                if done and self.on_fired:
                    self.on_fired(timer_id)
                return done
            except Conflict as exc:
                # Someone changed the instance under us (a person completing a task), or the
                # database chose this transaction as a deadlock's or a lock wait's loser (the
                # unit of work makes each of those a Conflict): retry on the fresh state.
                log.info("timer %s retry %s after %s", timer_id, attempt + 1, type(exc).__name__)
            except Exception:
                log.exception(
                    "timer %s failed; its lease will expire and it will be retried", timer_id
                )
                return False
        return False

    def next_wakeup(self) -> datetime | None:
        with UnitOfWork(self.sessions) as uow:
            return timers.next_wakeup(uow.session, now=self.clock.now())

    # -- APScheduler ----------------------------------------------------------------
    def _tick(self, *, follow: bool = True) -> None:
        """Fire what is due. With `follow`, while the next timer is due within HORIZON, wait
        for it here rather than through APScheduler (a job re-scheduled from inside itself for
        "now" is skipped as already running, and each round trip costs more than the wait).
        One tick at a time: a tick that finds another running leaves the work to it."""
        if not self._tick_lock.acquire(blocking=False):
            return
        when: datetime | None = None
        try:
            while not self._stopping.is_set():
                self.run_due()
                when = self.next_due
                if when is None or not follow:
                    break
                wait = (when + WAKE_SLACK - datetime.now(when.tzinfo)).total_seconds()
                if wait > HORIZON.total_seconds():
                    break
                self._stopping.wait(max(0.0, wait))
        except Exception:
            log.exception("timer pass failed")
            when = None
        finally:
            self._tick_lock.release()
        self._schedule_next(when)

    def _sweep(self) -> None:
        self._tick(follow=False)

    def _schedule_next(self, when: datetime | None = None) -> None:
        if self._scheduler is None:
            return
        if when is None:
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
        self._stopping.clear()
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self.sweep_s,
            id="sweep",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()
        self._scheduler.add_job(self._tick, "date", id="wake", replace_existing=True)

    def stop(self) -> None:
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _dialect(sessions: sessionmaker[Session]) -> str | None:
    bind = sessions.kw.get("bind")
    return getattr(getattr(bind, "dialect", None), "name", None)
