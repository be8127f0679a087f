"""The outbox sender against a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import notifications
from engine.notifications import Notification
from engine.settings import load_settings
from scheduler import NotificationSender
from scheduler.channels import from_settings
from tests.engine.alarms.conftest import deploy_probe, stat_case
from tests.factories import UserFactory
from tests.scheduler.conftest import SECRET


@pytest.fixture
def sessions(session):
    return sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def channels(mailbox, pager):
    settings = load_settings(
        smtp_url=mailbox.url,
        mail_from="alerts@carebridge.example",
        paging_webhook_url=pager.url,
        paging_webhook_secret=SECRET,
        public_url="https://carebridge.example",
    )
    return from_settings(settings)


@pytest.fixture
def stat_alert(session, clock):
    """A stat task with nobody on call: one alert to the supervisor (two rows, one a channel)."""
    supervisor = UserFactory(role_keys=("supervisor",), email="morgan@carebridge.example")
    worker = UserFactory(role_keys=("social_worker",), email="alex@carebridge.example")
    case, task = stat_case(session, clock, deploy_probe(session), worker)
    session.flush()
    return case, task, supervisor


def rows(session, task):
    session.expire_all()
    return list(
        session.scalars(
            select(Notification).where(Notification.task_id == task.id).order_by(Notification.id)
        )
    )


def test_each_alert_reaches_smtp_and_the_webhook_exactly_once(
    session, sessions, clock, channels, mailbox, pager, stat_alert
):
    case, task, supervisor = stat_alert
    sender = NotificationSender(sessions, channels, clock=clock)
    assert sender.run_due() == 2
    assert sender.run_due() == 0
    [mail] = mailbox.messages
    assert mail.rcpt_tos == ["morgan@carebridge.example"]
    [(_, body)] = pager.received
    page = pager.bodies()[0]
    assert (page["task_id"], page["case_id"], page["priority"], page["role"]) == (
        task.id,
        case.id,
        "stat",
        "social_worker",
    )
    assert page["due"] == task.due_at.isoformat()
    assert {(n.status, n.attempts, n.sent_at) for n in rows(session, task)} == {
        ("sent", 1, clock.now())
    }


def test_the_webhook_signature_is_an_hmac_of_the_exact_body(
    sessions, clock, channels, pager, stat_alert
):
    NotificationSender(sessions, channels, clock=clock).run_due()
    [(headers, body)] = pager.received
    assert headers["X-CareBridge-Signature"] == notifications.signature(body, SECRET)
    assert notifications.signature(body, "another secret") != headers["X-CareBridge-Signature"]


def test_no_client_name_or_task_name_leaves_the_hospital(
    session, sessions, clock, channels, mailbox, pager, stat_alert
):
    case, task, _ = stat_alert
    NotificationSender(sessions, channels, clock=clock).run_due()
    mail = mailbox.messages[0].content.decode()
    [(_, body)] = pager.received
    for secret in (case.client.given_name, case.client.family_name, task.name):
        assert secret not in mail
        assert secret.encode() not in body
    assert f"https://carebridge.example/tasks/{task.id}" in mail


def test_a_channel_down_for_a_while_is_retried_with_backoff_and_sent_once(
    session, sessions, clock, channels, mailbox, pager, stat_alert
):
    _, task, _ = stat_alert
    mailbox.refuse, pager.refuse = 2, 3
    sender = NotificationSender(sessions, channels, clock=clock)
    assert sender.run_due() == 0
    first = rows(session, task)
    assert {(n.status, n.attempts) for n in first} == {("pending", 1)}
    assert {n.next_attempt_at - clock.now() for n in first} == {timedelta(seconds=15)}
    assert all(n.last_error for n in first)
    assert sender.run_due() == 0  # not due again yet: nothing is tried
    clock.advance(seconds=15)
    assert sender.run_due() == 0  # refused again; the next wait doubles
    assert {n.next_attempt_at - clock.now() for n in rows(session, task)} == {timedelta(seconds=30)}
    clock.advance(seconds=30)
    assert sender.run_due() == 1  # SMTP is back, the pager still down
    clock.advance(minutes=1)
    assert sender.run_due() == 1
    assert len(mailbox.messages) == 1
    assert len(pager.received) == 1
    assert {(n.channel, n.status, n.attempts) for n in rows(session, task)} == {
        ("email", "sent", 3),
        ("webhook", "sent", 4),
    }


def test_after_the_last_attempt_a_row_is_failed_and_logged(
    session, sessions, clock, channels, pager, stat_alert, caplog
):
    _, task, _ = stat_alert
    pager.refuse = 10
    sender = NotificationSender(sessions, channels, clock=clock, max_attempts=2)
    with caplog.at_level(logging.ERROR, logger="carebridge.notifications"):
        sender.run_due()
        clock.advance(seconds=15)
        sender.run_due()
    webhook = next(n for n in rows(session, task) if n.channel == "webhook")
    assert (webhook.status, webhook.attempts) == ("failed", 2)
    assert "HTTP 503" in webhook.last_error
    assert any("FAILED" in r.getMessage() for r in caplog.records)


def test_a_recipient_without_an_address_fails_at_once(
    session, sessions, clock, channels, stat_alert
):
    _, task, supervisor = stat_alert
    supervisor.email = None
    session.flush()
    NotificationSender(sessions, channels, clock=clock).run_due()
    email = next(n for n in rows(session, task) if n.channel == "email")
    assert (email.status, email.attempts) == ("failed", 1)


def test_an_unconfigured_channel_fails_loudly_instead_of_waiting(
    session, sessions, clock, mailbox, stat_alert
):
    _, task, _ = stat_alert
    only_mail = from_settings(load_settings(smtp_url=mailbox.url))
    NotificationSender(sessions, only_mail, clock=clock).run_due()
    by_channel = {n.channel: n for n in rows(session, task)}
    assert by_channel["email"].status == "sent"
    assert by_channel["webhook"].status == "failed"
    assert "not configured" in by_channel["webhook"].last_error


def test_once_a_channel_refuses_the_rest_of_its_batch_waits_untried(
    session, sessions, clock, channels, mailbox, pager, stat_alert
):
    case, task, supervisor = stat_alert
    notifications.alert(
        session,
        kind="re_alert",
        task=task,
        recipient_ids=[supervisor.id],
        reason="test",
        now=clock.now(),
    )
    session.flush()
    pager.refuse = 1
    NotificationSender(sessions, channels, clock=clock).run_due()
    pages = [n for n in rows(session, task) if n.channel == "webhook"]
    assert sorted((n.status, n.attempts) for n in pages) == [("pending", 0), ("pending", 1)]
    assert len(pager.received) == 0
