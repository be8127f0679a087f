"""processes/referral.bpmn run with bare SpiffWorkflow, in memory, round-tripped through the
engine's serializer at every wait state. The engine's part (Referral rows, consent, the
business-day deadline) is simulated by putting its task data and messages in by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.workflow import runtime

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "processes" / "referral.bpmn"
FORMS = ROOT / "forms"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)

# bpmn id -> (lane, form, priority, referralStep)
TASKS = {
    "send_referral": ("SocialWorker", "referral_send", "routine", "send"),
    "rerefer": ("SocialWorker", "referral_rerefer", "urgent", "rerefer"),
    "contact_check": ("SocialWorker", "referral_contact_check", "routine", None),
    "confirm_with_organisation": ("Case Manager", "referral_org_confirm", "routine", None),
    "outcome_check": ("Case Manager", "referral_outcome", "routine", "outcome"),
}
SEND = {
    "referral_made": True,
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "consent_to_share_recorded": True,
}
FORM_DATA = {
    "send_referral": SEND,
    "rerefer": {"decision": "refer_elsewhere", "reason": "No answer after two calls."},
    "contact_check": {"checked_on": "2026-03-16", "method": "phone", "result": "in_contact"},
    "confirm_with_organisation": {
        "checked_on": "2026-03-16",
        "result": "arranging",
        "no_direct_contact_confirmed": True,
    },
    "outcome_check": {
        "outcome": "completed",
        "reason_code": "got_help",
        "information_from": "client",
    },
}


@pytest.fixture(scope="module")
def specs() -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(DIAGRAM))
    return parser.get_spec("referral"), parser.get_subprocess_specs("referral")


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


class Referral:
    def __init__(self, specs: tuple[Any, Any], *, do_not_contact: bool = False) -> None:
        self.specs = specs
        self.wf = BpmnWorkflow(*specs)
        [start] = self.wf.get_tasks(state=TaskState.READY)
        start.data.update(
            case_id=41,
            client_id=7,
            do_not_contact=do_not_contact,
            referral_id=3,
            need="food",
            previous_organisation=None,
        )
        self._settle()

    def ready(self) -> dict[str, Task]:
        return {
            t.task_spec.bpmn_id: t for t in self.wf.get_tasks(state=TaskState.READY, manual=True)
        }

    def complete(self, bpmn_id: str, data: dict[str, Any] | None = None, **engine: Any) -> None:
        task = self.ready()[bpmn_id]
        data = FORM_DATA[bpmn_id] if data is None else data
        name = task.task_spec.extensions["properties"]["formJsonSchemaFilename"]
        validator = Draft202012Validator(json.loads((FORMS / name).read_text(encoding="utf-8")))
        assert list(validator.iter_errors(data)) == []
        task.task_spec.add_data_from_form(task, dict(data))
        task.data.update(engine)
        task.run()
        self._settle()

    def send(self) -> None:
        due = datetime.now(UTC) + timedelta(days=2)
        self.complete("send_referral", referral_answer_due=due.isoformat())

    def message(self, status: str, *, stop: bool = False) -> None:
        payload = {
            "referral_id": 3,
            "status": status,
            "reason_code": None,
            "do_not_contact": False,
            "stop": stop,
        }
        self.wf.send_event(BpmnEvent(MessageEventDefinition("referral_status"), payload))
        self._settle()

    def timers(self) -> set[str]:
        return {t.bpmn_id for t in runtime.waiting_timers(self.wf)}

    def fire(self, bpmn_id: str) -> None:
        for t in self.wf.get_tasks(state=TaskState.WAITING):
            if t.task_spec.bpmn_id == bpmn_id:
                t.internal_data["event_value"] = (
                    datetime.now(UTC) - timedelta(seconds=1)
                ).isoformat()
        self.wf.refresh_timers()
        self._settle()

    def _settle(self) -> None:
        self.wf.do_engine_steps()
        state = runtime.dumps(self.wf)
        self.wf = runtime.loads(state, *self.specs, None)
        # A terminate end leaves the cancelled status-updates subprocess in the live workflow's
        # subprocess map; the restored one drops it. Nothing runs on a finished instance.
        assert self.wf.is_completed() or runtime.dumps(self.wf) == state
        for task in self.ready().values():
            JINJA.from_string(task.task_spec.extensions["instructionsForEndUser"]).render(task.data)


# --- the diagram as data -------------------------------------------------------------------


def tree() -> etree._ElementTree:
    return etree.parse(str(DIAGRAM), etree.XMLParser(resolve_entities=False, no_network=True))


def test_every_element_is_drawn() -> None:
    doc = tree()
    nodes = doc.xpath(
        "//bpmn:process//*[bpmn:incoming or bpmn:outgoing] | //bpmn:lane", namespaces=NS
    )
    shapes = set(doc.xpath("//bpmndi:BPMNShape/@bpmnElement", namespaces=NS))
    edges = set(doc.xpath("//bpmndi:BPMNEdge/@bpmnElement", namespaces=NS))
    flows = {f.get("id") for f in doc.xpath("//bpmn:sequenceFlow", namespaces=NS)}
    assert {n.get("id") for n in nodes} - shapes == set()
    assert flows - edges == set()


def test_no_sequence_flow_closes_a_loop() -> None:
    doc = tree()
    for scope in doc.xpath("//bpmn:process | //bpmn:subProcess", namespaces=NS):
        edges: dict[str, list[str]] = {}
        for flow in scope.xpath("./bpmn:sequenceFlow", namespaces=NS):
            edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        for boundary in scope.xpath("./bpmn:boundaryEvent", namespaces=NS):
            edges.setdefault(boundary.get("attachedToRef"), []).append(boundary.get("id"))
        state: dict[str, str] = {}

        def visit(node: str, edges: dict = edges, state: dict = state) -> None:
            state[node] = "open"
            for target in edges.get(node, []):
                assert state.get(target) != "open", f"{node} -> {target} closes a loop"
                if target not in state:
                    visit(target)
            state[node] = "done"

        for node in list(edges):
            if node not in state:
                visit(node)


@pytest.mark.parametrize("bpmn_id", sorted(TASKS))
def test_task_declares_lane_form_and_priority(specs: tuple[Any, Any], bpmn_id: str) -> None:
    lane, form_name, priority, step = TASKS[bpmn_id]
    task_spec = specs[0].task_specs[bpmn_id]
    props = task_spec.extensions["properties"]
    assert task_spec.lane == lane
    assert props["formJsonSchemaFilename"] == f"{form_name}.schema.json"
    assert (FORMS / props["formUiSchemaFilename"]).is_file()
    assert props["priority"] == priority
    assert props.get("referralStep") == step
    Draft202012Validator.check_schema(form(form_name))


def test_only_the_client_contact_check_is_client_outreach(specs: tuple[Any, Any]) -> None:
    outreach = {
        bpmn_id
        for bpmn_id in TASKS
        if specs[0].task_specs[bpmn_id].extensions["properties"].get("clientOutreach") == "true"
    }
    assert outreach == {"contact_check"}


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        (
            "referral_send",
            {**SEND, "consent_to_share_recorded": False},
            "consent_to_share_recorded",
        ),
        ("referral_send", {"referral_made": False}, "no_referral_reason"),
        ("referral_rerefer", {"decision": "stop"}, "reason"),
        ("referral_outcome", {**FORM_DATA["outcome_check"], "outcome": "failed"}, "reason"),
        ("referral_status", {"status": "on-hold"}, "reason"),
    ],
)
def test_forms_refuse_what_the_state_machine_refuses(name: str, data: dict, field: str) -> None:
    errors = list(Draft202012Validator(form(name)).iter_errors(data))
    assert any(field in (e.message + str(list(e.absolute_path))) for e in errors), errors


# --- running it ----------------------------------------------------------------------------


def test_sending_waits_for_the_answer_with_the_deadline_timer(specs: tuple[Any, Any]) -> None:
    run = Referral(specs)
    assert set(run.ready()) == {"send_referral"}
    run.send()
    assert run.ready() == {}
    assert run.timers() == {"answer_overdue"}


def test_no_referral_needed_ends_the_instance(specs: tuple[Any, Any]) -> None:
    run = Referral(specs)
    run.complete("send_referral", {"referral_made": False, "no_referral_reason": "Declined."})
    assert run.wf.is_completed()


def test_no_answer_gives_the_re_refer_task_which_ends_the_instance(specs: tuple[Any, Any]) -> None:
    run = Referral(specs)
    run.send()
    run.fire("answer_overdue")
    assert set(run.ready()) == {"rerefer"}
    run.complete("rerefer")
    assert run.wf.is_completed()


@pytest.mark.parametrize(
    ("dnc", "check"), [(False, "contact_check"), (True, "confirm_with_organisation")]
)
def test_acceptance_leads_to_the_contact_check_of_the_case(
    specs: tuple[Any, Any], dnc: bool, check: str
) -> None:
    run = Referral(specs, do_not_contact=dnc)
    run.send()
    run.message("accepted")
    assert run.timers() == {"contact_wait", "outcome_wait"}
    run.fire("contact_wait")
    assert set(run.ready()) == {check}
    run.complete(check)
    run.fire("outcome_wait")
    run.complete("outcome_check")
    assert run.wf.is_completed()


def test_updates_keep_the_instance_listening_until_one_says_stop(specs: tuple[Any, Any]) -> None:
    run = Referral(specs)
    run.send()
    run.message("accepted")
    for status in ("in-progress", "on-hold", "in-progress", "completed"):
        run.message(status)
        assert not run.wf.is_completed()
    run.message("entered-in-error", stop=True)
    assert run.wf.is_completed()


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_a_decline_or_cancellation_ends_the_wait(specs: tuple[Any, Any], status: str) -> None:
    run = Referral(specs)
    run.send()
    run.message(status, stop=status == "cancelled")
    assert run.wf.is_completed()
