"""Referral routes: a case's referrals and one referral (audited reads), staff status updates
(200 / 403 / 404 / 409 / 422), the client's consents, and the community resource directory.

Referrals are made the way a team makes them: a care plan through the API opens one per need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine import demo
from engine.audit import AuditEvent, AuditTag
from tests.factories import UserFactory

from .conftest import Api

REFERRAL_FIELDS = {
    "id",
    "case_id",
    "client_id",
    "need",
    "status",
    "status_reason",
    "reason_code",
    "organization_name",
    "service_name",
    "resource_id",
    "instance_id",
    "previous_referral_id",
    "do_not_contact",
    "order_detail",
    "created_at",
    "requested_at",
    "updated_at",
    "closed_at",
}
HISTORY_FIELDS = {"from", "to", "reason", "reason_code", "source", "actor", "at"}
CONSENT_FIELDS = {
    "id",
    "client_id",
    "recipient",
    "scope",
    "given_at",
    "expires_at",
    "revoked_at",
    "current",
}
SEND = {
    "referral_made": True,
    "need": "food",
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "contact_made": True,
    "consent_to_share_recorded": True,
}
FOOD_BANK = {
    "organization_name": "Eastside Food Bank",
    "service_name": "Home-delivered groceries",
    "category": "food",
    "languages": ["English", "Spanish"],
    "postal_code": "10001",
    "assured_date": "2026-01-15",
}
REASON = "The organisation called to say so."


# ---------------------------------------------------------------- helpers ----------
@pytest.fixture
def api(api: Api, api_as) -> Api:  # type: ignore[no-untyped-def]
    """The shared API helper plus a case manager (the directory's keeper)."""
    api.users["cm"] = UserFactory(username="jordan", role_keys=("case_manager",))
    api.headers["cm"] = api_as(api.users["cm"])
    return api


def planned(api: Api, needs: tuple[str, ...] = ("food",)) -> dict[str, Any]:
    """A case whose care plan has just been completed; returns the POST /cases body."""
    opened = api.through_assessment()
    task = api.open_task(opened["id"], "care_plan")
    resp = api.complete(task["id"], demo.care_plan(needs=needs))
    assert resp.status_code == 200, resp.get_json()
    return opened


def only_referral(api: Api, case_id: int) -> dict[str, Any]:
    resp = api.get(f"/api/v1/cases/{case_id}/referrals")
    assert resp.status_code == 200, resp.get_json()
    [referral] = resp.get_json()["referrals"]
    return referral


@pytest.fixture
def draft(api: Api) -> dict[str, Any]:
    return only_referral(api, planned(api)["id"])


@pytest.fixture
def sent(api: Api, draft: dict[str, Any]) -> dict[str, Any]:
    task = api.open_task(draft["case_id"], "send_referral")
    resp = api.complete(task["id"], SEND)
    assert resp.status_code == 200, resp.get_json()
    return only_referral(api, draft["case_id"])


def set_status(api: Api, referral_id: int, who: str = "sw", **body: Any) -> Any:
    return api.post(f"/api/v1/referrals/{referral_id}/status", who, body)


def actions(session, **where: Any) -> list[str]:  # type: ignore[no-untyped-def]
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(session.scalars(query))


def error_fields(resp: Any) -> set[str]:
    return {d["field"] for d in resp.get_json()["error"]["details"]}


# ---------------------------------------------------------------- a case's referrals
def test_a_care_plan_need_shows_as_a_draft_referral(api, draft):
    assert set(draft) == REFERRAL_FIELDS
    assert (draft["need"], draft["status"], draft["do_not_contact"]) == ("food", "draft", False)
    assert isinstance(draft["instance_id"], int)
    assert datetime.fromisoformat(draft["updated_at"]).utcoffset() is not None
    assert draft["requested_at"] is None


def test_listing_a_cases_referrals_is_an_audited_case_view(api, session, draft):
    api.join_team(draft["case_id"], "nurse", "nurse")
    before = actions(session, case_id=draft["case_id"]).count(AuditTag.CASE_VIEWED)
    api.get(f"/api/v1/cases/{draft['case_id']}/referrals", "nurse")
    after = actions(session, case_id=draft["case_id"]).count(AuditTag.CASE_VIEWED)
    assert after == before + 1


def test_referrals_of_an_unknown_case_is_404(api):
    assert api.get("/api/v1/cases/999999/referrals").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("nurse", 200), ("admin", 200), ("sw2", 403), ("nobody", 403)]
)
def test_the_care_team_and_admin_read_referrals_others_do_not(api, draft, who, status):
    api.join_team(draft["case_id"], "nurse", "nurse")
    assert api.get(f"/api/v1/cases/{draft['case_id']}/referrals", who).status_code == status
    assert api.get(f"/api/v1/referrals/{draft['id']}", who).status_code == status


def test_referrals_need_a_signed_in_user(client):
    assert client.get("/api/v1/referrals/1").status_code == 401


# ---------------------------------------------------------------- one referral -----
def test_a_referral_has_its_history_and_legal_next_statuses(api, sent):
    body = api.get(f"/api/v1/referrals/{sent['id']}").get_json()["referral"]
    assert set(body) == REFERRAL_FIELDS | {"history", "legal_next", "client"}
    assert body["organization_name"] == "Eastside Food Bank"
    assert [set(e) for e in body["history"]] == [HISTORY_FIELDS, HISTORY_FIELDS]
    assert [(e["from"], e["to"], e["source"]) for e in body["history"]] == [
        (None, "draft", "requester"),
        ("draft", "requested", "requester"),
    ]
    assert body["history"][1]["actor"] == "alex"
    assert body["legal_next"] == ["accepted", "rejected", "cancelled", "entered-in-error"]


def test_reading_a_referral_is_audited_with_its_id_only(api, session, draft):
    api.join_team(draft["case_id"], "nurse", "nurse")
    api.get(f"/api/v1/referrals/{draft['id']}", "nurse")
    [row] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditTag.REFERRAL_VIEWED)
    ).all()
    assert (row.case_id, row.client_id, row.actor) == (draft["case_id"], draft["client_id"], "kim")
    assert row.details == {"referral_id": draft["id"]}


def test_an_unknown_referral_is_404(api):
    resp = api.get("/api/v1/referrals/999999")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "referral_not_found"


# ---------------------------------------------------------------- status updates ---
def test_recording_the_organisations_answer_moves_the_referral_and_its_instance(api, sent):
    resp = set_status(api, sent["id"], status="accepted")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["referral"]["status"] == "accepted"
    assert body["delivered"] == [sent["instance_id"]]
    last = body["referral"]["history"][-1]
    assert (last["from"], last["to"], last["source"], last["actor"]) == (
        "requested",
        "accepted",
        "staff_recorded",
        "alex",
    )


def test_a_decline_opens_a_new_referral_for_the_same_need(api, sent):
    resp = set_status(api, sent["id"], status="rejected", reason=REASON, reason_code="no_capacity")
    assert resp.status_code == 200, resp.get_json()
    old, new = api.get(f"/api/v1/cases/{sent['case_id']}/referrals").get_json()["referrals"]
    assert (old["status"], old["status_reason"], old["reason_code"]) == (
        "rejected",
        REASON,
        "no_capacity",
    )
    assert (new["need"], new["status"], new["previous_referral_id"]) == ("food", "draft", old["id"])
    assert new["instance_id"] in resp.get_json()["delivered"]


def test_cancelling_is_the_requesters_decision(api, draft):
    resp = set_status(api, draft["id"], status="cancelled", reason="Client found help alone.")
    assert resp.status_code == 200
    assert resp.get_json()["referral"]["history"][-1]["source"] == "requester"
    assert resp.get_json()["referral"]["closed_at"] is not None


def test_an_illegal_transition_is_409_and_changes_nothing(api, draft):
    resp = set_status(api, draft["id"], status="completed")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "illegal_transition"
    assert only_referral(api, draft["case_id"])["status"] == "draft"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_status_that_needs_a_reason_is_422_without_one(api, sent, reason):
    body = {"status": "rejected"} if reason is None else {"status": "rejected", "reason": reason}
    resp = set_status(api, sent["id"], **body)
    assert resp.status_code == 422
    assert error_fields(resp) == {"reason"}
    assert only_referral(api, sent["case_id"])["status"] == "requested"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ({"status": "lost"}, "status"),
        ({"status": 3}, "status"),
        ({"status": "accepted", "reason_code": "bored"}, "reason_code"),
        ({"status": "accepted", "reason": ["not", "text"]}, "reason"),
    ],
)
def test_bad_status_input_is_422_naming_the_field(api, sent, body, field):
    resp = set_status(api, sent["id"], **body)
    assert resp.status_code == 422
    assert error_fields(resp) == {field}


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("sw", "requested", "status_not_allowed"),  # sent only from the Send referral task
        ("sw", "draft", "status_not_allowed"),
        ("nurse", "cancelled", "role_required"),
        ("nobody", "accepted", "role_required"),
    ],
)
def test_a_status_the_caller_may_not_set_is_403(api, draft, who, status, code):
    resp = set_status(api, draft["id"], who, status=status, reason=REASON)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == code
    assert only_referral(api, draft["case_id"])["status"] == "draft"


@pytest.mark.parametrize("who", ["cm", "supervisor", "admin"])
def test_case_managers_supervisors_and_admins_may_set_statuses(api, draft, who):
    api.join_team(draft["case_id"], "cm", "case_manager")
    resp = set_status(api, draft["id"], who, status="cancelled", reason=REASON)
    assert resp.status_code == 200, resp.get_json()


def test_status_of_an_unknown_referral_is_404(api):
    assert set_status(api, 999999, status="accepted").status_code == 404


def test_a_status_update_needs_a_json_object(api, draft):
    resp = api.client.post(
        f"/api/v1/referrals/{draft['id']}/status", headers=api.as_("sw"), data="x"
    )
    assert resp.status_code == 400


# ---------------------------------------------------------------- consents ---------
def record_consent(api: Api, client_id: int, who: str = "sw", **body: Any) -> Any:
    return api.post(f"/api/v1/clients/{client_id}/consents", who, body)


def test_recording_a_consent_is_201_with_a_one_year_default(api, session, clock):
    client_id = api.open_case()["case"]["client"]["id"]
    resp = record_consent(api, client_id, recipient="  Eastside Food Bank ")
    assert resp.status_code == 201, resp.get_json()
    consent = resp.get_json()["consent"]
    assert set(consent) == CONSENT_FIELDS
    assert (consent["recipient"], consent["scope"], consent["current"]) == (
        "Eastside Food Bank",
        "referral_and_updates",
        True,
    )
    expires = datetime.fromisoformat(consent["expires_at"])
    assert expires == datetime(2027, 3, 2, 14, 0, tzinfo=UTC) == clock.now().replace(year=2027)
    assert AuditTag.CONSENT_RECORDED in actions(session, client_id=client_id)


def test_a_recorded_consent_is_listed_and_the_read_audited(api, session):
    opened = api.open_case()
    client_id = opened["case"]["client"]["id"]
    api.join_team(opened["id"], "nurse", "nurse")
    record_consent(api, client_id, recipient="Food Bank", scope="referral")
    resp = api.get(f"/api/v1/clients/{client_id}/consents", "nurse")
    assert resp.status_code == 200
    assert [(c["recipient"], c["scope"]) for c in resp.get_json()["consents"]] == [
        ("Food Bank", "referral")
    ]
    assert actions(session, client_id=client_id)[-1] == AuditTag.CONSENTS_VIEWED


def test_consents_of_an_unknown_client_are_404(api):
    assert api.get("/api/v1/clients/999999/consents").status_code == 404
    assert record_consent(api, 999999, recipient="Food Bank").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "recipient"),
        ({"recipient": "   "}, "recipient"),
        ({"recipient": "Food Bank", "scope": "everything"}, "scope"),
        ({"recipient": "Food Bank", "expires_at": "next year"}, "expires_at"),
        ({"recipient": "Food Bank", "expires_at": "2027-01-01T00:00:00"}, "expires_at"),
        ({"recipient": "Food Bank", "expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
        ({"recipient": "Food Bank", "expires_at": 20270101}, "expires_at"),
    ],
)
def test_an_invalid_consent_is_422_naming_the_field(api, body, field):
    client_id = api.open_case()["case"]["client"]["id"]
    resp = record_consent(api, client_id, **body)
    assert resp.status_code == 422
    assert error_fields(resp) == {field}


def test_an_explicit_expiry_is_kept(api):
    client_id = api.open_case()["case"]["client"]["id"]
    resp = record_consent(
        api, client_id, recipient="Food Bank", expires_at="2026-09-01T00:00:00-04:00"
    )
    expires = datetime.fromisoformat(resp.get_json()["consent"]["expires_at"])
    assert expires == datetime(2026, 9, 1, 4, 0, tzinfo=UTC)


def test_revoking_a_consent_ends_it_once(api, session):
    client_id = api.open_case()["case"]["client"]["id"]
    consent = record_consent(api, client_id, recipient="Food Bank").get_json()["consent"]
    resp = api.post(f"/api/v1/consents/{consent['id']}/revoke", "sw")
    assert resp.status_code == 200
    revoked = resp.get_json()["consent"]
    assert revoked["revoked_at"] is not None
    assert revoked["current"] is False
    assert actions(session, client_id=client_id)[-1] == AuditTag.CONSENT_REVOKED
    again = api.post(f"/api/v1/consents/{consent['id']}/revoke", "sw")
    assert again.status_code == 409


def test_revoking_an_unknown_consent_is_404(api):
    assert api.post("/api/v1/consents/999999/revoke", "sw").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("nurse", 403), ("nobody", 403), ("cm", 201), ("sw2", 403)]
)
def test_who_may_record_consent(api, who, status):
    """A case manager on the team records consent; a nurse never; a worker off the team
    may not write to a record they may not read."""
    opened = api.open_case()
    client_id = opened["case"]["client"]["id"]
    api.join_team(opened["id"], "nurse", "nurse")
    api.join_team(opened["id"], "cm", "case_manager")
    assert record_consent(api, client_id, who, recipient="Food Bank").status_code == status


def test_a_nurse_may_not_revoke_a_consent(api):
    client_id = api.open_case()["case"]["client"]["id"]
    consent = record_consent(api, client_id, recipient="Food Bank").get_json()["consent"]
    assert api.post(f"/api/v1/consents/{consent['id']}/revoke", "nurse").status_code == 403


def test_a_referral_leaves_under_the_consent_recorded_through_the_api(api, draft):
    record_consent(api, draft["client_id"], recipient="eastside  food bank")
    task = api.open_task(draft["case_id"], "send_referral")
    assert api.complete(task["id"], SEND).status_code == 200
    assert only_referral(api, draft["case_id"])["status"] == "requested"
    # The consent on file was used: the send form's confirmation recorded no second one.
    consents = api.get(f"/api/v1/clients/{draft['client_id']}/consents").get_json()["consents"]
    assert [c["recipient"] for c in consents] == ["eastside  food bank"]


def test_a_revoked_consent_stops_a_referral_from_leaving(api, draft):
    consent = record_consent(api, draft["client_id"], recipient="Eastside Food Bank")
    api.post(f"/api/v1/consents/{consent.get_json()['consent']['id']}/revoke", "sw")
    task = api.open_task(draft["case_id"], "send_referral")
    resp = api.complete(task["id"], SEND)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "consent_revoked"
    assert only_referral(api, draft["case_id"])["status"] == "draft"


# ---------------------------------------------------------------- directory --------
def save_resource(api: Api, who: str = "cm", **overrides: Any) -> Any:
    return api.post("/api/v1/resources", who, {**FOOD_BANK, **overrides})


def test_a_case_manager_adds_a_directory_entry(api, session):
    resp = save_resource(api)
    assert resp.status_code == 201, resp.get_json()
    resource = resp.get_json()["resource"]
    assert resource["organization_name"] == "Eastside Food Bank"
    assert (resource["status"], resource["assured_date"]) == ("active", "2026-01-15")
    assert actions(session)[-1] == AuditTag.RESOURCE_SAVED


@pytest.mark.parametrize(
    ("who", "status"),
    [("cm", 201), ("supervisor", 201), ("admin", 201), ("sw", 403), ("nurse", 403)],
)
def test_only_case_managers_supervisors_and_admins_edit_the_directory(api, who, status):
    assert save_resource(api, who).status_code == status


def test_an_invalid_directory_entry_is_422_naming_each_field(api):
    resp = api.post(
        "/api/v1/resources", "cm", {"service_name": "Groceries", "min_age": -1, "status": "?"}
    )
    assert resp.status_code == 422
    assert error_fields(resp) == {"organization_name", "category", "min_age", "status"}


def test_resources_for_a_need_are_filtered_and_ranked(api):
    ids = {
        name: save_resource(api, **fields).get_json()["resource"]["id"]
        for name, fields in {
            "far": {"postal_code": "10099", "assured_date": "2026-02-01"},
            "near": {"postal_code": "10001", "assured_date": "2025-06-01"},
            "french_only": {"languages": ["French"]},
            "adults": {"min_age": 18},
            "housing": {"category": "housing"},
            "closed": {"status": "inactive"},
        }.items()
    }
    resp = api.get("/api/v1/resources?need=food&postal_code=10001&age=16&language=spanish")
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()["resources"]] == [ids["near"], ids["far"]]


@pytest.mark.parametrize("query", ["", "?need=", "?need=food&age=old", "?need=food&age=200"])
def test_a_resource_search_needs_a_need_and_a_sane_age(api, query):
    assert api.get(f"/api/v1/resources{query}").status_code == 400


def test_resource_search_is_for_people_who_work_on_cases(api):
    assert api.get("/api/v1/resources?need=food", "nobody").status_code == 403
    assert api.get("/api/v1/resources?need=food", "nurse").status_code == 200


def test_a_worker_off_the_care_team_cannot_change_a_referral(api, sent):
    resp = set_status(api, sent["id"], status="accepted", who="sw2")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "not_on_care_team"
