"""The discharge message and the do-not-contact flag over the JSON API: status codes, the
fields errors name, and what every task JSON carries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.web.api.conftest import INTAKE

NY = ZoneInfo("America/New_York")


def discharge(api, case_id: int, **payload):
    body = {"discharged_at": "2026-03-02T03:00:00-05:00", "disposition": "home", **payload}
    body = {k: v for k, v in body.items() if v is not None}
    # A discharge comes from the ADT feed or a case manager/admin as themselves (branch
    # session's message rules), not from the social worker.
    return api.post(
        "/api/v1/messages", "admin", {"name": "discharge", "case_id": case_id, "payload": body}
    )


def test_a_discharge_opens_the_tcm_contact_due_at_the_end_of_the_second_business_day(api):
    opened = api.open_case()
    resp = discharge(api, opened["id"], behavioral_health=True)
    assert resp.status_code == 200, resp.get_json()
    tasks = {t["bpmn_id"]: t for t in api.case(opened["id"])["tasks"] if t["status"] == "open"}
    due = datetime.fromisoformat(tasks["tcm_first_attempt"]["due_at"]).astimezone(NY)
    assert due == datetime(2026, 3, 4, 17, 0, tzinfo=NY)
    fuh_7 = datetime.fromisoformat(tasks["fuh_7_check"]["due_at"]).astimezone(NY)
    fuh_30 = datetime.fromisoformat(tasks["fuh_30_check"]["due_at"]).astimezone(NY)
    assert fuh_7 == datetime(2026, 3, 9, 23, 59, 59, tzinfo=NY)
    assert fuh_30 == datetime(2026, 4, 1, 23, 59, 59, tzinfo=NY)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"discharged_at": None}, "discharged_at"),
        ({"discharged_at": "2026-03-02T03:00:00"}, "discharged_at"),
        ({"disposition": "home_alone"}, "disposition"),
    ],
)
def test_an_invalid_discharge_is_422_naming_the_field(api, payload, field):
    opened = api.open_case()
    resp = discharge(api, opened["id"], **payload)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == [field]


def test_a_second_discharge_of_the_admission_is_409(api):
    opened = api.open_case()
    assert discharge(api, opened["id"]).status_code == 200
    resp = discharge(api, opened["id"], discharged_at="2026-03-03T10:00:00-05:00")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "already_discharged"


def test_the_case_shows_its_discharge(api):
    opened = api.open_case()
    discharge(api, opened["id"], disposition="rehab")
    case = api.case(opened["id"])
    assert case["discharge_disposition"] == "rehab"
    assert datetime.fromisoformat(case["discharged_at"]) == datetime(2026, 3, 2, 3, 0, tzinfo=NY)


# --- the do-not-contact flag ------------------------------------------------------------------


def set_flag(api, case_id: int, who: str = "sw", **body):
    payload = {"flag": "do_not_contact", "set": True, "reason": "Partner threatens her.", **body}
    return api.post(f"/api/v1/cases/{case_id}/flags", who, payload)


def test_setting_do_not_contact_withdraws_the_tcm_call_and_plans_safe_contact(api):
    opened = api.open_case()
    discharge(api, opened["id"])
    resp = set_flag(api, opened["id"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["client_flags"] == {"do_not_contact": True}
    [withdrawn] = body["withdrawn_tasks"]
    assert (withdrawn["bpmn_id"], withdrawn["status"], withdrawn["cancel_reason"]) == (
        "tcm_first_attempt",
        "cancelled",
        "do_not_contact",
    )
    plan = body["plan_task"]
    assert (plan["name"], plan["priority"], plan["assignee"]) == (
        "Plan safe contact",
        "urgent",
        "alex",
    )


def test_every_task_json_carries_the_current_client_flags(api):
    opened = api.open_case()
    intake = api.open_task(opened["id"], "intake")
    assert api.get(f"/api/v1/tasks/{intake['id']}").get_json()["task"]["client_flags"] == {}
    set_flag(api, opened["id"])
    task = api.get(f"/api/v1/tasks/{intake['id']}").get_json()["task"]
    assert task["client_flags"] == {"do_not_contact": True}
    listed = api.get("/api/v1/tasks?view=mine").get_json()["tasks"]
    assert {t["client_flags"].get("do_not_contact") for t in listed} == {True}
    done = api.complete(intake["id"], INTAKE).get_json()
    assert done["task"]["client_flags"] == {"do_not_contact": True}


def test_the_flag_needs_a_reason(api):
    opened = api.open_case()
    resp = set_flag(api, opened["id"], reason="")
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["reason"]


def test_an_unknown_flag_is_422(api):
    opened = api.open_case()
    resp = set_flag(api, opened["id"], flag="vip")
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["flag"]


def test_removing_the_flag_needs_a_supervisor(api):
    opened = api.open_case()
    set_flag(api, opened["id"])
    assert set_flag(api, opened["id"], set=False, reason="Asked to.").status_code == 403
    resp = set_flag(api, opened["id"], "supervisor", set=False, reason="Moved to a shelter.")
    assert resp.status_code == 200
    assert resp.get_json()["client_flags"] == {}


def test_an_unknown_case_is_404(api):
    assert set_flag(api, 999999).status_code == 404


def test_a_user_without_a_casework_role_is_403(api):
    opened = api.open_case()
    assert set_flag(api, opened["id"], "nobody").status_code == 403
