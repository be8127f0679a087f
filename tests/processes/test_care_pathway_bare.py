"""The shipped care pathway run with bare SpiffWorkflow, in memory.

No database and no CareBridge engine: the diagrams are parsed the way the engine parses them
(SpiffBpmnParser with the spiff XSD validator), driven task by task with form data that
validates against each task's JSON Schema, and round-tripped through the serializer at every
wait state so the instance that moves on is always a restored one. The engine's scoring is
simulated by putting `screening` into task data when the assessment is completed.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import UserTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
# Drawn and loop-checked here; the parser gets every shipped diagram (the pathway calls some).
DIAGRAMS = (
    "care_pathway.bpmn",
    "care_plan_cycle.bpmn",
    "crisis_intervention.bpmn",
    "discharge_followup.bpmn",
    "screening_response.bpmn",
)
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
LANES = ("SocialWorker", "Supervisor")
PRIORITIES = {"routine", "urgent", "asap", "stat"}
# resource_search: the directory search over a service id (web/static/js/resource_search.js).
WIDGETS = {"textarea", "radio", "select", "checkboxes", "resource_search"}
LOOP_MAXIMUM = 12

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# Markdown, not HTML; autoescape only keeps the linter's Jinja2 rule quiet and changes nothing
# in these templates. StrictUndefined makes a template that names missing data fail the test.
JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class Expected:
    lane: str
    variable: str
    priority: str
    schema: str
    due_in: str | None = None
    due_in_business_days: str | None = None
    assign_to: str | None = None


EXPECTED = {
    "intake": Expected("SocialWorker", "intake", "urgent", "intake", due_in="PT24H"),
    "assessment": Expected("SocialWorker", "assessment", "urgent", "assessment", due_in="P1D"),
    "phone_assessment": Expected(
        "SocialWorker", "assessment", "urgent", "assessment", due_in_business_days="1"
    ),
    "declined_fyi": Expected("Supervisor", "declined_fyi", "routine", "fyi", due_in="P1D"),
    "review_overdue_assessment": Expected(
        "Supervisor", "overdue_review", "urgent", "supervisor_review", due_in="PT8H"
    ),
    # screening_response.bpmn, called from the pathway after the assessment
    "cssrs_screen": Expected(
        "SocialWorker", "cssrs_screen", "stat", "cssrs_screen", "PT15M", assign_to="on_call"
    ),
    "bh_consult": Expected(
        "Physician", "bh_consult", "asap", "bh_consult", "PT4H", assign_to="on_call"
    ),
    "moderate_safety_plan": Expected("SocialWorker", "safety_plan", "asap", "safety_plan", "PT8H"),
    "shift_review": Expected(
        "Supervisor", "risk_review", "asap", "risk_review", "PT8H", assign_to="on_call"
    ),
    "ordered_precautions": Expected("Nurse", "safety", "stat", "safety_precautions", "PT15M"),
    "ordered_precautions_escalation": Expected(
        "Supervisor",
        "ordered_precautions_escalation_review",
        "stat",
        "crisis_escalation",
        "PT15M",
        assign_to="on_call",
    ),
    "low_risk_followup": Expected(
        "SocialWorker", "low_risk", "routine", "low_risk_followup", "P1D"
    ),
    "low_safety_plan": Expected("SocialWorker", "safety_plan", "routine", "safety_plan", "PT8H"),
    # crisis_intervention.bpmn, called from the screening response
    "crisis_response": Expected(
        "SocialWorker", "crisis", "stat", "crisis_intervention", "PT15M", assign_to="on_call"
    ),
    "physician_review": Expected(
        "Physician",
        "physician_review",
        "stat",
        "physician_crisis_review",
        "PT15M",
        assign_to="on_call",
    ),
    "response_escalation": Expected(
        "Supervisor",
        "response_escalation_review",
        "stat",
        "crisis_escalation",
        "PT15M",
        assign_to="on_call",
    ),
    "precautions_escalation": Expected(
        "Supervisor",
        "precautions_escalation_review",
        "stat",
        "crisis_escalation",
        "PT15M",
        assign_to="on_call",
    ),
    "crisis_safety_plan": Expected("SocialWorker", "safety_plan", "urgent", "safety_plan", "PT8H"),
    "safety_precautions": Expected("Nurse", "safety", "stat", "safety_precautions", due_in="PT15M"),
    "care_plan": Expected("SocialWorker", "care_plan", "routine", "care_plan", due_in="P3D"),
    "followup_review": Expected(
        "SocialWorker", "followup", "routine", "followup", due_in_business_days="2"
    ),
    "followup_review_safe": Expected(
        "SocialWorker", "followup", "routine", "followup_safe", due_in_business_days="2"
    ),
    "close_case": Expected("SocialWorker", "closing", "routine", "closing", due_in="P7D"),
}
# The human tasks of each process this module checks.
TASKS_OF = {
    "care_pathway": {
        "intake",
        "assessment",
        "phone_assessment",
        "declined_fyi",
        "review_overdue_assessment",
        "close_case",
    },
    "screening_response": {
        "cssrs_screen",
        "bh_consult",
        "moderate_safety_plan",
        "shift_review",
        "ordered_precautions",
        "ordered_precautions_escalation",
        "low_risk_followup",
        "low_safety_plan",
    },
    "crisis_intervention": {
        "physician_review",
        "crisis_response",
        "response_escalation",
        "crisis_safety_plan",
        "safety_precautions",
        "precautions_escalation",
    },
}
CRISIS_TASKS = {"crisis_response", "safety_precautions", "physician_review"}
MODERATE_TASKS = {"bh_consult", "moderate_safety_plan", "shift_review"}

# Form data a social worker could really submit; each validates against its schema.
INTAKE = {
    "referral_date": "2025-03-03",
    "referral_source": "physician",
    "referring_person": "Dr Okafor, hospitalist",
    "reason_for_referral": "Lives alone, recurrent falls, worried about managing at home.",
    "living_situation": "alone",
    "primary_language": "Spanish",
    "interpreter_needed": True,
    "consent_to_social_work": "client",
    "emergency_contact_name": "Rosa Lima",
    "emergency_contact_relationship": "daughter",
    "emergency_contact_phone": "+1 (555) 010-0199",
}
ASSESSMENT = {
    "assessment_date": "2025-03-04",
    "setting": "bedside",
    "informants": "Client, daughter by phone",
    "family_and_support": "Daughter lives 40 minutes away and visits weekly.",
    "finances": "Social security only; struggles to pay for medication at month end.",
    "housing": "Rents a second-floor flat, no lift; landlord slow with repairs.",
    "coping": "Low mood since her husband died last year.",
    "strengths": "Church community, motivated to stay at home.",
    "goals": "To go home and not fall again.",
    "phq2": {"q1": 1, "q2": 1},
    "cssrs": {"q1": False, "q2": False, "q6": False},
    "ahc_hrsn": {
        "q1": "steady",
        "q2": [],
        "q3": "sometimes",
        "q4": "sometimes",
        "q5": True,
        "q6": "no",
        "q7": 1,
        "q8": 1,
        "q9": 1,
        "q10": 1,
    },
}
CRISIS = {
    "risk_summary": "Reports a plan to overdose on stored medication; no attempt yet.",
    "client_safe": True,
    "actions_taken": ["stayed_with_client", "behavioral_health_consult"],
    "lifeline_988_given": True,
    "safety_plan_started": True,
    "physician_notified": True,
    "physician_name": "Dr Okafor",
}
SAFETY = {
    "one_to_one_observation": True,
    "observer_name": "J. Park, CNA",
    "environment_sweep": True,
    "belongings_searched": True,
    "physician_notified": True,
    "precautions_started_at": "2025-03-04T10:20:00-05:00",
}
SAFETY_PLAN = {
    "plan_status": "completed",
    "warning_signs": "Not sleeping, pulling away from my daughter.",
    "internal_coping": "Walk the dog; listen to gospel radio.",
    "distraction_people_places": "Church coffee morning; neighbour Mrs Adu.",
    "people_to_ask_for_help": "Rosa (daughter) 555-0199.",
    "professionals_and_agencies": "Dr Okafor's clinic; 988 Suicide & Crisis Lifeline.",
    "lifeline_988_listed": True,
    "making_environment_safe": "Daughter keeps the spare medication; pharmacy blister packs.",
    "reasons_for_living": "My grandchildren; my garden.",
    "copy_given": True,
}
SUPERVISOR_REVIEW = {"note": "Worker off sick; assessment moved to Sam.", "action": "reassign"}
REFERRAL = {
    "referral_made": True,
    "need": "food",
    "organisation_name": "Eastside Food Bank",
    "service": "Home-delivered groceries",
    "contact_made": True,
    "consent_to_share_recorded": True,
    "client_contact_prohibited": False,
}
CLOSING = {
    "closed_on": "2025-04-02",
    "summary": "Home with meals delivered weekly; daughter visiting twice a week.",
    "outcome": "needs_met",
    "goals_met": "all",
    "client_informed": True,
}


def care_plan(interval: str = "P14D", needs: tuple[str, ...] = ("food",)) -> dict[str, Any]:
    return {
        "goal_1": "Client has food at home every day of the month.",
        "goal_1_target_date": "2025-04-01",
        "needs": list(needs),
        "client_agrees": True,
        "followup_interval": interval,
    }


def followup(decision: str) -> dict[str, Any]:
    return {
        "contact_date": "2025-03-18",
        "contact_outcome": "reached_client",
        "referral_outcome": "got_help" if decision == "close" else "in_progress",
        "goals_progress": "met" if decision == "close" else "progressing",
        "decision": decision,
        "reason": "Deliveries started." if decision == "close" else "Waiting list; try another.",
    }


def screening(risk_level: str = "none", *, ideation: bool = False) -> dict[str, Any]:
    """What the engine puts in task data after scoring the assessment's instruments (which
    always include the C-SSRS)."""
    return {
        "risk_level": risk_level,
        "suicide_ideation": ideation,
        "suicide_item_declined": False,
        "cssrs_done": True,
        "cssrs_incomplete": False,
        "reasons": [],
        "needs": ["food", "transportation"],
        "bands": {"phq2": "negative"},
    }


@functools.cache
def load_json(filename: str) -> dict[str, Any]:
    return json.loads((FORMS / filename).read_text(encoding="utf-8"))


@functools.cache
def form_validator(schema_filename: str) -> Draft202012Validator:
    schema = load_json(schema_filename)
    # Instrument placeholders are expanded by the engine; here they accept anything.
    properties = {
        name: True if "x-instrument" in prop else prop
        for name, prop in schema["properties"].items()
    }
    return Draft202012Validator(
        {**schema, "properties": properties},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def form_errors(schema_filename: str, data: dict[str, Any]) -> list[str]:
    return [e.message for e in form_validator(schema_filename).iter_errors(data)]


def render_instructions(task: Task) -> str:
    return JINJA.from_string(task.task_spec.extensions["instructionsForEndUser"]).render(task.data)


def round_trip(wf: BpmnWorkflow) -> BpmnWorkflow:
    dumped = SERIALIZER.serialize_json(wf)
    restored = SERIALIZER.deserialize_json(dumped)
    assert SERIALIZER.serialize_json(restored) == dumped
    return restored


def check_ready_task(task: Task) -> None:
    spec = task.task_spec
    expected = EXPECTED[spec.bpmn_id]
    props = spec.extensions["properties"]
    assert spec.lane == expected.lane
    assert props["priority"] == expected.priority
    assert props["formJsonSchemaFilename"] == f"{expected.schema}.schema.json"
    assert spec.extensions["variableName"] == expected.variable
    assert props.get("assignTo") == expected.assign_to
    assert render_instructions(task).strip()


class Pathway:
    """One in-memory instance, serialized and restored at every wait state."""

    def __init__(self, specs: tuple[Any, Any], *, do_not_contact: bool = False) -> None:
        spec, subprocess_specs = specs
        self.wf = BpmnWorkflow(spec, subprocess_specs)
        [start] = self.wf.get_tasks(state=TaskState.READY)
        start.data.update(case_id=41, client_id=7, do_not_contact=do_not_contact)
        self.completed: list[str] = []
        self._settle()

    def ready(self) -> dict[str, Task]:
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True)
        by_id = {t.task_spec.bpmn_id: t for t in tasks}
        assert len(by_id) == len(tasks)
        return by_id

    def ready_ids(self) -> set[str]:
        return set(self.ready())

    def complete(self, bpmn_id: str, form: dict[str, Any], **engine_data: Any) -> None:
        task = self.ready()[bpmn_id]
        schema_filename = task.task_spec.extensions["properties"]["formJsonSchemaFilename"]
        assert form_errors(schema_filename, form) == []
        task.task_spec.add_data_from_form(task, copy.deepcopy(form))
        task.data.update(engine_data)
        task.run()
        self.completed.append(bpmn_id)
        self._settle()

    def timer(self, bpmn_id: str) -> Task:
        [task] = [
            t for t in self.wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id
        ]
        return task

    def timer_due(self, bpmn_id: str) -> datetime:
        return TimerEventDefinition.get_datetime(self.timer(bpmn_id).internal_data["event_value"])

    def fire_timer(self, bpmn_id: str) -> None:
        # SpiffWorkflow compares due times with the wall clock, so move the due time instead.
        past = datetime.now(UTC) - timedelta(seconds=1)
        self.timer(bpmn_id).internal_data["event_value"] = past.isoformat()
        self.wf.refresh_timers()
        self._settle()

    def run_round(self, decision: str, *, needs: tuple[str, ...] = ("food",)) -> None:
        self.complete("care_plan", care_plan(needs=needs))
        self.fire_timer("followup_wait")
        self.complete("followup_review", followup(decision))

    def _settle(self) -> None:
        self.wf.do_engine_steps()
        self.wf = round_trip(self.wf)
        for task in self.ready().values():
            check_ready_task(task)


def at_care_plan(specs: tuple[Any, Any], **kwargs: Any) -> Pathway:
    run = Pathway(specs, **kwargs)
    run.complete("intake", INTAKE)
    run.complete("assessment", ASSESSMENT, screening=screening("none"))
    return run


def at_crisis(specs: tuple[Any, Any]) -> Pathway:
    run = Pathway(specs)
    run.complete("intake", INTAKE)
    run.complete("assessment", ASSESSMENT, screening=screening("high"))
    return run


@pytest.fixture(scope="module")
def specs() -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_dmn_files([str(p) for p in sorted(PROCESSES.glob("*.dmn"))])
    parser.add_bpmn_files([str(p) for p in sorted(PROCESSES.glob("*.bpmn"))])
    return parser.get_spec("care_pathway"), parser.get_subprocess_specs("care_pathway")


def user_task_specs(specs: tuple[Any, Any], processes: set[str] | None = None) -> dict[str, Any]:
    spec, subprocess_specs = specs
    found = {}
    for process in (spec, *subprocess_specs.values()):
        if processes is not None and process.name not in processes:
            continue
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, UserTask):
                found[task_spec.bpmn_id] = task_spec
    return found


def parse_xml(name: str) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.parse(str(PROCESSES / name), parser)


# --- the diagrams as data ------------------------------------------------------------------


def test_pathway_is_named_and_has_the_three_lanes() -> None:
    tree = parse_xml("care_pathway.bpmn")
    [process] = tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)
    lanes = process.xpath("./bpmn:laneSet/bpmn:lane/@name", namespaces=NS)
    assert (process.get("id"), process.get("name")) == ("care_pathway", "Care pathway")
    assert tuple(lanes) == LANES


@pytest.mark.parametrize("process", sorted(TASKS_OF))
def test_user_tasks_are_exactly_the_expected_ones(specs: tuple[Any, Any], process: str) -> None:
    assert set(user_task_specs(specs, {process})) == TASKS_OF[process]


@pytest.mark.parametrize("bpmn_id", sorted(EXPECTED))
def test_user_task_declares_lane_form_deadline_and_instructions(
    specs: tuple[Any, Any], bpmn_id: str
) -> None:
    task_spec = user_task_specs(specs)[bpmn_id]
    expected = EXPECTED[bpmn_id]
    props = task_spec.extensions["properties"]
    assert task_spec.lane == expected.lane
    assert task_spec.extensions["variableName"] == expected.variable
    assert props["formJsonSchemaFilename"] == f"{expected.schema}.schema.json"
    assert props["formUiSchemaFilename"] == f"{expected.schema}.uischema.json"
    assert (FORMS / props["formJsonSchemaFilename"]).is_file()
    assert (FORMS / props["formUiSchemaFilename"]).is_file()
    assert props["priority"] == expected.priority
    assert props.get("dueIn") == expected.due_in
    assert props.get("dueInBusinessDays") == expected.due_in_business_days
    assert props.get("assignTo") == expected.assign_to
    if expected.due_in is not None:
        TimerEventDefinition.parse_iso_duration(expected.due_in)
    JINJA.parse(task_spec.extensions["instructionsForEndUser"])


@pytest.mark.parametrize("name", DIAGRAMS)
def test_no_sequence_flow_loops_back(name: str) -> None:
    # Repetition must come from loop characteristics: a backward flow hits the loop cliff.
    tree = parse_xml(name)
    for container in tree.xpath("//bpmn:process | //bpmn:subProcess", namespaces=NS):
        edges: dict[str, list[str]] = {}
        for flow in container.xpath("./bpmn:sequenceFlow", namespaces=NS):
            edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        state: dict[str, str] = {}

        def visit(node: str, edges: dict[str, list[str]] = edges, state: dict = state) -> None:
            state[node] = "open"
            for target in edges.get(node, []):
                assert state.get(target) != "open", f"{node} -> {target} closes a cycle"
                if target not in state:
                    visit(target)
            state[node] = "done"

        for node in list(edges):
            if node not in state:
                visit(node)


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_element_is_drawn(name: str) -> None:
    tree = parse_xml(name)
    nodes = tree.xpath(
        "//bpmn:participant | //bpmn:lane | //bpmn:process//*[bpmn:incoming or bpmn:outgoing]",
        namespaces=NS,
    )
    flows = tree.xpath("//bpmn:sequenceFlow", namespaces=NS)
    shapes = set(tree.xpath("//bpmndi:BPMNShape/@bpmnElement", namespaces=NS))
    edges = set(tree.xpath("//bpmndi:BPMNEdge/@bpmnElement", namespaces=NS))
    assert {n.get("id") for n in nodes} - shapes == set()
    assert {f.get("id") for f in flows} - edges == set()


# --- forms ---------------------------------------------------------------------------------

SCHEMAS = sorted(p.name for p in FORMS.glob("*.schema.json"))


def test_every_user_task_form_is_shipped() -> None:
    # Not "nothing else": forms/ also holds forms the API uses outside any user task.
    used = set()
    for diagram in PROCESSES.glob("*.bpmn"):
        used |= set(
            parse_xml(diagram.name).xpath(
                "//*[local-name()='property'][@name='formJsonSchemaFilename']/@value"
            )
        )
    assert {f"{e.schema}.schema.json" for e in EXPECTED.values()} <= used
    assert used <= set(SCHEMAS)


@pytest.mark.parametrize("filename", SCHEMAS)
def test_form_schema_is_a_documented_draft_2020_12_object(filename: str) -> None:
    schema = load_json(filename)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["title"]
    assert set(schema["required"]) <= set(schema["properties"])
    for name, prop in schema["properties"].items():
        if "x-instrument" in prop:
            assert prop == {"x-instrument": name}
            continue
        assert prop["title"], name
        assert prop["description"], name
        choices = prop.get("oneOf") or prop.get("items", {}).get("oneOf") or []
        assert all(set(c) == {"const", "title"} for c in choices), name
        if prop["type"] == "string" and not choices and "format" not in prop:
            assert prop["maxLength"] <= 4000, name


@pytest.mark.parametrize("filename", SCHEMAS)
def test_uischema_orders_every_field(filename: str) -> None:
    schema = load_json(filename)
    ui = load_json(filename.replace(".schema.", ".uischema."))
    assert sorted(ui["ui:order"]) == sorted(schema["properties"])
    for field, hints in ui.items():
        if field == "ui:order":
            continue
        assert field in schema["properties"]
        assert hints.get("ui:widget", "textarea") in WIDGETS


def test_assessment_requires_the_screens_but_not_the_full_phq9() -> None:
    required = set(load_json("assessment.schema.json")["required"])
    assert {"cssrs", "phq2", "ahc_hrsn"} <= required
    assert "phq9" not in required


@pytest.mark.parametrize(
    ("filename", "data", "complaint"),
    [
        ("referral.schema.json", {**REFERRAL, "consent_to_share_recorded": False}, "True was"),
        ("referral.schema.json", {"referral_made": False}, "'no_referral_reason'"),
        ("care_plan.schema.json", care_plan(interval="P10D"), "'P10D'"),
        ("care_plan.schema.json", care_plan(needs=("food", "food")), "non-unique"),
        ("followup.schema.json", followup("pause"), "'pause'"),
        ("intake.schema.json", {**INTAKE, "emergency_contact_phone": "call me"}, "'call me'"),
        ("intake.schema.json", {**INTAKE, "referral_date": "03/03/2025"}, "'date'"),
        ("closing.schema.json", {**CLOSING, "summary": "x" * 4001}, "too long"),
        ("supervisor_review.schema.json", {"note": "ok"}, "'action'"),
    ],
)
def test_form_rejects_invalid_answers(filename: str, data: dict, complaint: str) -> None:
    errors = form_errors(filename, data)
    assert any(complaint in e for e in errors), errors


def test_referral_without_a_referral_needs_only_a_reason() -> None:
    data = {"referral_made": False, "no_referral_reason": "Client declined; daughter helps."}
    assert form_errors("referral.schema.json", data) == []


# --- running the pathway -------------------------------------------------------------------


def test_happy_path_runs_from_intake_to_closed_case(specs: tuple[Any, Any]) -> None:
    run = Pathway(specs)
    assert run.ready_ids() == {"intake"}
    run.complete("intake", INTAKE)
    assert run.ready_ids() == {"assessment"}
    run.complete("assessment", ASSESSMENT, screening=screening("none"))
    assert run.ready_ids() == {"care_plan"}
    # Referrals run as their own instances, started by the engine from the care plan.
    run.complete("care_plan", care_plan())
    assert run.ready_ids() == set()
    run.fire_timer("followup_wait")
    assert run.ready_ids() == {"followup_review"}
    run.complete("followup_review", followup("close"))
    assert run.ready_ids() == {"close_case"}
    run.complete("close_case", CLOSING)
    assert run.wf.is_completed()


def test_seed_data_reaches_every_task(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs, do_not_contact=True)
    data = run.ready()["care_plan"].data
    assert (data["case_id"], data["client_id"], data["do_not_contact"]) == (41, 7, True)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (screening("high"), CRISIS_TASKS),
        (screening("high", ideation=True), CRISIS_TASKS),
        (screening("moderate", ideation=True), MODERATE_TASKS),
        (screening("moderate"), MODERATE_TASKS),
        (screening("low"), {"low_risk_followup"}),
        (screening("none", ideation=True), {"low_risk_followup"}),  # item 9, C-SSRS negative
        (screening("none"), {"care_plan"}),
    ],
)
def test_risk_routing_sends_the_pathway_on(
    specs: tuple[Any, Any], result: dict, expected: set[str]
) -> None:
    run = Pathway(specs)
    run.complete("intake", INTAKE)
    run.complete("assessment", ASSESSMENT, screening=result)
    assert run.ready_ids() == expected


def test_crisis_opens_the_on_call_response_and_precautions_at_stat(specs: tuple[Any, Any]) -> None:
    ready = at_crisis(specs).ready()
    seen = {
        (bpmn_id, t.task_spec.lane, t.task_spec.extensions["properties"]["priority"])
        for bpmn_id, t in ready.items()
    }
    assert seen == {
        ("crisis_response", "SocialWorker", "stat"),
        ("safety_precautions", "Nurse", "stat"),
        ("physician_review", "Physician", "stat"),
    }
    props = ready["crisis_response"].task_spec.extensions["properties"]
    assert (props["dueIn"], props["assignTo"]) == ("PT15M", "on_call")


def finish_crisis(run: Pathway, order: tuple[str, ...]) -> None:
    forms = {
        "crisis_response": CRISIS,
        "crisis_safety_plan": SAFETY_PLAN,
        "safety_precautions": SAFETY,
        "physician_review": {"evaluation": "seen_by_physician", "precautions_continue": True},
    }
    for bpmn_id in order:
        assert "care_plan" not in run.ready_ids()
        run.complete(bpmn_id, forms[bpmn_id])


@pytest.mark.parametrize(
    "order",
    [
        ("crisis_response", "crisis_safety_plan", "safety_precautions", "physician_review"),
        ("physician_review", "safety_precautions", "crisis_response", "crisis_safety_plan"),
    ],
)
def test_care_planning_waits_for_the_safety_plan_and_precautions(
    specs: tuple[Any, Any], order: tuple[str, ...]
) -> None:
    run = at_crisis(specs)
    finish_crisis(run, order)
    assert run.ready_ids() == {"care_plan"}


def test_crisis_notes_stay_in_the_crisis_process(specs: tuple[Any, Any]) -> None:
    run = at_crisis(specs)
    finish_crisis(
        run, ("crisis_response", "crisis_safety_plan", "safety_precautions", "physician_review")
    )
    data = run.ready()["care_plan"].data
    assert data["routing"]["route"] == "crisis"
    assert {"crisis", "safety", "safety_plan", "physician_review"} & set(data) == set()


def test_crisis_instructions_show_the_risk_level_and_988(specs: tuple[Any, Any]) -> None:
    text = render_instructions(at_crisis(specs).ready()["crisis_response"])
    assert "**high**" in text
    assert "988" in text


def test_moderate_risk_gets_consult_plan_and_review_then_care_planning(
    specs: tuple[Any, Any],
) -> None:
    run = Pathway(specs)
    run.complete("intake", INTAKE)
    run.complete("assessment", ASSESSMENT, screening=screening("moderate"))
    assert run.ready_ids() == MODERATE_TASKS
    assert "988" in render_instructions(run.ready()["moderate_safety_plan"])
    run.complete("bh_consult", {"outcome": "seen_by_physician", "observation_ordered": False})
    run.complete("moderate_safety_plan", SAFETY_PLAN)
    run.complete("shift_review", {"decision": "plan_agreed"})
    assert run.ready_ids() == {"care_plan"}


@pytest.mark.parametrize(("interval", "days"), [("P7D", 7), ("P14D", 14), ("P30D", 30)])
def test_followup_timer_waits_for_the_interval_the_care_plan_chose(
    specs: tuple[Any, Any], interval: str, days: int
) -> None:
    run = at_care_plan(specs)
    before = datetime.now(UTC)
    run.complete("care_plan", care_plan(interval=interval))
    after = datetime.now(UTC)
    [event] = run.wf.waiting_events()
    due = TimerEventDefinition.get_datetime(event.value)
    assert event.event_type == "DurationTimerEventDefinition"
    assert before + timedelta(days=days) <= due <= after + timedelta(days=days)


def test_followup_review_waits_until_the_timer_is_due(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    run.complete("care_plan", care_plan())
    run.wf.refresh_timers()
    run.wf.do_engine_steps()
    assert run.ready_ids() == set()
    run.fire_timer("followup_wait")
    assert run.ready_ids() == {"followup_review"}


def test_timer_survives_serialization(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    run.complete("care_plan", care_plan())
    due = run.timer_due("followup_wait")
    restored = round_trip(run.wf)
    assert [e.value for e in restored.waiting_events()] == [due.isoformat()]


def test_replan_runs_three_rounds_then_closes(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    for decision in ("replan", "replan", "close"):
        run.run_round(decision)
    assert run.ready_ids() == {"close_case"}
    assert run.completed.count("care_plan") == 3
    run.complete("close_case", CLOSING)
    assert run.wf.is_completed()


def test_replan_stops_at_the_loop_maximum(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    for _ in range(LOOP_MAXIMUM):
        run.run_round("replan")
    assert run.ready_ids() == {"close_case"}
    assert run.completed.count("care_plan") == LOOP_MAXIMUM
    assert "maximum number of times" in render_instructions(run.ready()["close_case"])


def test_round_forms_do_not_cross_the_loop(specs: tuple[Any, Any]) -> None:
    # Only `followup` leaves a round: SpiffWorkflow's merge of rounds garbles changed lists.
    run = at_care_plan(specs)
    run.run_round("replan", needs=("housing", "food"))
    second_plan = run.ready()["care_plan"].data
    assert "care_plan" not in second_plan
    assert second_plan["followup"]["decision"] == "replan"
    run.complete("care_plan", care_plan(needs=("food",)))
    run.fire_timer("followup_wait")
    assert run.ready()["followup_review"].data["care_plan"]["needs"] == ["food"]
    run.complete("followup_review", followup("close"))
    closing = run.ready()["close_case"].data
    assert "care_plan" not in closing
    assert closing["followup"] == followup("close")


def test_revised_plan_instructions_give_the_replan_reason(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    run.run_round("replan")
    assert followup("replan")["reason"] in render_instructions(run.ready()["care_plan"])


@pytest.mark.parametrize("flag", [True, False])
def test_instructions_honour_do_not_contact(specs: tuple[Any, Any], flag: bool) -> None:
    run = Pathway(specs, do_not_contact=flag)
    assert ("Do not contact" in render_instructions(run.ready()["intake"])) is flag


def test_overdue_timer_is_due_24_hours_after_the_assessment_opens(specs: tuple[Any, Any]) -> None:
    run = Pathway(specs)
    before = datetime.now(UTC)
    run.complete("intake", INTAKE)
    after = datetime.now(UTC)
    assert before + timedelta(hours=24) <= run.timer_due("assessment_overdue")
    assert run.timer_due("assessment_overdue") <= after + timedelta(hours=24)


def test_overdue_timer_opens_supervisor_review_and_keeps_the_assessment(
    specs: tuple[Any, Any],
) -> None:
    run = Pathway(specs)
    run.complete("intake", INTAKE)
    run.fire_timer("assessment_overdue")
    ready = run.ready()
    assert set(ready) == {"assessment", "review_overdue_assessment"}
    assert ready["review_overdue_assessment"].task_spec.lane == "Supervisor"


def test_supervisor_review_leaves_the_case_running(specs: tuple[Any, Any]) -> None:
    run = Pathway(specs)
    run.complete("intake", INTAKE)
    run.fire_timer("assessment_overdue")
    run.complete("review_overdue_assessment", SUPERVISOR_REVIEW)
    assert run.ready_ids() == {"assessment"}
    run.complete("assessment", ASSESSMENT, screening=screening("none"))
    assert run.ready_ids() == {"care_plan"}


def test_completing_the_assessment_cancels_the_overdue_timer(specs: tuple[Any, Any]) -> None:
    run = at_care_plan(specs)
    assert run.wf.waiting_events() == []
