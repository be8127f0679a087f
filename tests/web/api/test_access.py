"""Record-level access through the API: refusals and their audit rows, break-glass and its
report, masking of sensitive answers, and the audit rows of reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import access, tasks_view
from engine.audit import AuditEvent, AuditTag
from tests.factories import UserFactory
from tests.web.api.conftest import HIGH_RISK_CSSRS

GRANT_FIELDS = {"id", "case_id", "client_id", "user", "reason", "granted_at", "expires_at"}


@pytest.fixture
def doc(api, api_as):  # type: ignore[no-untyped-def]
    """A physician who is on no care team."""
    user = UserFactory(username="patel", role_keys=("physician",))
    api.users["doc"] = user
    api.headers["doc"] = api_as(user)
    return api


def _rows(session, action: str, case_id: int | None = None) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if case_id is not None:
        stmt = stmt.where(AuditEvent.case_id == case_id)
    return list(session.scalars(stmt.order_by(AuditEvent.id)))


def _glass(api, case_id: int, who: str, reason: object = "Admitted via ED overnight"):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/cases/{case_id}/break-glass", who, {"reason": reason})


# ---------------------------------------------------------------- refusals ---------
def test_a_worker_off_the_team_is_refused_with_a_hint_at_break_glass(api):
    case_id = api.open_case()["id"]
    resp = api.get(f"/api/v1/cases/{case_id}", "sw2")
    assert resp.status_code == 403
    error = resp.get_json()["error"]
    assert error["code"] == "not_on_care_team"
    assert [d["field"] for d in error["details"]] == ["break_glass"]


@pytest.mark.parametrize(
    "path", ["", "/timeline", "/team", "/referrals"], ids=["case", "timeline", "team", "referrals"]
)
def test_every_read_of_the_case_is_refused_off_the_team(api, path):
    case_id = api.open_case()["id"]
    assert api.get(f"/api/v1/cases/{case_id}{path}", "nurse").status_code == 403


def test_instance_and_task_reads_follow_the_case(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    assert api.get(f"/api/v1/process-instances/{opened['instance_id']}", "sw2").status_code == 403
    assert api.get(f"/api/v1/tasks/{task['id']}", "sw2").status_code == 403
    assert api.get(f"/api/v1/process-instances/{opened['instance_id']}").status_code == 200
    assert api.get(f"/api/v1/tasks/{task['id']}").status_code == 200


def test_a_refusal_leaves_an_audit_row_naming_who_what_and_which_client(api, session):
    opened = api.open_case()
    api.get(f"/api/v1/cases/{opened['id']}/timeline", "sw2")
    [row] = _rows(session, AuditTag.ACCESS_REFUSED)
    assert (row.actor, row.case_id, row.client_id, row.category) == (
        "sam",
        opened["id"],
        opened["case"]["client"]["id"],
        "case_record",
    )
    assert row.details == {
        "attempted": f"GET /api/v1/cases/{opened['id']}/timeline",
        "code": "not_on_care_team",
    }


def test_a_role_refusal_is_audited_too(api, session):
    api.get("/api/v1/audit?case=1", "sw")
    [row] = _rows(session, AuditTag.ACCESS_REFUSED)
    assert (row.actor, row.details["code"]) == ("alex", "role_required")


# ---------------------------------------------------------------- reads audited ----
def test_timeline_and_instance_reads_leave_audit_rows(api, session):
    opened = api.open_case()
    api.get(f"/api/v1/cases/{opened['id']}/timeline")
    api.get(f"/api/v1/process-instances/{opened['instance_id']}")
    [viewed] = _rows(session, AuditTag.CASE_VIEWED, opened["id"])
    assert viewed.details == {"access": "care_team", "section": "timeline"}
    [instance] = _rows(session, AuditTag.INSTANCE_VIEWED, opened["id"])
    assert (instance.actor, instance.instance_id) == ("alex", opened["instance_id"])


# ---------------------------------------------------------------- break-glass ------
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": 7}])
def test_break_glass_without_a_reason_is_422_naming_reason(api, body):
    case_id = api.open_case()["id"]
    resp = api.post(f"/api/v1/cases/{case_id}/break-glass", "sw2", body)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == ["reason"]


def test_break_glass_grants_an_hour_of_access_then_refuses_again(api, clock):
    case_id = api.open_case()["id"]
    resp = _glass(api, case_id, "sw2")
    assert resp.status_code == 201
    grant = resp.get_json()["grant"]
    assert set(grant) == GRANT_FIELDS
    assert (grant["user"], grant["case_id"]) == ("sam", case_id)
    assert grant["expires_at"] == (clock.now() + timedelta(minutes=60)).isoformat()
    case = api.case(case_id, "sw2")
    assert case["access"]["basis"] == "break_glass"
    clock.advance(minutes=59)
    assert api.get(f"/api/v1/cases/{case_id}", "sw2").status_code == 200
    clock.advance(minutes=1)
    assert api.get(f"/api/v1/cases/{case_id}", "sw2").status_code == 403


def test_break_glass_of_an_unknown_case_is_404_and_without_a_role_403(api):
    assert _glass(api, 999999, "sw2").status_code == 404
    case_id = api.open_case()["id"]
    assert _glass(api, case_id, "nobody").status_code == 403


def test_the_break_glass_report_lists_every_use_in_the_window(api, clock):
    case_id = api.open_case()["id"]
    _glass(api, case_id, "sw2", "Covering the weekend")
    clock.advance(days=2)
    _glass(api, case_id, "nurse", "Bedside question")
    day = clock.now().date().isoformat()
    uses = api.get(f"/api/v1/reports/break-glass?from={day}", "supervisor").get_json()["uses"]
    assert [(u["user"], u["reason"]) for u in uses] == [("kim", "Bedside question")]
    every = api.get("/api/v1/reports/break-glass", "admin").get_json()["uses"]
    assert [u["user"] for u in every] == ["kim", "sam"]
    assert set(every[0]) == GRANT_FIELDS | {"user_name"}


def test_the_break_glass_report_is_for_supervisors_and_checks_its_dates(api):
    assert api.get("/api/v1/reports/break-glass", "sw").status_code == 403
    assert api.get("/api/v1/reports/break-glass?from=yesterday", "supervisor").status_code == 400
    assert api.get("/api/v1/reports/break-glass?to=2026-03-02T10:00", "admin").status_code == 400


# ---------------------------------------------------------------- masking ----------
def _screens(case: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {a["instrument"]: a for a in case["assessments"]}


def test_a_physician_off_the_team_sees_risk_level_not_the_suicide_items(doc):
    opened = doc.through_assessment(cssrs=HIGH_RISK_CSSRS)
    _glass(doc, opened["id"], "doc")
    screens = _screens(doc.case(opened["id"], "doc"))
    cssrs = screens["cssrs"]
    assert cssrs["risk_level"] == "high"
    assert set(cssrs["answers"].values()) == {None}
    assert cssrs["masked_items"] == sorted(HIGH_RISK_CSSRS)
    ahc = screens["ahc_hrsn"]
    assert ahc["masked_items"] == ["q10", "q7", "q8", "q9"]
    assert ahc["answers"]["q1"] == "steady"
    assert screens["phq2"]["masked_items"] == []


def test_the_care_team_and_supervisors_see_the_item_answers(doc):
    opened = doc.through_assessment(cssrs=HIGH_RISK_CSSRS)
    doc.join_team(opened["id"], "doc", "attending_physician")
    for who in ("sw", "doc", "supervisor"):
        cssrs = _screens(doc.case(opened["id"], who))["cssrs"]
        assert (cssrs["answers"], cssrs["masked_items"]) == (HIGH_RISK_CSSRS, [])


def test_an_admin_off_the_team_sees_the_items_masked(api):
    opened = api.through_assessment(cssrs=HIGH_RISK_CSSRS)
    cssrs = _screens(api.case(opened["id"], "admin"))["cssrs"]
    assert cssrs["masked_items"] == sorted(HIGH_RISK_CSSRS)


def test_substance_use_in_task_data_is_masked_for_a_break_glass_reader(api, session, clock):
    from tests.web.api.conftest import INTAKE, assessment

    opened = api.open_case()
    api.complete(api.open_task(opened["id"], "intake")["id"], INTAKE)
    task = api.open_task(opened["id"], "assessment")
    data = assessment(substance_use="Drinks most evenings.")
    assert api.complete(task["id"], data).status_code == 200
    [nxt] = [t for t in api.case(opened["id"])["tasks"] if t["status"] == "open"]
    _glass(api, opened["id"], "nurse")
    as_nurse = tasks_view.view_task(
        session, task_id=nxt["id"], actor=api.users["nurse"], clock=clock
    )
    as_worker = tasks_view.view_task(session, task_id=nxt["id"], actor=api.users["sw"], clock=clock)
    assert as_worker.data["assessment"]["substance_use"] == "Drinks most evenings."
    assert as_nurse.data["assessment"]["substance_use"] == access.MASKED
    assert as_nurse.data["assessment"]["coping"] == as_worker.data["assessment"]["coping"]


# ---------------------------------------------------------------- task lists -------
def _all_view(api, who: str) -> list[int]:  # type: ignore[no-untyped-def]
    body = api.get("/api/v1/tasks?view=all", who).get_json()
    return [t["case_id"] for t in body["tasks"]]


def test_the_all_view_lists_a_colleagues_task_only_once_on_the_care_team(api):
    case_id = api.open_case()["id"]
    assert case_id not in _all_view(api, "sw2")
    api.join_team(case_id, "sw2")
    assert case_id in _all_view(api, "sw2")
    assert case_id in _all_view(api, "supervisor")
