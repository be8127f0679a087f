"""POST /cases, GET /cases/<id> (audited) and GET /cases/<id>/timeline."""

from __future__ import annotations

import pytest

from .conftest import new_case_body

CASE_FIELDS = {
    "id",
    "status",
    "reason",
    "opened_at",
    "flags",
    "client_flags",
    "do_not_contact",
    "discharged_at",
    "discharge_disposition",
    "closed_at",
    "client",
    "primary_social_worker",
    "tasks",
    "instances",
    "assessments",
}
CLIENT_FIELDS = {
    "id",
    "given_name",
    "family_name",
    "birth_date",
    "mrn",
    "phone",
    "preferred_language",
    "interpreter_needed",
    "postal_code",
}


# ---------------------------------------------------------------- open ------------
def test_open_case_is_201_with_ids_location_and_the_case(api):
    resp = api.post("/api/v1/cases", "sw", new_case_body(mrn="MRN-1", phone="555 0100"))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["id"] == body["case_id"] == body["case"]["id"]
    assert isinstance(body["instance_id"], int)
    assert resp.headers["Location"].endswith(f"/api/v1/cases/{body['id']}")
    case = body["case"]
    assert set(case) == CASE_FIELDS
    assert set(case["client"]) == CLIENT_FIELDS
    assert case["client"]["mrn"] == "MRN-1"
    assert case["client"]["birth_date"] == "1958-04-02"
    assert case["primary_social_worker"] == "alex"
    assert [(i["process_key"], i["version"]) for i in case["instances"]] == [("care_pathway", 1)]


@pytest.mark.parametrize("who", ["sw", "nurse", "supervisor", "admin"])
def test_clinical_roles_and_admin_may_open_cases(api, who):
    assert api.post("/api/v1/cases", who, new_case_body()).status_code == 201


def test_user_without_a_clinical_role_may_not_open_cases(api):
    assert api.post("/api/v1/cases", "nobody", new_case_body()).status_code == 403


@pytest.mark.parametrize(
    ("person", "fields"),
    [
        ({"birth_date": "1958-04-02"}, {"client.given_name", "client.family_name"}),
        (
            {"given_name": "A", "family_name": "B", "birth_date": "02/04/1958"},
            {"client.birth_date"},
        ),
        (
            {"given_name": "A", "family_name": "B", "birth_date": "2999-01-01"},
            {"client.birth_date"},
        ),
        (
            {"given_name": "A", "family_name": "B", "birth_date": "1958-04-02", "phone": 5},
            {"client.phone"},
        ),
        ("not an object", {"client"}),
    ],
)
def test_invalid_client_is_422_naming_fields(api, person, fields):
    resp = api.post("/api/v1/cases", "sw", {"client": person, "reason": "x"})
    assert resp.status_code == 422
    assert {d["field"] for d in resp.get_json()["error"]["details"]} == fields


def test_missing_reason_is_422_naming_reason(api):
    body = new_case_body()
    del body["reason"]
    resp = api.post("/api/v1/cases", "sw", body)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "reason"


def test_unknown_pathway_is_422_naming_pathway(api):
    resp = api.post("/api/v1/cases", "sw", {**new_case_body(), "pathway": "no_such_pathway"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "pathway"


def test_open_case_without_a_json_body_is_400(api):
    assert api.post("/api/v1/cases", "sw", None).status_code == 400


def test_reusing_an_mrn_for_a_different_person_is_409(api):
    api.post("/api/v1/cases", "sw", new_case_body(mrn="MRN-9"))
    resp = api.post("/api/v1/cases", "sw", new_case_body(mrn="MRN-9", family_name="Other"))
    assert resp.status_code == 409


# ---------------------------------------------------------------- read ------------
def test_get_case_lists_tasks_and_instances(api):
    opened = api.open_case()
    case = api.case(opened["id"])
    assert [t["bpmn_id"] for t in case["tasks"]] == ["intake"]
    assert case["instances"][0]["id"] == opened["instance_id"]
    assert case["do_not_contact"] is False


def test_each_case_view_leaves_an_audit_row_visible_in_the_audit_api(api):
    opened = api.open_case()
    api.join_team(opened["id"], "nurse", "nurse")
    api.case(opened["id"])
    api.case(opened["id"], "nurse")
    events = api.get(f"/api/v1/audit?case={opened['id']}", "admin").get_json()["events"]
    views = [(e["actor"], e["case_id"]) for e in events if e["action"] == "case:viewed"]
    assert views == [("kim", opened["id"]), ("alex", opened["id"])]  # newest first


def test_get_unknown_case_is_404(api):
    assert api.get("/api/v1/cases/999999").status_code == 404


def test_get_case_without_a_role_is_403(api):
    opened = api.open_case()
    assert api.get(f"/api/v1/cases/{opened['id']}", "nobody").status_code == 403


# ---------------------------------------------------------------- timeline --------
def test_timeline_is_oldest_first(api):
    opened = api.open_case()
    events = api.get(f"/api/v1/cases/{opened['id']}/timeline").get_json()["events"]
    assert set(events[0]) == {"at", "actor", "action", "details"}
    actions = [e["action"] for e in events]
    assert actions[0] == "case:opened"
    assert actions.index("instance:started") < actions.index("case:task:created")
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_timeline_of_unknown_case_is_404(api):
    assert api.get("/api/v1/cases/999999/timeline").status_code == 404


def test_timeline_without_a_role_is_403(api):
    opened = api.open_case()
    assert api.get(f"/api/v1/cases/{opened['id']}/timeline", "nobody").status_code == 403
