"""The care team API: GET/POST /cases/<id>/team, DELETE /cases/<id>/team/<member_id>."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import AuditEvent, AuditTag
from tests.factories import UserFactory

MEMBER_FIELDS = {"id", "user", "case_role", "name", "organisation", "phone", "added_at"}


@pytest.fixture
def more(api, api_as):  # type: ignore[no-untyped-def]
    """A case manager and a physician beside the standard users."""
    for key, username, role in (("cm", "jordan", "case_manager"), ("doc", "patel", "physician")):
        user = UserFactory(username=username, role_keys=(role,))
        api.users[key] = user
        api.headers[key] = api_as(user)
    return api


def _team(api, case_id: int, who: str = "sw"):  # type: ignore[no-untyped-def]
    resp = api.get(f"/api/v1/cases/{case_id}/team", who)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["members"]


def _add(api, case_id: int, who: str = "sw", **body):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/cases/{case_id}/team", who, body)


def test_the_primary_social_worker_is_listed_without_a_row(api):
    case_id = api.open_case()["id"]
    [primary] = _team(api, case_id)
    assert set(primary) == MEMBER_FIELDS
    assert (primary["id"], primary["user"], primary["case_role"]) == (
        None,
        "alex",
        "primary_social_worker",
    )


def test_adding_a_user_answers_201_and_lists_them(api):
    case_id = api.open_case()["id"]
    resp = _add(api, case_id, user="kim", case_role="nurse")
    assert resp.status_code == 201, resp.get_json()
    member = resp.get_json()["member"]
    assert set(member) == MEMBER_FIELDS
    assert (member["user"], member["case_role"]) == ("kim", "nurse")
    assert [m["user"] for m in _team(api, case_id)] == ["alex", "kim"]


def test_an_external_member_has_a_name_organisation_and_phone(api):
    case_id = api.open_case()["id"]
    body = {
        "case_role": "attending_physician",
        "name": "Dr. Ruth Mensah",
        "organisation": "Eastside Family Practice",
        "phone": "555-0100",
    }
    member = _add(api, case_id, **body).get_json()["member"]
    assert {k: member[k] for k in body} == body
    assert member["user"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "kim"}, "case_role"),
        ({"user": "kim", "case_role": "chaplain"}, "case_role"),
        ({"user": "nobody-here", "case_role": "nurse"}, "user"),
        ({"case_role": "other"}, "name"),
        ({"case_role": "other", "name": "x" * 201}, "name"),
    ],
)
def test_an_invalid_member_is_422_naming_the_field(api, body, field):
    case_id = api.open_case()["id"]
    resp = _add(api, case_id, **body)
    assert resp.status_code == 422
    assert field in [d["field"] for d in resp.get_json()["error"]["details"]]


def test_adding_someone_already_on_the_team_is_409(api):
    case_id = api.open_case()["id"]
    _add(api, case_id, user="kim", case_role="nurse")
    assert _add(api, case_id, user="kim", case_role="other").status_code == 409


@pytest.mark.parametrize(("who", "status"), [("supervisor", 201), ("admin", 201), ("sw2", 403)])
def test_supervisors_and_admins_change_the_team_a_colleague_does_not(api, who, status):
    case_id = api.open_case()["id"]
    assert _add(api, case_id, who, user="kim", case_role="nurse").status_code == status


def test_a_member_nurse_cannot_change_the_team(api):
    case_id = api.open_case()["id"]
    _add(api, case_id, user="kim", case_role="nurse")
    assert _add(api, case_id, "nurse", name="Aunt May", case_role="other").status_code == 403


def test_a_case_manager_changes_the_team_only_when_on_it(more):
    case_id = more.open_case()["id"]
    assert _add(more, case_id, "cm", user="patel", case_role="other").status_code == 403
    _add(more, case_id, user="jordan", case_role="case_manager")
    resp = _add(more, case_id, "cm", user="patel", case_role="attending_physician")
    assert resp.status_code == 201


def test_removing_a_member_is_204_and_ends_their_access(api):
    case_id = api.open_case()["id"]
    member = _add(api, case_id, user="kim", case_role="nurse").get_json()["member"]
    assert api.get(f"/api/v1/cases/{case_id}", "nurse").status_code == 200
    resp = api.client.delete(f"/api/v1/cases/{case_id}/team/{member['id']}", headers=api.as_("sw"))
    assert resp.status_code == 204
    assert [m["user"] for m in _team(api, case_id)] == ["alex"]
    assert api.get(f"/api/v1/cases/{case_id}", "nurse").status_code == 403


def test_removing_an_unknown_member_is_404_and_a_colleague_gets_403(api):
    case_id = api.open_case()["id"]
    member = _add(api, case_id, user="kim", case_role="nurse").get_json()["member"]
    url = f"/api/v1/cases/{case_id}/team"
    assert api.client.delete(f"{url}/999999", headers=api.as_("sw")).status_code == 404
    assert api.client.delete(f"{url}/{member['id']}", headers=api.as_("sw2")).status_code == 403


def test_team_changes_are_audited(api, session):
    case_id = api.open_case()["id"]
    member = _add(api, case_id, user="kim", case_role="nurse").get_json()["member"]
    api.client.delete(f"/api/v1/cases/{case_id}/team/{member['id']}", headers=api.as_("sw"))
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.category == "care_team")
        .order_by(AuditEvent.id)
    ).all()
    assert [(r.action, r.actor, r.details["member_id"]) for r in rows] == [
        (AuditTag.TEAM_MEMBER_ADDED, "alex", member["id"]),
        (AuditTag.TEAM_MEMBER_REMOVED, "alex", member["id"]),
    ]


def test_reading_the_team_follows_the_record_rule(api):
    case_id = api.open_case()["id"]
    assert api.get(f"/api/v1/cases/{case_id}/team", "sw2").status_code == 403
    assert api.get(f"/api/v1/cases/{case_id}/team", "supervisor").status_code == 200
