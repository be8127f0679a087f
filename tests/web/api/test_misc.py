"""Process instances, messages, instrument scoring and the audit API."""

from __future__ import annotations

import io
import json

import pytest

from .conftest import INTAKE

# ---------------------------------------------------------------- instances -------


def test_instance_shows_completed_active_and_waiting_elements(api):
    opened = api.open_case()
    api.complete(api.open_task(opened["id"], "intake")["id"], INTAKE)
    body = api.get(f"/api/v1/process-instances/{opened['instance_id']}").get_json()["instance"]
    assert set(body) == {
        "id",
        "status",
        "process_key",
        "version",
        "case_id",
        "next_timer_at",
        "completed",
        "active",
        "waiting",
    }
    assert (body["process_key"], body["version"], body["case_id"]) == (
        "care_pathway",
        1,
        opened["id"],
    )
    assert {"start", "intake"} <= set(body["completed"])
    assert body["active"] == ["assessment"]
    assert body["waiting"] == ["assessment_overdue"]  # the 24 h boundary timer
    assert body["next_timer_at"].endswith("+00:00")


def test_unknown_instance_is_404(api):
    assert api.get("/api/v1/process-instances/999999").status_code == 404


def test_instance_without_a_role_is_403(api):
    opened = api.open_case()
    assert (
        api.get(f"/api/v1/process-instances/{opened['instance_id']}", "nobody").status_code == 403
    )


# ---------------------------------------------------------------- messages --------
MESSAGE_FORM = json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}}}).encode()
MESSAGE_DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:message id="msg_lab_result" name="lab_result" />
  <bpmn:process id="api_wait_for_lab" name="Wait for lab" isExecutable="true">
    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="casePathway" value="true" />
      </spiffworkflow:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_nurse" name="Nurse">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait" name="Lab result">
      <bpmn:messageEventDefinition id="wait_def" messageRef="msg_lab_result" />
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="review" name="Review lab result">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="api_review.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="review" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _case_waiting_for_a_message(api):  # type: ignore[no-untyped-def]
    resp = api.client.post(
        "/api/v1/process-definitions",
        data={
            "bpmn": [(io.BytesIO(MESSAGE_DIAGRAM), "api_wait_for_lab.bpmn")],
            "forms": [(io.BytesIO(MESSAGE_FORM), "api_review.schema.json")],
        },
        headers=api.as_("admin"),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    resp = api.post(
        "/api/v1/cases",
        "nurse",
        {
            "client": {"given_name": "Ana", "family_name": "Lee", "birth_date": "1970-01-01"},
            "reason": "Lab follow-up",
            "pathway": "api_wait_for_lab",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_message_is_delivered_to_the_waiting_instance(api):
    opened = _case_waiting_for_a_message(api)
    resp = api.post(
        "/api/v1/messages",
        "nurse",
        {"name": "lab_result", "case_id": opened["id"], "payload": {"potassium": 4.1}},
    )
    assert resp.status_code == 200
    assert resp.get_json() == {"delivered": [opened["instance_id"]]}
    assert api.open_task(opened["id"], "review")["role"] == "nurse"


def test_message_nobody_waits_for_is_422(api):
    opened = api.open_case()
    resp = api.post(
        "/api/v1/messages", "sw", {"name": "nothing_waits", "case_id": opened["id"], "payload": {}}
    )
    assert resp.status_code == 422


def test_message_to_unknown_case_is_404(api):
    resp = api.post(
        "/api/v1/messages", "sw", {"name": "lab_result", "case_id": 999999, "payload": {}}
    )
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"case_id": 1}, "name"),
        ({"name": "x", "case_id": "1"}, "case_id"),
        ({"name": "x", "case_id": True}, "case_id"),
        ({"name": "x", "case_id": 1, "payload": [1]}, "payload"),
    ],
)
def test_malformed_message_is_422_naming_the_field(api, body, field):
    resp = api.post("/api/v1/messages", "sw", body)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.get_json()["error"]["details"]] == [field]


def test_message_without_a_json_body_is_400(api):
    assert api.post("/api/v1/messages", "sw", None).status_code == 400


def test_message_without_a_role_is_403(api):
    assert api.post("/api/v1/messages", "nobody", {"name": "x", "case_id": 1}).status_code == 403


# ---------------------------------------------------------------- instruments -----
def _phq9(total_without_q9: int, q9: int = 0) -> dict[str, int]:
    answers = {f"q{i}": 0 for i in range(1, 10)}
    for i in range(1, 9):
        take = min(3, total_without_q9)
        answers[f"q{i}"] = take
        total_without_q9 -= take
    answers["q9"] = q9
    return answers


def _gad7(total: int) -> dict[str, int]:
    answers = {}
    for i in range(1, 8):
        take = min(3, total)
        answers[f"q{i}"] = take
        total -= take
    return answers


def _ahc(safety: tuple[int, int, int, int]) -> dict[str, object]:
    return {
        "q1": "steady",
        "q2": [],
        "q3": "never",
        "q4": "never",
        "q5": False,
        "q6": "no",
        **{f"q{i}": v for i, v in zip(range(7, 11), safety, strict=True)},
    }


# One boundary per instrument (CARE.md): the answers, then the exact expected result.
SCORING = [
    ("phq2", {"q1": 1, "q2": 1}, {"score": 2, "band": None, "flags": [], "risk_level": None}),
    (
        "phq2",
        {"q1": 2, "q2": 1},
        {"score": 3, "band": None, "flags": ["positive"], "risk_level": None},
    ),
    ("phq9", _phq9(9), {"score": 9, "band": "mild", "flags": [], "risk_level": None}),
    ("phq9", _phq9(10), {"score": 10, "band": "moderate", "flags": [], "risk_level": None}),
    (
        "phq9",
        _phq9(0, q9=1),
        {"score": 1, "band": "minimal", "flags": ["suicide_ideation"], "risk_level": None},
    ),
    ("gad7", _gad7(14), {"score": 14, "band": "moderate", "flags": [], "risk_level": None}),
    ("gad7", _gad7(15), {"score": 15, "band": "severe", "flags": [], "risk_level": None}),
    ("ahc_hrsn", _ahc((3, 3, 3, 1)), {"score": 10, "band": None, "flags": [], "risk_level": None}),
    (
        "ahc_hrsn",
        _ahc((3, 3, 3, 2)),
        {"score": 11, "band": None, "flags": ["interpersonal_safety"], "risk_level": None},
    ),
    (
        "cssrs",
        {"q1": True, "q2": False, "q6": False},
        {"score": None, "band": None, "flags": [], "risk_level": "low"},
    ),
    (
        "cssrs",
        {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False},
        {"score": None, "band": None, "flags": [], "risk_level": "moderate"},
    ),
    (
        "cssrs",
        {"q1": False, "q2": False, "q6": True, "q6_recent": True},
        {"score": None, "band": None, "flags": [], "risk_level": "high"},
    ),
]


@pytest.mark.parametrize(("key", "answers", "expected"), SCORING)
def test_score_returns_exactly_score_band_flags_risk(api, key, answers, expected):
    resp = api.post(f"/api/v1/instruments/{key}/score", "sw", {"answers": answers})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == expected


def test_score_unknown_instrument_is_404(api):
    assert api.post("/api/v1/instruments/zarit/score", "sw", {"answers": {}}).status_code == 404


def test_score_with_bad_items_is_422_naming_each_item(api):
    resp = api.post("/api/v1/instruments/phq2/score", "sw", {"answers": {"q1": 4}})
    assert resp.status_code == 422
    assert {d["field"] for d in resp.get_json()["error"]["details"]} == {"q1", "q2"}


@pytest.mark.parametrize("body", [None, {}, {"answers": [0, 1]}])
def test_score_without_an_answers_object_is_400(api, body):
    assert api.post("/api/v1/instruments/phq2/score", "sw", body).status_code == 400


def test_instruments_are_listed(api):
    listed = api.get("/api/v1/instruments").get_json()["instruments"]
    assert {"phq2", "phq9", "gad7", "ahc_hrsn", "cssrs"} <= {i["key"] for i in listed}
    assert all(i["title"] and i["version"] for i in listed)


# ---------------------------------------------------------------- audit -----------
def test_audit_lists_the_cases_events_newest_first(api):
    opened = api.open_case()
    events = api.get(f"/api/v1/audit?case={opened['id']}", "admin").get_json()["events"]
    assert set(events[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "category",
        "case_id",
        "client_id",
        "task_id",
        "details",
    }
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert events[-1]["action"] == "case:opened"
    assert {e["case_id"] for e in events} == {opened["id"]}


def test_reading_the_audit_is_itself_audited(api):
    opened = api.open_case()
    api.get(f"/api/v1/audit?case={opened['id']}", "admin")
    events = api.get(f"/api/v1/audit?case={opened['id']}", "admin").get_json()["events"]
    assert events[0]["action"] == "audit:viewed"
    assert events[0]["actor"] == "admin"


@pytest.mark.parametrize("who", ["sw", "supervisor", "nurse"])
def test_audit_is_admin_only(api, who):
    opened = api.open_case()
    assert api.get(f"/api/v1/audit?case={opened['id']}", who).status_code == 403


@pytest.mark.parametrize("query", ["", "?case=abc", "?case=0"])
def test_audit_without_a_case_id_is_400(api, query):
    assert api.get(f"/api/v1/audit{query}", "admin").status_code == 400


def test_audit_of_unknown_case_is_404(api):
    assert api.get("/api/v1/audit?case=999999", "admin").status_code == 404
