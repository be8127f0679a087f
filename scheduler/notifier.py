"""The outbox sender: claims due notification rows, hands each to its channel outside any
transaction, and records the outcome. Runs inside the scheduler process beside the timer
runner; several processes share the work through leases (engine.notifications.outbox)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping

from sqlalchemy.orm.session import Session, sessionmaker

from engine import notifications
from engine.clock import Clock, SystemClock
from engine.notifications import DeliveryError
from engine.uow import UnitOfWork

log = logging.getLogger("carebridge.notifier")

# Stop sending a claimed batch once this share of its lease has gone (as the timer runner).
LEASE_BUDGET = 0.5


class NotificationSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, notifications.Channel],
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_s: int = 60,
        batch: int = 50,
        max_attempts: int = notifications.outbox.MAX_ATTEMPTS,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.clock = clock or SystemClock()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_s = lease_s
        self.batch = batch
        self.max_attempts = max_attempts
        self._lock = threading.Lock()

    def run_due(self) -> int:
        """Deliver what is due now; returns how many rows were sent."""
        sent = 0
        with self._lock:
            while True:
                with UnitOfWork(self.sessions) as uow:
                    batch = notifications.claim_due(
                        uow.session,
                        owner=self.owner,
                        now=self.clock.now(),
                        lease_s=self.lease_s,
                        limit=self.batch,
                    )
                if not batch:
                    return sent
                delivered, untried = self._deliver_batch(batch)
                sent += delivered
                if untried:
                    with UnitOfWork(self.sessions) as uow:
                        notifications.release(uow.session, message_ids=untried, owner=self.owner)
                    return sent  # the next pass takes them, once the channel had a rest

    def _deliver_batch(self, batch: list[notifications.Message]) -> tuple[int, list[int]]:
        """Send a claimed batch; returns (sent, ids not tried). A row is not tried once the
        lease budget is spent (another sender could take it after the lease, and send it
        twice) or once its channel refused a message in this batch (a channel that is down
        would make every row wait for its timeout)."""
        deadline = time.monotonic() + self.lease_s * LEASE_BUDGET
        down: set[str] = set()
        sent, untried = 0, []
        for message in batch:
            if message.channel in down or time.monotonic() > deadline:
                untried.append(message.id)
                continue
            outcome = self._deliver(message)
            if outcome == "sent":
                sent += 1
            elif outcome == "retry":
                down.add(message.channel)
        return sent, untried

    def _deliver(self, message: notifications.Message) -> str:
        """sent | retry (the channel refused: it may be down) | failed (for good)."""
        channel = self.channels.get(message.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {message.channel} is not configured", permanent=True)
            channel.send(message)
        except DeliveryError as exc:
            self._record_failure(message, str(exc), permanent=exc.permanent)
            return "failed" if exc.permanent else "retry"
        except Exception as exc:  # a bug in a channel must not stop the others
            log.exception("notification %s: channel %s crashed", message.id, message.channel)
            self._record_failure(message, f"{type(exc).__name__}: {exc}", permanent=False)
            return "retry"
        with UnitOfWork(self.sessions) as uow:
            held = notifications.mark_sent(
                uow.session, message_id=message.id, owner=self.owner, now=self.clock.now()
            )
        if not held:
            log.warning("notification %s was sent after its lease ran out", message.id)
        return "sent"

    def _record_failure(
        self, message: notifications.Message, error: str, *, permanent: bool
    ) -> None:
        with UnitOfWork(self.sessions) as uow:
            notifications.mark_failed_attempt(
                uow.session,
                message_id=message.id,
                owner=self.owner,
                now=self.clock.now(),
                error=error,
                permanent=permanent,
                max_attempts=self.max_attempts,
            )
