"""Two senders (two scheduler processes) racing over one outbox with real commits: every
message reaches the SMTP server and the webhook exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from engine.notifications import Notification
from engine.settings import load_settings
from scheduler import NotificationSender
from scheduler.channels import from_settings
from tests.engine.alarms.conftest import deploy_probe, stat_case
from tests.factories import UserFactory, bind
from tests.scheduler.conftest import SECRET

ALERTS = 24


def test_two_senders_racing_deliver_each_message_once(committed, clock, mailbox, pager):
    with committed.begin() as s:
        bind(s)
        UserFactory(role_keys=("supervisor",), email="morgan@carebridge.example")
        worker = UserFactory(role_keys=("social_worker",))
        key = deploy_probe(s)
        for _ in range(ALERTS):
            stat_case(s, clock, key, worker)
    channels = from_settings(
        load_settings(
            smtp_url=mailbox.url, paging_webhook_url=pager.url, paging_webhook_secret=SECRET
        )
    )
    # Small batches, so the two senders keep coming back for more while the other works.
    senders = [
        NotificationSender(committed, channels, clock=clock, owner=f"sender-{i}", batch=3)
        for i in range(2)
    ]
    start = threading.Barrier(2)
    sent = [0, 0]

    def work(i: int) -> None:
        start.wait()
        sent[i] = senders[i].run_due()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(sent) == 2 * ALERTS
    ids = [m.original_content for m in mailbox.messages]
    assert len(mailbox.messages) == ALERTS
    assert len(set(ids)) == ALERTS
    pages = pager.bodies()
    assert len({p["notification_id"] for p in pages}) == len(pages) == ALERTS
    with committed.begin() as s:
        statuses = dict(
            s.execute(select(Notification.status, func.count()).group_by(Notification.status))
            .tuples()
            .all()
        )
    assert statuses == {"sent": 2 * ALERTS}
