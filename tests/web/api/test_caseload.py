"""Collaterals, caseloads, moving a case's primary worker and task handoff notes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.audit import AuditEvent

DAUGHTER = {
    "name": "Lena Diaz",
    "relationship": "child",
    "phone": "555-0101",
    "preferred_language": "Spanish",
    "interpreter_needed": True,
    "consent_to_share": {"scope": "discharge planning", "expires_on": "2026-06-30"},
    "is_legal_decision_maker": True,
}


def _contact(api, case_id: int, body: dict, who: str = "sw"):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/cases/{case_id}/contacts", who, body)


def test_a_contact_is_recorded_with_consent_and_interpreter_need(api):
    case_id = api.open_case()["id"]
    resp = _contact(api, case_id, DAUGHTER)
    assert resp.status_code == 201, resp.get_json()
    contact = resp.get_json()["contact"]
    assert contact["consent_to_share"] == {
        "scope": "discharge planning",
        "expires_on": "2026-06-30",
    }
    assert (contact["interpreter_needed"], contact["is_legal_decision_maker"]) == (True, True)
    listed = api.get(f"/api/v1/cases/{case_id}/contacts").get_json()["contacts"]
    assert [c["name"] for c in listed] == ["Lena Diaz"]


def test_a_contact_without_consent_has_null_consent(api):
    case_id = api.open_case()["id"]
    body = {**DAUGHTER, "consent_to_share": None}
    contact = _contact(api, case_id, body).get_json()["contact"]
    assert (contact["consent_to_share"], contact["consent_valid"]) == (None, False)


def test_expired_consent_is_not_valid(api, clock):
    case_id = api.open_case()["id"]
    body = {**DAUGHTER, "consent_to_share": {"scope": "all", "expires_on": "2026-03-01"}}
    contact = _contact(api, case_id, body).get_json()["contact"]
    assert contact["consent_valid"] is False  # the clock reads 2026-03-02


def test_a_contact_without_a_name_is_a_422_naming_it(api):
    case_id = api.open_case()["id"]
    resp = _contact(api, case_id, {"relationship": "child"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["name"]


def test_consent_without_scope_is_a_422_naming_it(api):
    case_id = api.open_case()["id"]
    resp = _contact(api, case_id, {**DAUGHTER, "consent_to_share": {"expires_on": None}})
    assert resp.status_code == 422
    fields = [d["field"] for d in resp.get_json()["error"]["details"]]
    assert fields == ["consent_to_share.scope"]


def test_only_consented_contacts_are_suggested_for_outreach(api, session, clock):
    from engine.cases.contacts import shareable_contacts

    case_id = api.open_case()["id"]
    _contact(api, case_id, DAUGHTER)
    _contact(api, case_id, {**DAUGHTER, "name": "No Consent", "consent_to_share": None})
    expired = {"scope": "all", "expires_on": "2026-01-01"}
    _contact(api, case_id, {**DAUGHTER, "name": "Expired", "consent_to_share": expired})
    shown = shareable_contacts(session, case_id=case_id, today=clock.now().date())
    assert [c.name for c in shown] == ["Lena Diaz"]


def test_a_workers_caseload_lists_their_open_cases_with_figures(api, clock):
    case_id = api.open_case()["id"]
    note = {"type": "other", "body": "Visited."}
    assert api.post(f"/api/v1/cases/{case_id}/notes", "sw", note).status_code == 201
    clock.advance(timedelta(days=3))
    resp = api.get("/api/v1/caseload")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["user"] == "alex"
    [row] = body["cases"]
    assert (row["case_id"], row["client"], row["open_tasks"]) == (case_id, "Rosa Diaz", 1)
    assert row["days_since_contact"] == 3
    assert row["last_contact_at"] is not None
    assert row["earliest_due"] is not None


def test_a_case_without_notes_has_no_last_contact(api):
    api.open_case()
    [row] = api.get("/api/v1/caseload").get_json()["cases"]
    assert (row["last_contact_at"], row["days_since_contact"]) == (None, None)


def test_a_worker_cannot_read_another_workers_caseload(api):
    api.open_case()
    assert api.get("/api/v1/caseload?user=alex", "sw2").status_code == 403


def test_a_supervisor_reads_any_workers_caseload(api):
    case_id = api.open_case()["id"]
    body = api.get("/api/v1/caseload?user=alex", "supervisor").get_json()
    assert [c["case_id"] for c in body["cases"]] == [case_id]


def test_the_team_overview_counts_each_workers_cases(api):
    api.open_case()
    api.open_case()
    resp = api.get("/api/v1/caseload/team", "supervisor")
    assert resp.status_code == 200
    counts = {w["user"]: w for w in resp.get_json()["workers"]}
    assert (counts["alex"]["open_cases"], counts["sam"]["open_cases"]) == (2, 0)
    assert api.get("/api/v1/caseload/team", "sw").status_code == 403


def test_moving_the_primary_worker_needs_a_note(api):
    case_id = api.open_case()["id"]
    resp = api.post(f"/api/v1/cases/{case_id}/primary-worker", "supervisor", {"user": "sam"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["note"]


def test_the_new_worker_sees_the_handoff_note_first_on_the_case(api):
    case_id = api.open_case()["id"]
    body = {"user": "sam", "note": "Daughter is the key contact; call after 5pm."}
    resp = api.post(f"/api/v1/cases/{case_id}/primary-worker", "supervisor", body)
    assert resp.status_code == 200, resp.get_json()
    case = api.case(case_id, "sw2")
    assert case["primary_social_worker"] == "sam"
    assert case["handoff"]["note"] == "Daughter is the key contact; call after 5pm."
    assert (case["handoff"]["from_user"], case["handoff"]["to_user"]) == ("alex", "sam")
    assert [c["case_id"] for c in api.get("/api/v1/caseload", "sw2").get_json()["cases"]] == [
        case_id
    ]


def test_a_worker_cannot_move_a_cases_primary_worker(api):
    case_id = api.open_case()["id"]
    body = {"user": "sam", "note": "Taking over"}
    assert api.post(f"/api/v1/cases/{case_id}/primary-worker", "sw", body).status_code == 403


def test_a_task_handoff_note_is_stored_shown_and_audited(api, session):
    case_id = api.open_case()["id"]
    task = api.open_task(case_id, "intake")
    note = "Client prefers mornings."
    resp = api.post(f"/api/v1/tasks/{task['id']}/assign", "sw", {"user": "sam", "note": note})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["task"]["handoff_note"] == note
    detail = api.get(f"/api/v1/tasks/{task['id']}", "sw2").get_json()["task"]
    assert detail["handoff_note"] == note
    handoffs = api.case(case_id, "sw2")["handoffs"]
    assert [(h["task_id"], h["note"]) for h in handoffs] == [(task["id"], note)]
    tags = session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task["id"]))
    assert "task:handoff" in list(tags)


def test_a_task_lists_only_contacts_the_client_consented_to(api):
    case_id = api.open_case()["id"]
    _contact(api, case_id, DAUGHTER)
    _contact(api, case_id, {**DAUGHTER, "name": "Cousin Ray", "consent_to_share": None})
    task = api.open_task(case_id, "intake")
    shown = api.get(f"/api/v1/tasks/{task['id']}").get_json()["task"]["contacts"]
    assert [(c["name"], c["interpreter_needed"]) for c in shown] == [("Lena Diaz", True)]


def test_no_contact_is_suggested_while_the_client_is_do_not_contact(api):
    case_id = api.open_case()["id"]
    _contact(api, case_id, DAUGHTER)
    flag = {"flag": "do_not_contact", "set": True, "reason": "Partner threatens her"}
    assert api.post(f"/api/v1/cases/{case_id}/flags", "sw", flag).status_code == 200
    task = api.open_task(case_id, "intake")
    assert api.get(f"/api/v1/tasks/{task['id']}").get_json()["task"]["contacts"] == []
