"""Comparing versions (GET .../diff), rolling a version out to running cases
(POST .../migrations) and rollback (POST .../make-current)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.audit.models import AuditEvent
from engine.instances import migration as rollout
from engine.instances.models import ProcessInstance
from tests.web.api.test_studio import PHONE_FORM, post_files

KEY = "rollout_call"
FORM_PROPS = """
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename"
                                  value="{form}" />
          {extra}
        </spiffworkflow:properties>
      </bpmn:extensionElements>"""


def pathway(
    *,
    call_id: str = "call",
    call_tag: str = "userTask",
    due_in: str | None = None,
    follow_up: bool = False,
    boundary_date: str | None = None,
    call_x: int = 100,
    without_call: bool = False,
    form: str = "api_phone_call.schema.json",
) -> bytes:
    """start -> call (a user task of the social worker) [-> follow_up] -> end, drawn."""
    extra = f'<spiffworkflow:property name="dueIn" value="{due_in}" />' if due_in else ""
    props = FORM_PROPS.format(extra=extra, form=form) if call_tag == "userTask" else ""
    after_call = "follow_up" if follow_up else "end"
    nodes = ["start", call_id, "end"] + (["follow_up"] if follow_up else [])
    boundary = ""
    if boundary_date:
        nodes.append("late")
        boundary = f"""
    <bpmn:boundaryEvent id="late" attachedToRef="{call_id}">
      <bpmn:timerEventDefinition><bpmn:timeDate>"{boundary_date}"</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="end" />"""
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    extra_nodes = ""
    if follow_up:
        extra_nodes = """
    <bpmn:manualTask id="follow_up" name="Follow up" />
    <bpmn:sequenceFlow id="f_follow" sourceRef="follow_up" targetRef="end" />"""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:process id="{KEY}" name="Rollout call" isExecutable="true">
    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="casePathway" value="true" />
      </spiffworkflow:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_sw" name="SocialWorker">{refs}</bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:{call_tag} id="{call_id}" name="Call the client">{props}
    </bpmn:{call_tag}>{boundary}{extra_nodes}
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="{call_id}" />
    <bpmn:sequenceFlow id="f_call" sourceRef="{call_id}" targetRef="{after_call}" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="{KEY}">
      <bpmndi:BPMNShape id="{call_id}_di" bpmnElement="{call_id}">
        <dc:Bounds x="{call_x}" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
    if without_call:  # start -> end: the call step is gone
        xml = re.sub(r"<bpmn:userTask.*?</bpmn:userTask>", "", xml, flags=re.S)
        xml = xml.replace("<bpmn:flowNodeRef>call</bpmn:flowNodeRef>", "")
        xml = xml.replace('targetRef="call"', 'targetRef="end"')
        xml = re.sub(r'<bpmn:sequenceFlow id="f_call"[^>]*/>', "", xml)
        xml = re.sub(r"<bpmndi:BPMNShape.*?</bpmndi:BPMNShape>", "", xml, flags=re.S)
    return xml.encode()


def timer_pathway(date: str) -> bytes:
    """start -> wait until `date` -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://carebridge.example/bpmn">
  <bpmn:process id="{KEY}" name="Rollout wait" isExecutable="true">
    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="casePathway" value="true" />
      </spiffworkflow:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDate>"{date}"</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def deploy(api, xml: bytes) -> int:  # type: ignore[no-untyped-def]
    forms = (PHONE_FORM, ("other.schema.json", PHONE_FORM[1]))
    resp = post_files(api, "/api/v1/process-definitions", [(f"{KEY}.bpmn", xml)], forms=forms)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["definitions"][0]["id"]  # type: ignore[no-any-return]


def start(api) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = {
        "client": {"given_name": "Rosa", "family_name": "Diaz", "birth_date": "1958-04-02"},
        "reason": "Lives alone.",
        "pathway": KEY,
    }
    resp = api.post("/api/v1/cases", "sw", body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def migrate(api, target: int, source: int, dry_run: bool, who: str = "admin", **kw):  # type: ignore[no-untyped-def]
    return api.post(
        f"/api/v1/process-definitions/{target}/migrations",
        who,
        {"from": source, "dry_run": dry_run, **kw},
    )


def version_of(session, instance_id: int) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(ProcessInstance, instance_id).definition_id  # type: ignore[no-any-return]


# ---------------------------------------------------------------- diff --------------
def diff(api, new: int, old: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = api.get(f"/api/v1/process-definitions/{new}/diff?against={old}", "sw")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def test_diff_lists_added_elements(api):
    old, new = deploy(api, pathway()), deploy(api, pathway(follow_up=True))
    assert diff(api, new, old)["added"] == ["f_follow", "follow_up"]


def test_diff_lists_removed_elements(api):
    old, new = deploy(api, pathway(follow_up=True)), deploy(api, pathway())
    assert diff(api, new, old)["removed"] == ["f_follow", "follow_up"]


def test_diff_names_the_changed_extension_property(api):
    old, new = deploy(api, pathway()), deploy(api, pathway(due_in="P2D"))
    assert diff(api, new, old)["changed"] == [
        {"element_id": "call", "fields": ["properties.dueIn"]}
    ]


def test_diff_names_a_changed_flow_target(api):
    old, new = deploy(api, pathway()), deploy(api, pathway(follow_up=True))
    assert {"element_id": "f_call", "fields": ["targetRef"]} in diff(api, new, old)["changed"]


def test_diff_tells_a_moved_shape_from_a_change(api):
    old, new = deploy(api, pathway()), deploy(api, pathway(call_x=400))
    body = diff(api, new, old)
    assert body == {"added": [], "removed": [], "changed": [], "layout_only": ["call"]}


def test_diff_without_against_is_422(api):
    old = deploy(api, pathway())
    assert api.get(f"/api/v1/process-definitions/{old}/diff", "sw").status_code == 422


# ---------------------------------------------------------------- migrations --------
def test_dry_run_reports_a_movable_instance_and_moves_nothing(api, session):
    old = deploy(api, pathway())
    case = start(api)
    new = deploy(api, pathway(follow_up=True))
    resp = migrate(api, new, old, dry_run=True)
    assert resp.status_code == 200
    assert resp.get_json()["results"] == [
        {
            "instance_id": case["instance_id"],
            "case_id": case["id"],
            "movable": True,
            "reason": None,
            "moved": False,
        }
    ]
    assert version_of(session, case["instance_id"]) == old


def test_a_real_run_moves_the_instance_and_its_next_task_comes_from_the_new_version(api, session):
    old = deploy(api, pathway())
    case = start(api)
    new = deploy(api, pathway(follow_up=True))
    [result] = migrate(api, new, old, dry_run=False).get_json()["results"]
    assert result["moved"] is True
    assert version_of(session, case["instance_id"]) == new
    call = api.open_task(case["id"], "call")
    assert api.complete(call["id"], {"reached": True}).status_code == 200
    assert api.open_task(case["id"], "follow_up")["status"] == "open"


def test_a_move_is_audited(api, session):
    old = deploy(api, pathway())
    case = start(api)
    new = deploy(api, pathway(follow_up=True))
    migrate(api, new, old, dry_run=False)
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "instance:migrated",
            AuditEvent.instance_id == case["instance_id"],
        )
    ).one()
    assert event.details["to_definition_id"] == new


def test_the_moved_instance_keeps_its_open_task(api, session):
    old = deploy(api, pathway())
    case = start(api)
    before = api.open_task(case["id"], "call")
    migrate(api, deploy(api, pathway(follow_up=True)), old, dry_run=False)
    assert api.open_task(case["id"], "call")["id"] == before["id"]


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"without_call": True}, "the task 'call' it is waiting on was removed"),
        ({"call_tag": "manualTask"}, "the task 'call' it is waiting on changed type"),
        (
            {"boundary_date": "2026-04-01T00:00:00+00:00"},
            "the task 'call' it is waiting on has new boundary events",
        ),
        ({"form": "other.schema.json"}, "the form of the task 'call' it is waiting on changed"),
    ],
)
def test_a_blocked_instance_is_reported_and_left_untouched(api, session, changed, reason):
    old = deploy(api, pathway())
    case = start(api)
    new = deploy(api, pathway(**changed))
    [result] = migrate(api, new, old, dry_run=False).get_json()["results"]
    assert result["movable"] is False
    assert reason in result["reason"]
    assert version_of(session, case["instance_id"]) == old
    call = api.open_task(case["id"], "call")
    assert api.complete(call["id"], {"reached": True}).status_code == 200


def test_a_timer_that_would_fire_at_once_blocks_the_move(api, session):
    old = deploy(api, timer_pathway("2026-06-01T00:00:00+00:00"))
    start(api)
    new = deploy(api, timer_pathway("2026-01-01T00:00:00+00:00"))
    [result] = migrate(api, new, old, dry_run=True).get_json()["results"]
    assert result["movable"] is False
    assert "the timer 'wait' would fire at once" in result["reason"]


def test_a_gateway_needing_data_the_case_lacks_blocks_the_move(api, session):
    old = deploy(api, timer_pathway("2026-06-01T00:00:00+00:00"))
    start(api)
    gated = timer_pathway("2026-06-01T00:00:00+00:00").decode()
    gated = gated.replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />',
        '<bpmn:exclusiveGateway id="risky" default="f_low" />'
        '<bpmn:endEvent id="end_high" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="risky" />'
        '<bpmn:sequenceFlow id="f_high" sourceRef="risky" targetRef="end_high">'
        '<bpmn:conditionExpression>risk_level == "high"</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_low" sourceRef="risky" targetRef="end" />',
    )
    new = deploy(api, gated.encode())
    [result] = migrate(api, new, old, dry_run=True).get_json()["results"]
    assert result["movable"] is False
    assert "the gateway 'risky' needs risk_level" in result["reason"]


def test_a_crash_midway_leaves_every_instance_on_exactly_one_version(api, session, monkeypatch):
    old = deploy(api, pathway())
    first, second = start(api), start(api)
    new = deploy(api, pathway(follow_up=True))
    monkeypatch.setattr("web.api.studio.MIGRATION_BATCH", 1)
    real_save, saves = rollout._save, []

    def failing_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        saves.append(1)
        if len(saves) == 2:
            raise RuntimeError("injected: the server died mid-migration")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(rollout, "_save", failing_save)
    with pytest.raises(RuntimeError, match="injected"):
        migrate(api, new, old, dry_run=False)
    assert version_of(session, first["instance_id"]) == new
    assert version_of(session, second["instance_id"]) == old
    monkeypatch.setattr(rollout, "_save", real_save)
    call = api.open_task(second["id"], "call")
    assert api.complete(call["id"], {"reached": True}).status_code == 200
    assert version_of(session, second["instance_id"]) == old


def test_only_the_named_instances_are_moved(api, session):
    old = deploy(api, pathway())
    first, second = start(api), start(api)
    new = deploy(api, pathway(follow_up=True))
    migrate(api, new, old, dry_run=False, instances=[second["instance_id"]])
    assert version_of(session, first["instance_id"]) == old
    assert version_of(session, second["instance_id"]) == new


def test_migrating_between_two_processes_is_422(api):
    old = deploy(api, pathway())
    other = post_files(
        api, "/api/v1/process-definitions", [("latin.bpmn", _latin())], forms=(PHONE_FORM,)
    ).get_json()["definitions"][0]["id"]
    assert migrate(api, other, old, dry_run=True).status_code == 422


def _latin() -> bytes:
    from tests.web.api.test_studio import FIXTURES

    return (FIXTURES / "latin1_call.bpmn").read_bytes()


def test_migrations_are_for_designers_only(api):
    old = deploy(api, pathway())
    new = deploy(api, pathway(follow_up=True))
    assert migrate(api, new, old, dry_run=True, who="sw").status_code == 403


# ---------------------------------------------------------------- make-current -------
def test_make_current_makes_new_cases_start_on_the_earlier_version(api, session):
    old = deploy(api, pathway())
    deploy(api, pathway(follow_up=True))
    resp = api.post(f"/api/v1/process-definitions/{old}/make-current", "admin", {})
    assert resp.status_code == 200
    assert version_of(session, start(api)["instance_id"]) == old


def test_make_current_deletes_no_version(api):
    old = deploy(api, pathway())
    new = deploy(api, pathway(follow_up=True))
    api.post(f"/api/v1/process-definitions/{old}/make-current", "admin", {})
    rows = {
        d["id"]: d["current"]
        for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
        if d["process_key"] == KEY
    }
    assert rows == {old: True, new: False}


def test_a_new_deploy_after_a_rollback_is_current(api, session):
    old = deploy(api, pathway())
    deploy(api, pathway(follow_up=True))
    api.post(f"/api/v1/process-definitions/{old}/make-current", "admin", {})
    newest = deploy(api, pathway(due_in="P1D"))
    assert version_of(session, start(api)["instance_id"]) == newest


def test_make_current_is_for_designers_only(api):
    old = deploy(api, pathway())
    resp = api.post(f"/api/v1/process-definitions/{old}/make-current", "sw", {})
    assert resp.status_code == 403
