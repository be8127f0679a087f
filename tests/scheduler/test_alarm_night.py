"""The whole alarm, as the scheduler process runs it: a stat task at 03:00 on Christmas Day
with an empty rota, nobody acknowledging for 12 hours, then a care-team member who is not
the holder acknowledging. Real SMTP and webhook servers on loopback count every message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine import alarms
from engine.inbox.models import HumanTask
from engine.notifications import Notification
from engine.settings import load_settings
from scheduler import EscalationRunner, NotificationSender
from scheduler.channels import from_settings
from tests.engine.alarms.conftest import HOLIDAY_3AM, deploy_probe, stat_case
from tests.factories import UserFactory
from tests.scheduler.conftest import SECRET


def test_twelve_hours_unacknowledged_then_a_team_member_ends_it(session, clock, mailbox, pager):
    clock.set(HOLIDAY_3AM)
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    supervisor = UserFactory(role_keys=("supervisor",), email="morgan@carebridge.example")
    UserFactory(role_keys=("physician",), email="patel@carebridge.example")
    worker = UserFactory(role_keys=("social_worker",), email="alex@carebridge.example")
    _, task = stat_case(session, clock, deploy_probe(session), worker)
    assert task.assignee_id == supervisor.id  # at once, with nobody on call
    session.flush()  # what the command's commit does: the scheduler's sessions see it

    channels = from_settings(
        load_settings(
            smtp_url=mailbox.url, paging_webhook_url=pager.url, paging_webhook_secret=SECRET
        )
    )
    ladder = EscalationRunner(sessions, clock=clock)
    sender = NotificationSender(sessions, channels, clock=clock)
    pages_at: list[int] = []
    end = clock.now() + timedelta(hours=12)
    while clock.now() <= end:  # the scheduler's job runs every few seconds; a minute will do
        ladder.run_due()
        before = len(pager.received)
        sender.run_due()
        if len(pager.received) > before:
            pages_at.append(int((clock.now() - task.created_at).total_seconds() // 60))
        clock.advance(minutes=1)

    # 1 page at once (the holder), 1 at 15 min (supervisor), 1 at 30 (physician), then 2 at
    # every quarter hour from 45 to 720 minutes: 46 rounds.
    alerts_expected = 1 + 1 + 1 + 46 * 2
    assert len(pager.received) == alerts_expected
    assert len(mailbox.messages) == alerts_expected
    assert sorted(set(pages_at)) == [0, 15, 30, *range(45, 721, 15)]
    recipients = {tuple(m.rcpt_tos) for m in mailbox.messages}
    assert recipients == {("morgan@carebridge.example",), ("patel@carebridge.example",)}

    # The primary social worker (care team, not the holder) acknowledges: silence follows.
    alarms.acknowledge(session, task_id=task.id, actor=worker, clock=clock)
    session.flush()
    for _ in range(60):
        clock.advance(minutes=1)
        ladder.run_due()
        sender.run_due()
    assert len(pager.received) == alerts_expected
    assert session.execute(
        select(HumanTask.status, HumanTask.cancel_reason).where(
            HumanTask.escalates_task_id == task.id
        )
    ).all() == [("cancelled", "resolved"), ("cancelled", "resolved")]
    pending = session.scalar(
        select(func.count()).select_from(Notification).where(Notification.status != "sent")
    )
    assert pending == 0
