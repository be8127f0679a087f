"""GET/POST /process-definitions and GET /process-definitions/<id>/xml."""

from __future__ import annotations

import io
import json

import pytest

FORM = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Phone call",
        "type": "object",
        "properties": {"reached": {"title": "Reached the client", "type": "boolean"}},
        "required": ["reached"],
    }
).encode()


def diagram(task_name: str = "Call the client", condition: str = "reached == True") -> bytes:
    """A small valid process: start -> call -> gateway -> end (line numbers matter below)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:process id="api_phone_call" name="Phone call" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_sw" name="SocialWorker">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>call</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>reached</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="call" name="{task_name}">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename"
                                  value="api_phone_call.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="reached" default="flow_default" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="flow_start_call" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="flow_call_reached" sourceRef="call" targetRef="reached" />
    <bpmn:sequenceFlow id="flow_condition" sourceRef="reached" targetRef="end">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_default" sourceRef="reached" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


# The line the problem must point at: the broken expression inside flow_condition.
CONDITION_LINE = 1 + next(
    i
    for i, line in enumerate(diagram().decode().splitlines())
    if "<bpmn:conditionExpression>" in line
)


def upload(api, files: dict[str, list[tuple[bytes, str]]], who: str = "admin"):  # type: ignore[no-untyped-def]
    data = {
        field: [(io.BytesIO(content), name) for content, name in items]
        for field, items in files.items()
    }
    return api.client.post(
        "/api/v1/process-definitions",
        data=data,
        headers=api.as_(who),
        content_type="multipart/form-data",
    )


def deploy(api, bpmn: bytes | None = None, who: str = "admin"):  # type: ignore[no-untyped-def]
    return upload(
        api,
        {
            "bpmn": [(bpmn or diagram(), "api_phone_call.bpmn")],
            "forms": [(FORM, "api_phone_call.schema.json")],
        },
        who,
    )


# ---------------------------------------------------------------- list ------------
def test_list_shows_the_shipped_definitions_with_running_counts(api):
    api.open_case()
    rows = api.get("/api/v1/process-definitions").get_json()["definitions"]
    assert set(rows[0]) == {
        "id",
        "process_key",
        "name",
        "version",
        "sha256",
        "deployed_at",
        "running_instances",
        "comment",
        "current",
    }
    pathway = next(r for r in rows if r["process_key"] == "care_pathway")
    assert pathway["running_instances"] >= 1


# ---------------------------------------------------------------- deploy ----------
def test_deploy_of_a_new_process_is_201_version_1(api):
    resp = deploy(api)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["created"] == ["api_phone_call"]
    assert [(d["process_key"], d["version"]) for d in body["definitions"]] == [
        ("api_phone_call", 1)
    ]


def test_deploy_of_identical_content_is_200_with_nothing_created(api):
    deploy(api)
    resp = deploy(api)
    assert resp.status_code == 200
    assert resp.get_json()["created"] == []
    assert resp.get_json()["definitions"][0]["version"] == 1


def test_deploy_of_changed_content_is_version_n_plus_1(api):
    deploy(api)
    resp = deploy(api, diagram(task_name="Phone the client"))
    assert resp.status_code == 201
    assert resp.get_json()["definitions"][0]["version"] == 2
    versions = [
        d["version"]
        for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
        if d["process_key"] == "api_phone_call"
    ]
    assert sorted(versions) == [1, 2]


def test_deploy_may_call_already_deployed_processes_and_use_shipped_forms(api):
    shipped = api.get("/api/v1/process-definitions").get_json()["definitions"]
    cycle = next(d for d in shipped if d["process_key"] == "care_plan_cycle")
    xml = api.get(f"/api/v1/process-definitions/{cycle['id']}/xml").data
    changed = xml.replace(b'name="Care plan"', b'name="Care plan (v2)"', 1)
    assert changed != xml
    resp = upload(api, {"bpmn": [(changed, "care_plan_cycle.bpmn")]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["created"] == ["care_plan_cycle"]


def test_deploy_of_a_broken_diagram_is_422_with_element_id_and_line(api):
    resp = deploy(api, diagram(condition="reached ==="))
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_definition"
    [problem] = [p for p in error["details"] if p["element_id"] == "flow_condition"]
    assert problem["file"] == "api_phone_call.bpmn"
    assert problem["line"] == CONDITION_LINE
    assert problem["message"]


def test_deploy_of_malformed_xml_is_422_naming_the_file(api):
    resp = upload(api, {"bpmn": [(b"<bpmn:definitions>", "broken.bpmn")]})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["file"] == "broken.bpmn"


def test_deploy_of_a_non_diagram_file_is_422(api):
    resp = upload(api, {"bpmn": [(b"hello", "notes.txt")]})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"][0]["file"] == "notes.txt"


def test_broken_deploy_stores_nothing(api):
    deploy(api, diagram(condition="reached ==="))
    keys = {
        d["process_key"] for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
    }
    assert "api_phone_call" not in keys


@pytest.mark.parametrize("who", ["sw", "supervisor", "nurse"])
def test_only_admins_deploy(api, who):
    assert deploy(api, who=who).status_code == 403


def test_deploy_without_bpmn_files_is_400(api):
    resp = upload(api, {"forms": [(FORM, "x.schema.json")]})
    assert resp.status_code == 400


def test_deploy_with_a_json_body_is_400(api):
    assert api.post("/api/v1/process-definitions", "admin", {"bpmn": "<x/>"}).status_code == 400


# ---------------------------------------------------------------- xml -------------
def test_xml_download_is_the_stored_diagram(api):
    created = deploy(api).get_json()["definitions"][0]
    resp = api.get(f"/api/v1/process-definitions/{created['id']}/xml")
    assert resp.status_code == 200
    assert resp.mimetype == "application/xml"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data == diagram()


def test_xml_of_unknown_definition_is_404(api):
    assert api.get("/api/v1/process-definitions/999999/xml").status_code == 404
