"""POST /tasks/<id>/acknowledge and GET /notifications?case=<id>."""

from __future__ import annotations

from engine.demo_forms import CRISIS
from tests.web.api.conftest import HIGH_RISK_CSSRS, Api


def _crisis(api: Api) -> tuple[dict, dict]:
    opened = api.through_assessment(cssrs=HIGH_RISK_CSSRS)
    return opened, api.open_task(opened["id"], "crisis_response")


def test_a_colleague_of_the_role_acknowledges_a_stat_task_held_by_someone_else(api, clock):
    _, task = _crisis(api)
    assert task["assignee"] == "morgan"  # nobody on call: the supervisor holds it
    resp = api.post(f"/api/v1/tasks/{task['id']}/acknowledge", "sw2")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["task"]["acknowledged_by"] == body["acknowledged_by"] == "sam"
    assert body["task"]["acknowledged_at"] == body["acknowledged_at"] == clock.now().isoformat()


def test_someone_outside_the_role_and_the_care_team_gets_403(api):
    _, task = _crisis(api)
    resp = api.post(f"/api/v1/tasks/{task['id']}/acknowledge", "nurse")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "cannot_acknowledge"


def test_a_second_acknowledgement_returns_the_first(api, clock):
    _, task = _crisis(api)
    api.post(f"/api/v1/tasks/{task['id']}/acknowledge", "sw2")
    clock.advance(minutes=1)
    again = api.post(f"/api/v1/tasks/{task['id']}/acknowledge", "supervisor")
    assert again.status_code == 200
    assert again.get_json()["task"]["acknowledged_by"] == "sam"


def test_a_closed_task_gets_409(api):
    _, task = _crisis(api)
    done = api.complete(task["id"], dict(CRISIS), "supervisor")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["task"]["acknowledged_by"] == "morgan"
    resp = api.post(f"/api/v1/tasks/{task['id']}/acknowledge", "sw2")
    assert resp.status_code == 409


def test_notifications_of_a_case_show_their_delivery_state(api):
    opened, task = _crisis(api)
    resp = api.get(f"/api/v1/notifications?case={opened['id']}", "supervisor")
    assert resp.status_code == 200
    rows = [n for n in resp.get_json()["notifications"] if n["task_id"] == task["id"]]
    assert {(n["kind"], n["channel"], n["recipient"], n["status"]) for n in rows} == {
        ("fallback", "email", "morgan", "pending"),
        ("fallback", "webhook", "morgan", "pending"),
    }
    assert {n["attempts"] for n in rows} == {0}


def test_notifications_need_a_case(api):
    assert api.get("/api/v1/notifications", "supervisor").status_code == 400


def test_notifications_are_not_for_someone_without_a_clinical_role(api):
    opened, _ = _crisis(api)
    assert api.get(f"/api/v1/notifications?case={opened['id']}", "nobody").status_code == 403


def test_the_case_timeline_shows_each_alert_with_its_delivery_state(api):
    opened, task = _crisis(api)
    events = api.get(f"/api/v1/cases/{opened['id']}/timeline", "supervisor").get_json()["events"]
    alerts = [e for e in events if e["action"].startswith("notification:")]
    assert {
        (e["action"], e["details"]["channel"])
        for e in alerts
        if e["details"]["task_id"] == task["id"]
    } == {
        ("notification:pending", "email"),
        ("notification:pending", "webhook"),
    }


def test_an_escalation_task_reads_and_completes_through_the_task_api(api, session, clock):
    from engine import alarms

    _, task = _crisis(api)
    clock.advance(minutes=15)
    assert alarms.escalate(session, task_id=task["id"], now=clock.now())
    session.commit()
    mine = api.get("/api/v1/tasks?view=mine", "supervisor").get_json()["tasks"]
    [escalation] = [t for t in mine if t["escalates_task_id"] == task["id"]]
    assert (escalation["kind"], escalation["priority"], escalation["role"]) == (
        "escalation",
        "stat",
        "supervisor",
    )
    detail = api.get(f"/api/v1/tasks/{escalation['id']}", "supervisor").get_json()["task"]
    assert detail["form_schema"]["required"] == ["action"]
    done = api.complete(escalation["id"], {"action": "took_over"}, "supervisor")
    assert done.status_code == 200, done.get_json()
    original = api.get(f"/api/v1/tasks/{task['id']}", "supervisor").get_json()["task"]
    assert original["acknowledged_by"] == "morgan"


def test_metrics_count_alert_deliveries_by_status(api):
    _crisis(api)
    text = api.client.get("/metrics").get_data(as_text=True)
    assert 'carebridge_notifications{status="failed"} 0.0' in text
    # Three stat tasks (crisis response, precautions, physician review), each to the one
    # supervisor as nobody is on call, over two channels.
    assert 'carebridge_notifications{status="pending"} 6.0' in text
