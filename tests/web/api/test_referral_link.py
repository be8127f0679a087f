"""The organisation's side of a referral: the packet sent through the outbox (to a loopback
SMTP server), and the no-login link `/r/<token>` (accept, reject with a reason, expired,
tampered, another referral's id, closed), every answer audited with the link as actor."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import directory, referrals
from engine.audit import AuditEvent
from engine.calendar import Site
from engine.notifications import Notification
from engine.settings import load_settings
from scheduler import NotificationSender
from scheduler.channels import from_settings
from tests.engine.directory.conftest import SAMPLE
from tests.scheduler.conftest import mailbox  # noqa: F401  (the loopback SMTP server)

from .conftest import Api
from .test_referrals import SEND, draft, only_referral, planned  # noqa: F401

SECRET = "test-secret"  # noqa: S105  (the app fixture's secret key)
INTAKE = "intake@harbor-food.example"
NOTES = "Prefers calls after 3 pm."


@pytest.fixture
def sent(api: Api, draft: dict[str, Any], session, clock) -> dict[str, Any]:  # noqa: F811
    """A food referral sent to the sample pantry, chosen from the directory."""
    directory.import_package(session, package=directory.read_package(SAMPLE), clock=clock)
    [pantry] = directory.search(session, now=clock.now(), zone=Site().zone, q="groceries")
    task = api.open_task(draft["case_id"], "send_referral")
    form = {
        **SEND,
        "organisation_name": pantry.resource.organization_name,
        "resource_id": pantry.resource.id,
        "notes_to_share": NOTES,
    }
    resp = api.complete(task["id"], form)
    assert resp.status_code == 200, resp.get_json()
    return only_referral(api, draft["case_id"])


@pytest.fixture
def token(sent: dict[str, Any], clock) -> str:
    return referrals.make_token(SECRET, referral_id=sent["id"], issued_at=clock.now())


def answer(client, token: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/r/{token}", json=body)


def packets(session) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(select(Notification).where(Notification.kind == referrals.PACKET_KIND))
    )


def test_sending_queues_one_packet_for_the_intake_address(sent, session):
    [packet] = packets(session)
    assert (packet.channel, packet.payload["to"]) == ("email", INTAKE)
    assert packet.payload["referral_id"] == sent["id"]
    assert packet.payload["notes"] == NOTES


def test_the_packet_reaches_smtp_with_a_link_that_opens_the_referral(
    sent,
    session,
    clock,
    client,
    mailbox,  # noqa: F811
):
    settings = load_settings(
        smtp_url=mailbox.url,
        mail_from="referrals@carebridge.example",
        public_url="https://carebridge.example",
        secret_key=SECRET,
    )
    sessions = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    NotificationSender(sessions, from_settings(settings), clock=clock).run_due()
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == [INTAKE]
    body = message_from_bytes(envelope.content).get_payload(decode=True).decode()
    assert NOTES in body
    link = re.search(r"https://carebridge\.example(/r/\S+)", body)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200


def test_the_link_page_needs_no_account(sent, token, client):
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    assert "Weekly food pantry" in page.get_data(as_text=True)


def test_the_organisation_accepts_through_the_link(sent, token, client):
    resp = answer(client, token, action="accept")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["referral"]["status"] == "accepted"


def test_every_answer_is_audited_with_the_link_as_actor(sent, token, client, session):
    answer(client, token, action="accept")
    actors = session.scalars(
        select(AuditEvent.actor).where(AuditEvent.action == "case:referral:updated")
    ).all()
    assert f"referral-link:{sent['id']}" in actors


def test_a_rejection_needs_a_reason(sent, token, client):
    assert answer(client, token, action="reject").status_code == 422


def test_a_rejection_with_a_reason_and_code_is_recorded(sent, token, client, api):
    resp = answer(client, token, action="reject", reason="Full", reason_code="no_capacity")
    assert resp.status_code == 200, resp.get_json()
    record = api.get(f"/api/v1/referrals/{sent['id']}").get_json()["referral"]
    assert (record["status"], record["reason_code"]) == ("rejected", "no_capacity")


def test_a_tampered_token_is_unknown(sent, token, client):
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(f"/r/{forged}").status_code == 404
    assert answer(client, forged, action="accept").status_code == 404


def test_another_referrals_id_is_refused(sent, token, client):
    resp = answer(client, token, action="accept", referral_id=sent["id"] + 1)
    assert resp.status_code == 403


def test_an_expired_link_is_gone(sent, token, client, clock):
    clock.advance(timedelta(days=referrals.LINK_DAYS, seconds=1))
    assert client.get(f"/r/{token}").status_code == 410


def test_a_closed_referral_closes_its_link(sent, token, client):
    answer(client, token, action="reject", reason="Full")
    assert answer(client, token, action="accept").status_code == 410
