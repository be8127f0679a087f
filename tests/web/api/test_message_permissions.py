"""POST /messages is authorised per message kind: a referral answer only from the receiving
organisation's `referral` token, a discharge only from an ADT/HL7 feed or a case manager or
admin, and the history and audit name the real sender."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.accounts import create_token
from engine.audit import AuditEvent, AuditTag
from tests.factories import UserFactory

from .conftest import Api
from .test_referrals import SEND, only_referral, planned

DISCHARGE = {"discharged_at": "2026-03-02T15:00:00+00:00"}


@pytest.fixture
def token(session, clock):  # type: ignore[no-untyped-def]
    """token(user, *scopes) -> Bearer headers for a new token with those scopes."""

    def make(user: Any, *scopes: str) -> dict[str, str]:
        value = create_token(session, user, now=clock.now(), scopes=scopes)
        return {"Authorization": f"Bearer {value}"}

    return make


@pytest.fixture
def partner(session):  # type: ignore[no-untyped-def]
    """The receiving organisation's integration account (no clinical role)."""
    return UserFactory(username="eastside_food_bank")


@pytest.fixture
def sent(api: Api) -> dict[str, Any]:
    opened = planned(api)
    task = api.open_task(opened["id"], "send_referral")
    assert api.complete(task["id"], SEND).status_code == 200
    return only_referral(api, opened["id"])


def _answer(referral: dict[str, Any], status: str = "accepted") -> dict[str, Any]:
    return {
        "name": "referral_status",
        "case_id": referral["case_id"],
        "payload": {"referral_id": referral["id"], "status": status},
    }


def _post(api: Api, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return api.client.post("/api/v1/messages", json=body, headers=headers)


@pytest.mark.parametrize("who", ["sw", "nurse", "supervisor", "admin"])
def test_a_staff_token_cannot_forge_the_organisations_answer(api, sent, who):
    resp = _post(api, _answer(sent), api.as_(who))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "message_not_allowed"
    assert only_referral(api, sent["case_id"])["status"] == "requested"


def test_a_staff_cookie_cannot_forge_the_organisations_answer(api, app, sent):
    from tests.factories import signed_in

    browser = signed_in(app.test_client(), api.users["sw"])
    resp = browser.post("/api/v1/messages", json=_answer(sent))
    assert resp.status_code == 403
    assert only_referral(api, sent["case_id"])["status"] == "requested"


def test_the_referral_token_answers_and_the_history_names_its_user(api, sent, token, partner):
    resp = _post(api, _answer(sent), token(partner, "referral"))
    assert resp.status_code == 200, resp.get_json()
    body = api.get(f"/api/v1/referrals/{sent['id']}").get_json()["referral"]
    last = body["history"][-1]
    assert (last["to"], last["source"], last["actor"]) == (
        "accepted",
        "organisation",
        "eastside_food_bank",
    )


def test_an_accepted_message_audits_the_token_and_its_scope(api, session, sent, token, partner):
    _post(api, _answer(sent), token(partner, "referral"))
    row = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditTag.MESSAGE_ACCEPTED.value)
    ).one()
    assert row.actor == "eastside_food_bank"
    assert row.details["via"] == "token"
    assert row.details["scopes"] == ["referral"]
    assert row.details["message"] == "referral_status"


def test_an_adt_token_cannot_answer_a_referral(api, sent, token, partner):
    assert _post(api, _answer(sent), token(partner, "adt")).status_code == 403


@pytest.mark.parametrize("who", ["sw", "nurse", "supervisor"])
def test_clinical_staff_cannot_fake_a_discharge(api, who):
    opened = api.open_case()
    body = {"name": "discharge", "case_id": opened["id"], "payload": DISCHARGE}
    resp = _post(api, body, api.as_(who))
    assert resp.status_code == 403
    processes = {i["process_key"] for i in api.case(opened["id"])["instances"]}
    assert "discharge_followup" not in processes


def test_a_case_manager_records_a_discharge(api, token):
    cm = UserFactory(username="jordan", role_keys=("case_manager",))
    opened = api.open_case()
    body = {"name": "discharge", "case_id": opened["id"], "payload": DISCHARGE}
    resp = _post(api, body, token(cm, "api"))
    assert resp.status_code == 200, resp.get_json()
    processes = {i["process_key"] for i in api.case(opened["id"])["instances"]}
    assert "discharge_followup" in processes


@pytest.mark.parametrize("scope", ["adt", "hl7"])
def test_the_adt_feed_sends_a_discharge(api, token, partner, scope):
    opened = api.open_case()
    body = {"name": "discharge", "case_id": opened["id"], "payload": DISCHARGE}
    resp = _post(api, body, token(partner, scope))
    assert resp.status_code == 200, resp.get_json()


def test_a_referral_token_cannot_send_a_discharge(api, token, partner):
    opened = api.open_case()
    body = {"name": "discharge", "case_id": opened["id"], "payload": DISCHARGE}
    assert _post(api, body, token(partner, "referral")).status_code == 403


def test_an_unknown_message_name_is_422_naming_the_field(api, token, partner):
    opened = api.open_case()
    body = {"name": "made_up", "case_id": opened["id"], "payload": {}}
    resp = _post(api, body, token(partner, "adt"))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["name"]


def test_an_integration_token_reaches_no_other_endpoint(api, token, partner):
    opened = api.open_case()
    headers = token(partner, "referral")
    assert api.client.get(f"/api/v1/cases/{opened['id']}", headers=headers).status_code == 403
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 403


def test_a_case_id_past_64_bits_is_422_not_a_crash(api):
    body = {"name": "discharge", "case_id": 2**64, "payload": DISCHARGE}
    assert api.post("/api/v1/messages", "admin", body).status_code == 422
