"""POST /api/v1/cases/<id>/screenings: screen now on an open case."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.demo_forms import AHC_UNSAFE, CSSRS_HIGH

PHQ9_ITEM9 = {f"q{i}": 0 for i in range(1, 9)} | {"q9": 1}
TASK_FIELDS_USED = {"id", "name", "bpmn_id", "case_id", "role", "assignee", "priority", "due_at"}


def screen(api, case_id, instrument, answers, who="sw"):
    return api.post(
        f"/api/v1/cases/{case_id}/screenings", who, {"instrument": instrument, "answers": answers}
    )


def test_item9_screen_is_201_with_the_assessment_and_the_stat_cssrs_task(api, clock):
    case = api.open_case()
    resp = screen(api, case["id"], "phq9", PHQ9_ITEM9)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["assessment"] == {
        "score": 1,
        "band": "minimal",
        "flags": ["suicide_ideation"],
        "risk_level": None,
    }
    [task] = body["created_tasks"]
    assert TASK_FIELDS_USED <= set(task)
    assert (task["name"], task["priority"], task["role"], task["case_id"]) == (
        "Suicide-risk screen (C-SSRS)",
        "stat",
        "social_worker",
        case["id"],
    )
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    assert due == clock.now() + timedelta(minutes=15)


def test_high_cssrs_screen_starts_crisis_tasks(api):
    case = api.open_case()
    body = screen(api, case["id"], "cssrs", CSSRS_HIGH, who="sw").get_json()
    assert body["assessment"]["risk_level"] == "high"
    assert {(t["bpmn_id"], t["role"]) for t in body["created_tasks"]} == {
        ("crisis_response", "social_worker"),
        ("safety_precautions", "nurse"),
        ("physician_review", "physician"),
    }
    assert {t["priority"] for t in body["created_tasks"]} == {"stat"}


def test_declined_answers_are_stored_as_incomplete(api):
    case = api.open_case()
    body = screen(api, case["id"], "cssrs", {"q1": "declined", "q2": False, "q6": False}).get_json()
    assert body["assessment"] == {
        "score": None,
        "band": None,
        "flags": ["incomplete"],
        "risk_level": "moderate",
    }
    assert {t["bpmn_id"] for t in body["created_tasks"]} == {
        "bh_consult",
        "moderate_safety_plan",
        "shift_review",
    }


def test_no_risk_screen_creates_no_task(api):
    case = api.open_case()
    body = screen(api, case["id"], "gad7", {f"q{i}": 0 for i in range(1, 8)}).get_json()
    assert body["created_tasks"] == []
    assert body["assessment"]["band"] == "minimal"


def test_unsafe_ahc_screen_flags_the_case_do_not_contact(api):
    case = api.open_case()
    assert screen(api, case["id"], "ahc_hrsn", AHC_UNSAFE, who="sw").status_code == 201
    assert api.case(case["id"])["do_not_contact"] is True


def test_the_result_is_on_the_case_and_its_timeline(api):
    case = api.open_case()
    screen(api, case["id"], "phq9", PHQ9_ITEM9)
    assert [a["instrument"] for a in api.case(case["id"])["assessments"]] == ["phq9"]
    events = api.get(f"/api/v1/cases/{case['id']}/timeline").get_json()["events"]
    [event] = [e for e in events if e["action"] == "case:assessment:recorded"]
    assert (event["actor"], event["details"]["instrument"]) == ("alex", "phq9")


def test_a_bad_answer_is_422_naming_the_item(api):
    case = api.open_case()
    resp = screen(api, case["id"], "phq9", PHQ9_ITEM9 | {"q4": 9})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["q4"]


def test_a_missing_answer_is_422_naming_the_item(api):
    case = api.open_case()
    answers = {k: v for k, v in PHQ9_ITEM9.items() if k != "q7"}
    resp = screen(api, case["id"], "phq9", answers)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["q7"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument": "nope", "answers": {}}, "instrument"),
        ({"answers": {}}, "instrument"),
        ({"instrument": "phq9", "answers": [1]}, "answers"),
    ],
)
def test_a_bad_request_body_is_422_naming_the_field(api, body, field):
    case = api.open_case()
    resp = api.post(f"/api/v1/cases/{case['id']}/screenings", "sw", body)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == [field]


def test_unknown_case_is_404(api):
    assert screen(api, 999999, "phq9", PHQ9_ITEM9).status_code == 404


def test_closed_case_is_409(api, session):
    from engine.cases.models import Case

    case = api.open_case()
    session.get(Case, case["id"]).status = "closed"
    session.flush()
    resp = screen(api, case["id"], "phq9", PHQ9_ITEM9)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "case_closed"


@pytest.mark.parametrize("who", ["sw", "sw2", "nurse", "supervisor"])
def test_any_care_team_role_may_screen(api, who):
    case = api.open_case()
    if who in ("sw2", "nurse"):
        api.join_team(case["id"], who)
    assert screen(api, case["id"], "phq9", PHQ9_ITEM9, who=who).status_code == 201


@pytest.mark.parametrize("who", ["admin", "nobody"])
def test_roles_outside_the_care_team_may_not_screen(api, who):
    case = api.open_case()
    assert screen(api, case["id"], "phq9", PHQ9_ITEM9, who=who).status_code == 403
