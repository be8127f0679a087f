"""GET /tasks, GET /tasks/<id> and the task commands: claim, release, assign, complete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import HIGH_RISK_CSSRS, INTAKE, assessment

TASK_FIELDS = {
    "id",
    "name",
    "bpmn_id",
    "process_key",
    "case_id",
    "client_id",
    "client_name",
    "role",
    "assignee",
    "priority",
    "due_at",
    "created_at",
    "status",
    "overdue",
    "kind",
    "acknowledged_at",
    "acknowledged_by",
    "escalates_task_id",
    "cancel_reason",
    "client_flags",
}


def _audit_actions(api, case_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        e["action"] for e in api.get(f"/api/v1/audit?case={case_id}", "admin").get_json()["events"]
    ]


# ---------------------------------------------------------------- list ------------
def test_mine_lists_the_new_intake_with_every_task_field(api):
    opened = api.open_case()
    body = api.get("/api/v1/tasks?view=mine").get_json()
    [task] = body["tasks"]
    assert set(task) == TASK_FIELDS
    assert (task["bpmn_id"], task["case_id"], task["assignee"]) == ("intake", opened["id"], "alex")
    assert task["client_name"] == "Rosa Diaz"
    assert task["due_at"].endswith("+00:00")
    assert body["next_cursor"] is None


def test_counts_cover_every_view(api):
    api.open_case()
    counts = api.get("/api/v1/tasks").get_json()["counts"]
    assert set(counts) == {"mine", "team", "overdue", "followup", "all"}
    assert counts["mine"] == 1


def test_team_view_lists_unclaimed_tasks_of_my_roles(api):
    api.open_case(who="admin")  # no primary social worker: intake goes to the queue
    [task] = api.get("/api/v1/tasks?view=team", "sw2").get_json()["tasks"]
    assert task["assignee"] is None
    assert task["role"] == "social_worker"


def test_overdue_view_and_flag_follow_the_clock(api, clock):
    api.open_case()
    assert api.get("/api/v1/tasks?view=overdue").get_json()["tasks"] == []
    clock.advance(timedelta(hours=25))
    [task] = api.get("/api/v1/tasks?view=overdue").get_json()["tasks"]
    assert task["overdue"] is True


def test_pages_with_a_cursor(api):
    for _ in range(3):
        api.open_case()
    first = api.get("/api/v1/tasks?limit=2").get_json()
    assert len(first["tasks"]) == 2
    assert first["next_cursor"]
    second = api.get(f"/api/v1/tasks?limit=2&after={first['next_cursor']}").get_json()
    assert len(second["tasks"]) == 1
    assert second["next_cursor"] is None
    assert not {t["id"] for t in first["tasks"]} & {t["id"] for t in second["tasks"]}


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("client=diaz", 1),
        ("client=nobody", 0),
        ("task_type=intake", 1),
        ("task_type=assessment", 0),
        ("sort=priority", 1),
    ],
)
def test_filters_and_sort(api, query, count):
    api.open_case()
    assert len(api.get(f"/api/v1/tasks?{query}").get_json()["tasks"]) == count


@pytest.mark.parametrize("query", ["view=bogus", "sort=bogus", "limit=x", "limit=0", "after=%%%"])
def test_bad_list_parameters_are_400(api, query):
    resp = api.get(f"/api/v1/tasks?{query}")
    assert resp.status_code == 400
    assert set(resp.get_json()["error"]) == {"code", "message", "details"}


# ---------------------------------------------------------------- detail ----------
def test_task_detail_has_form_ui_schema_and_rendered_instructions(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    detail = api.get(f"/api/v1/tasks/{task['id']}").get_json()["task"]
    assert TASK_FIELDS <= set(detail)
    assert detail["form_schema"]["title"] == "Social work intake"
    assert "ui:order" in detail["ui_schema"]
    assert f"case {opened['id']}" in detail["instructions"]
    assert "{{" not in detail["instructions"]
    assert detail["can_complete"] is True


def test_task_detail_is_audited(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    api.get(f"/api/v1/tasks/{task['id']}")
    assert "case:task:viewed" in _audit_actions(api, opened["id"])


def test_task_detail_unknown_id_is_404(api):
    assert api.get("/api/v1/tasks/999999").status_code == 404


def test_task_detail_of_another_roles_task_is_403(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    assert api.get(f"/api/v1/tasks/{task['id']}", "nurse").status_code == 403


def test_supervisor_sees_a_task_but_cannot_complete_it_unassigned(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    detail = api.get(f"/api/v1/tasks/{task['id']}", "supervisor").get_json()["task"]
    assert detail["can_complete"] is False


# ---------------------------------------------------------------- claim/release ---
def _queued_intake(api):  # type: ignore[no-untyped-def]
    opened = api.open_case(who="admin")
    return api.open_task(opened["id"], "intake")


def test_claim_takes_a_queued_task(api):
    task = _queued_intake(api)
    resp = api.post(f"/api/v1/tasks/{task['id']}/claim", "sw")
    assert resp.status_code == 200
    assert resp.get_json()["task"]["assignee"] == "alex"


def test_claim_of_another_roles_task_is_403(api):
    task = _queued_intake(api)
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", "nurse").status_code == 403


def test_claim_of_a_task_someone_holds_is_409(api):
    task = _queued_intake(api)
    api.post(f"/api/v1/tasks/{task['id']}/claim", "sw")
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", "sw2").status_code == 409


def test_claim_unknown_task_is_404(api):
    assert api.post("/api/v1/tasks/999999/claim").status_code == 404


def test_release_returns_the_task_to_the_queue(api):
    task = _queued_intake(api)
    api.post(f"/api/v1/tasks/{task['id']}/claim", "sw")
    resp = api.post(f"/api/v1/tasks/{task['id']}/release", "sw")
    assert resp.status_code == 200
    assert resp.get_json()["task"]["assignee"] is None


def test_release_of_someone_elses_task_is_403(api):
    task = _queued_intake(api)
    api.post(f"/api/v1/tasks/{task['id']}/claim", "sw")
    assert api.post(f"/api/v1/tasks/{task['id']}/release", "sw2").status_code == 403


def test_release_of_a_completed_task_is_409(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    api.complete(task["id"], INTAKE)
    assert api.post(f"/api/v1/tasks/{task['id']}/release").status_code == 409


def test_release_unknown_task_is_404(api):
    assert api.post("/api/v1/tasks/999999/release").status_code == 404


# ---------------------------------------------------------------- assign ----------
def test_supervisor_reassigns_another_workers_task(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "supervisor", {"user": "sam"})
    assert resp.status_code == 200
    assert resp.get_json()["task"]["assignee"] == "sam"


def test_social_worker_may_not_reassign_another_workers_task(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "sw2", {"user": "sam"})
    assert resp.status_code == 403


def test_assign_to_a_user_without_the_role_is_422_naming_user(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "supervisor", {"user": "kim"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["field"] == "user"


def test_assign_to_an_unknown_user_is_404(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "supervisor", {"user": "ghost"})
    assert resp.status_code == 404


@pytest.mark.parametrize("body", [None, {}, {"user": 7}, {"user": " "}])
def test_assign_without_a_username_is_400(api, body):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    assert api.post(f"/api/v1/tasks/{task['id']}/assign", "supervisor", body).status_code == 400


def test_assign_a_completed_task_is_409(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    api.complete(task["id"], INTAKE)
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "supervisor", {"user": "sam"})
    assert resp.status_code == 409


def test_assign_unknown_task_is_404(api):
    assert api.post("/api/v1/tasks/999999/assign", "supervisor", {"user": "sam"}).status_code == 404


# ---------------------------------------------------------------- complete --------
def test_complete_returns_the_task_and_the_next_one(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.complete(task["id"], INTAKE)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["task"]["status"] == "completed"
    [nxt] = body["next_tasks"]
    assert (nxt["bpmn_id"], nxt["assignee"]) == ("assessment", "alex")


def test_complete_assessment_stores_scored_instruments_on_the_case(api):
    opened = api.through_assessment()
    case = api.case(opened["id"])
    assert {a["instrument"] for a in case["assessments"]} == {"phq2", "cssrs", "ahc_hrsn"}
    assert any(t["bpmn_id"] == "care_plan" and t["status"] == "open" for t in case["tasks"])


def test_nurse_completing_a_social_workers_task_is_403(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.complete(task["id"], INTAKE, who="nurse")
    assert resp.status_code == 403


def test_nurse_completing_a_queued_social_work_task_is_403(api):
    task = _queued_intake(api)
    assert api.complete(task["id"], INTAKE, who="nurse").status_code == 403


def test_crisis_screen_gives_the_nurse_a_task_the_social_worker_cannot_complete(api):
    opened = api.through_assessment(cssrs=HIGH_RISK_CSSRS)
    safety = api.open_task(opened["id"], "safety_precautions")
    assert safety["priority"] == "stat"
    assert safety["role"] == "nurse"
    crisis = api.open_task(opened["id"], "crisis_response")
    assert api.complete(crisis["id"], {}, who="nurse").status_code == 403


def test_second_completion_of_the_same_task_is_409(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    assert api.complete(task["id"], INTAKE).status_code == 200
    resp = api.complete(task["id"], INTAKE)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "task_closed"


def test_complete_unknown_task_is_404(api):
    assert api.complete(999999, INTAKE).status_code == 404


@pytest.mark.parametrize("body", [None, {}, {"data": "x"}, {"data": [1]}])
def test_complete_without_a_data_object_is_400(api, body):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "sw", body).status_code == 400


def test_complete_with_a_broken_json_body_is_400(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = api.client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        data="{not json",
        headers={**api.as_("sw"), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400


READS = ("case:viewed", "case:task:viewed", "audit:viewed")


def test_invalid_form_data_is_422_naming_fields_and_changes_nothing(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    bad = {**INTAKE, "referral_source": "carrier pigeon"}
    del bad["primary_language"]
    changes_before = [a for a in _audit_actions(api, opened["id"]) if a not in READS]
    resp = api.complete(task["id"], bad)
    assert resp.status_code == 422
    fields = {d["field"] for d in resp.get_json()["error"]["details"]}
    assert fields == {"referral_source", "primary_language"}
    assert api.get(f"/api/v1/tasks/{task['id']}").get_json()["task"]["status"] == "open"
    changes_after = [a for a in _audit_actions(api, opened["id"]) if a not in READS]
    assert changes_after == changes_before  # no completion row, nothing else either


def test_invalid_instrument_answers_are_422_naming_the_item(api):
    opened = api.open_case()
    api.complete(api.open_task(opened["id"], "intake")["id"], INTAKE)
    task = api.open_task(opened["id"], "assessment")
    resp = api.complete(task["id"], assessment(phq2={"q1": 0, "q2": 7}))
    assert resp.status_code == 422
    assert any(d["field"].startswith("phq2") for d in resp.get_json()["error"]["details"])
    assert api.case(opened["id"])["assessments"] == []
