"""Suicide-risk routing (risk_routing.dmn), the screening response and crisis intervention,
run in memory on a FrozenClock with the sandboxed script engine.

The screening outcomes are made by the real scoring and summary code from answers encoded as
in CARE.md, so every row below is reached the way a submitted screen reaches it."""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine import instruments
from engine.assessments import summarize
from engine.inbox.models import PRIORITIES
from engine.workflow import runtime
from engine.workflow.parsing import role_for_lane
from tests.processes.test_crisis_discharge import (
    CRISIS,
    DMN_NS,
    ESCALATION,
    FORMS,
    PROCESSES,
    SAFETY,
    SAFETY_PLAN,
    SCRIPT_ENGINE,
    START,
    Run,
    form_errors,
)

CSSRS_NONE = {"q1": False, "q2": False, "q6": False}
CSSRS_LOW = {"q1": True, "q2": False, "q6": False}
CSSRS_MODERATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
CSSRS_HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
CSSRS_PAST_ATTEMPT = {"q1": False, "q2": False, "q6": True, "q6_recent": False}  # moderate
CSSRS_RECENT_ATTEMPT = {"q1": False, "q2": False, "q6": True, "q6_recent": True}  # high
CSSRS_DECLINED = {"q1": True, "q2": "declined", "q6": False}  # incomplete
CSSRS_DECLINED_BUT_HIGH = {**CSSRS_HIGH, "q5": "declined"}  # incomplete, q4 yes: high


def phq9(q9: Any = 0, rest: int = 0) -> dict[str, Any]:
    return {f"q{i}": rest for i in range(1, 9)} | {"q9": q9}


def screen(**answers: dict[str, Any]) -> dict[str, Any]:
    """The `screening` outcome the engine puts in task data for these instrument answers."""
    results = {key: instruments.score(key, given) for key, given in answers.items()}
    return summarize(results, answers)


# --- the decision table ------------------------------------------------------------------


@functools.cache
def decision_table() -> Any:
    parser = BpmnDmnParser()
    root = etree.parse(str(PROCESSES / "risk_routing.dmn")).getroot()
    parser.add_dmn_xml(root, filename="risk_routing.dmn")
    [dmn] = parser.dmn_parsers.values()
    dmn.parse()
    [table] = dmn.decision.decisionTables
    return table


def decide(outcome: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id of the first matching row, its outputs), evaluated by the sandboxed engine."""
    task = SimpleNamespace(
        data={"screening": outcome}, workflow=SimpleNamespace(script_engine=SCRIPT_ENGINE)
    )
    engine = DMNEngine(table := decision_table())
    assert table.hit_policy == "FIRST"
    return engine.decide(task)[0].id, engine.result(task)["routing"]


CRISIS_ROUTE = {"route": "crisis", "priority": "stat", "due": "PT15M", "lane": "SocialWorker"}
CSSRS_NOW = {"route": "cssrs_screen", "priority": "stat", "due": "PT15M", "lane": "SocialWorker"}
MODERATE = {"route": "moderate", "priority": "asap", "due": "PT4H", "lane": "Physician"}
LOW = {"route": "low", "priority": "routine", "due": "P1D", "lane": "SocialWorker"}
STANDARD = {"route": "standard", "priority": "routine", "due": "P7D", "lane": "SocialWorker"}

ROWS = [
    ("high", screen(cssrs=CSSRS_HIGH), "rule_high", CRISIS_ROUTE),
    ("recent attempt", screen(cssrs=CSSRS_RECENT_ATTEMPT), "rule_high", CRISIS_ROUTE),
    ("high + item 9", screen(cssrs=CSSRS_HIGH, phq9=phq9(3)), "rule_high", CRISIS_ROUTE),
    (
        "declined, given answers high",
        screen(cssrs=CSSRS_DECLINED_BUT_HIGH),
        "rule_high",
        CRISIS_ROUTE,
    ),
    ("moderate", screen(cssrs=CSSRS_MODERATE), "rule_moderate", MODERATE),
    ("past attempt", screen(cssrs=CSSRS_PAST_ATTEMPT), "rule_moderate", MODERATE),
    ("incomplete C-SSRS", screen(cssrs=CSSRS_DECLINED), "rule_moderate", MODERATE),
    ("moderate + item 9", screen(cssrs=CSSRS_MODERATE, phq9=phq9(1)), "rule_moderate", MODERATE),
    ("item 9 = 1 alone", screen(phq9=phq9(1)), "rule_item9_unscreened", CSSRS_NOW),
    ("item 9 = 3, severe", screen(phq9=phq9(3, rest=3)), "rule_item9_unscreened", CSSRS_NOW),
    ("item 9 declined", screen(phq9=phq9("declined")), "rule_item9_unscreened", CSSRS_NOW),
    ("low", screen(cssrs=CSSRS_LOW), "rule_low", LOW),
    ("low + item 9", screen(cssrs=CSSRS_LOW, phq9=phq9(2)), "rule_low", LOW),
    (
        "item 9, C-SSRS none",
        screen(cssrs=CSSRS_NONE, phq9=phq9(1)),
        "rule_item9_cssrs_negative",
        LOW,
    ),
    (
        "item 9 declined, C-SSRS none",
        screen(cssrs=CSSRS_NONE, phq9=phq9("declined")),
        "rule_item9_cssrs_negative",
        LOW,
    ),
    ("no risk", screen(cssrs=CSSRS_NONE), "rule_otherwise", STANDARD),
    ("severe depression, item 9 = 0", screen(phq9=phq9(0, rest=3)), "rule_otherwise", STANDARD),
    ("GAD-7 only", screen(gad7={f"q{i}": 3 for i in range(1, 8)}), "rule_otherwise", STANDARD),
]


@pytest.mark.parametrize(
    ("outcome", "rule", "routing"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_risk_routing_row(outcome: dict, rule: str, routing: dict) -> None:
    assert decide(outcome) == (rule, routing)


def test_every_decision_row_is_tested() -> None:
    root = etree.parse(str(PROCESSES / "risk_routing.dmn")).getroot()
    assert set(root.xpath("//dmn:rule/@id", namespaces=DMN_NS)) == {row[2] for row in ROWS}


def test_every_decision_output_is_a_route_priority_duration_and_role() -> None:
    root = etree.parse(str(PROCESSES / "risk_routing.dmn")).getroot()
    for rule in root.xpath("//dmn:rule", namespaces=DMN_NS):
        route, priority, due, lane = (
            json.loads(t) for t in rule.xpath("dmn:outputEntry/dmn:text/text()", namespaces=DMN_NS)
        )
        assert route in {"crisis", "cssrs_screen", "moderate", "low", "standard"}
        assert priority in PRIORITIES
        assert runtime.iso_duration(due, START).total_seconds() > 0
        assert role_for_lane(lane) in {"social_worker", "physician"}


# --- the screening response --------------------------------------------------------------


def respond(outcome: dict[str, Any], **seed: Any) -> Run:
    return Run("screening_response", screening=outcome, **seed)


def props(run: Run, bpmn_id: str) -> dict[str, str]:
    return dict(run.ready()[bpmn_id].task_spec.extensions["properties"])


def test_item9_without_cssrs_asks_for_a_stat_cssrs_in_15_minutes() -> None:
    run = respond(screen(phq9=phq9(1)))
    task = run.ready()["cssrs_screen"]
    assert set(run.ready()) == {"cssrs_screen"}
    assert task.task_spec.bpmn_name == "Suicide-risk screen (C-SSRS)"
    assert task.task_spec.lane == "SocialWorker"
    assert task.data["routing"] == CSSRS_NOW
    assert (
        props(run, "cssrs_screen")["priorityVariable"],
        props(run, "cssrs_screen")["dueInVariable"],
    ) == (
        "routing.priority",
        "routing.due",
    )


def test_cssrs_task_shows_unknown_risk_and_the_item9_answer_never_none() -> None:
    text = respond(screen(phq9=phq9(2))).instructions("cssrs_screen")
    assert "not yet known" in text
    assert "PHQ-9 item 9" in text
    assert "More than half the days" in text
    assert "**none**" not in text


def test_declined_item9_shows_the_refusal_on_the_cssrs_task() -> None:
    text = respond(screen(phq9=phq9("declined"))).instructions("cssrs_screen")
    assert "PHQ-9 item 9" in text
    assert "declined to answer" in text


def complete_cssrs(run: Run, answers: dict[str, Any]) -> None:
    run.complete(
        "cssrs_screen", {"setting": "bedside", "cssrs": answers}, screening=screen(cssrs=answers)
    )


def test_high_cssrs_after_item9_starts_crisis_intervention() -> None:
    run = respond(screen(phq9=phq9(1)))
    complete_cssrs(run, CSSRS_HIGH)
    assert run.ready_ids() == {"crisis_response", "safety_precautions", "physician_review"}
    text = run.instructions("crisis_response")
    assert "**high**" in text
    assert "PHQ-9 item 9" in text
    assert "C-SSRS 4" in text


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (CSSRS_MODERATE, {"bh_consult", "moderate_safety_plan", "shift_review"}),
        (CSSRS_DECLINED, {"bh_consult", "moderate_safety_plan", "shift_review"}),
        (CSSRS_LOW, {"low_risk_followup"}),
        (CSSRS_NONE, {"low_risk_followup"}),  # item 9 was positive: still resources + offer
    ],
)
def test_cssrs_result_after_item9_routes_by_its_risk(answers: dict, expected: set) -> None:
    run = respond(screen(phq9=phq9(1)))
    complete_cssrs(run, answers)
    assert run.ready_ids() == expected


def test_high_risk_goes_straight_to_crisis_with_no_escalation_timers() -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    assert run.ready_ids() == {"crisis_response", "safety_precautions", "physician_review"}
    assert run.timers() == {}  # the engine's alarm ladder escalates stat tasks, not the diagram
    ready = run.ready()
    assert ready["crisis_response"].task_spec.lane == "SocialWorker"
    assert ready["safety_precautions"].task_spec.lane == "Nurse"
    assert ready["physician_review"].task_spec.lane == "Physician"
    for bpmn_id in ready:
        assert props(run, bpmn_id)["priority"] == "stat"


def test_crisis_tasks_show_the_actual_risk_and_answers() -> None:
    run = respond(screen(cssrs=CSSRS_RECENT_ATTEMPT))
    for bpmn_id in ("crisis_response", "safety_precautions", "physician_review"):
        text = run.instructions(bpmn_id)
        assert "**high**" in text
        assert "C-SSRS 6 (past 3 months)" in text
        assert "988" in text


PHYSICIAN_REVIEW = {"evaluation": "bh_consult_requested", "precautions_continue": True}


def test_crisis_ends_after_response_safety_plan_precautions_and_physician_review() -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    run.complete("crisis_response", CRISIS)
    assert run.ready_ids() == {"crisis_safety_plan", "safety_precautions", "physician_review"}
    run.complete("crisis_safety_plan", SAFETY_PLAN)
    run.complete("safety_precautions", SAFETY)
    assert run.ready_ids() == {"physician_review"}
    run.complete("physician_review", PHYSICIAN_REVIEW)
    assert run.wf.is_completed()


def test_stopping_precautions_needs_the_physicians_reason() -> None:
    data = {**PHYSICIAN_REVIEW, "precautions_continue": False}
    errors = form_errors("physician_crisis_review.schema.json", data)
    assert any("'precautions_reason'" in e for e in errors), errors


@pytest.mark.parametrize(
    "unsafe",
    [
        {"client_safe": False},
        {"physician_notified": False},
    ],
)
def test_an_unsafe_crisis_response_raises_a_stat_supervisor_escalation(unsafe: dict) -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    run.complete(
        "crisis_response",
        {
            **CRISIS,
            **unsafe,
            "safety_issue_reason": "Alone in bathroom.",
            "safety_issue_action": "Sent HCA.",
        },
    )
    ready = run.ready()
    assert set(ready) == {
        "response_escalation",
        "crisis_safety_plan",
        "safety_precautions",
        "physician_review",
    }
    assert ready["response_escalation"].task_spec.lane == "Supervisor"
    assert props(run, "response_escalation")["priority"] == "stat"


@pytest.mark.parametrize(
    "missing",
    ["one_to_one_observation", "environment_sweep", "belongings_searched", "physician_notified"],
)
def test_precautions_not_in_place_raise_a_stat_supervisor_escalation(missing: str) -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    run.complete(
        "safety_precautions",
        {
            **SAFETY,
            missing: False,
            "safety_issue_reason": "No sitter.",
            "safety_issue_action": "Asked bed manager.",
        },
    )
    ready = run.ready()
    assert "precautions_escalation" in ready
    assert ready["precautions_escalation"].task_spec.lane == "Supervisor"
    assert props(run, "precautions_escalation")["priority"] == "stat"


def test_a_safe_crisis_raises_no_escalation() -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    run.complete("crisis_response", CRISIS)
    run.complete("safety_precautions", SAFETY)
    assert run.ready_ids() == {"crisis_safety_plan", "physician_review"}


def test_the_escalation_keeps_the_crisis_open_until_answered() -> None:
    run = respond(screen(cssrs=CSSRS_HIGH))
    run.complete(
        "crisis_response",
        {**CRISIS, "client_safe": False, "safety_issue_reason": "x", "safety_issue_action": "y"},
    )
    run.complete("crisis_safety_plan", SAFETY_PLAN)
    run.complete("safety_precautions", SAFETY)
    run.complete("physician_review", PHYSICIAN_REVIEW)
    assert run.ready_ids() == {"response_escalation"}
    run.complete("response_escalation", ESCALATION)
    assert run.wf.is_completed()


def test_moderate_risk_gets_consult_safety_plan_and_same_shift_review_without_observation() -> None:
    run = respond(screen(cssrs=CSSRS_MODERATE))
    ready = run.ready()
    assert set(ready) == {"bh_consult", "moderate_safety_plan", "shift_review"}
    assert {k: t.task_spec.lane for k, t in ready.items()} == {
        "bh_consult": "Physician",
        "moderate_safety_plan": "SocialWorker",
        "shift_review": "Supervisor",
    }
    assert ready["bh_consult"].data["routing"] == MODERATE
    for bpmn_id in ready:
        assert props(run, bpmn_id)["priorityVariable"] == "routing.priority"
    assert "**moderate**" in run.instructions("bh_consult")


def test_incomplete_cssrs_tasks_say_the_risk_is_unknown() -> None:
    text = respond(screen(cssrs=CSSRS_DECLINED)).instructions("bh_consult")
    assert "C-SSRS incomplete" in text
    assert "C-SSRS 2" in text
    assert "declined to answer" in text


def test_moderate_risk_observation_only_when_the_physician_orders_it() -> None:
    run = respond(screen(cssrs=CSSRS_MODERATE))
    run.complete("bh_consult", {"outcome": "seen_by_physician", "observation_ordered": False})
    assert "ordered_precautions" not in run.ready_ids()
    run = respond(screen(cssrs=CSSRS_MODERATE))
    run.complete(
        "bh_consult",
        {
            "outcome": "seen_by_physician",
            "observation_ordered": True,
            "observation_reason": "Intent.",
        },
    )
    assert run.ready()["ordered_precautions"].task_spec.lane == "Nurse"


def test_moderate_path_ends_when_all_three_are_done() -> None:
    run = respond(screen(cssrs=CSSRS_MODERATE))
    run.complete("bh_consult", {"outcome": "bh_consult_requested", "observation_ordered": False})
    run.complete("moderate_safety_plan", SAFETY_PLAN)
    assert not run.wf.is_completed()
    run.complete("shift_review", {"decision": "plan_agreed"})
    assert run.wf.is_completed()


LOW_DONE = {
    "lifeline_988_given": True,
    "safety_plan_offer": "declined",
    "rescreen_at_next_contact": True,
}


def test_low_risk_documents_resources_and_offers_a_plan_routinely() -> None:
    run = respond(screen(cssrs=CSSRS_LOW))
    assert run.ready_ids() == {"low_risk_followup"}
    assert run.ready()["low_risk_followup"].data["routing"] == LOW
    assert "988" in run.instructions("low_risk_followup")
    run.complete("low_risk_followup", LOW_DONE)
    assert run.wf.is_completed()


def test_low_risk_accepted_plan_is_written_next() -> None:
    run = respond(screen(cssrs=CSSRS_LOW))
    run.complete("low_risk_followup", {**LOW_DONE, "safety_plan_offer": "accepted"})
    assert run.ready_ids() == {"low_safety_plan"}


def test_no_risk_creates_no_task() -> None:
    run = respond(screen(cssrs=CSSRS_NONE, phq9=phq9(0)))
    assert run.ready_ids() == set()
    assert run.wf.is_completed()


# --- forms: safety answers are never silently negative -------------------------------------


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("crisis_intervention.schema.json", {**CRISIS, "client_safe": False}),
        ("crisis_intervention.schema.json", {**CRISIS, "physician_notified": False}),
        ("safety_precautions.schema.json", {**SAFETY, "one_to_one_observation": False}),
        ("safety_precautions.schema.json", {**SAFETY, "environment_sweep": False}),
        ("safety_precautions.schema.json", {**SAFETY, "belongings_searched": False}),
        ("safety_precautions.schema.json", {**SAFETY, "physician_notified": False}),
    ],
)
def test_a_no_to_a_safety_question_needs_the_reason_and_the_action(
    filename: str, data: dict
) -> None:
    errors = form_errors(filename, data)
    assert any("'safety_issue_reason'" in e for e in errors), errors
    assert any("'safety_issue_action'" in e for e in errors), errors
    assert (
        form_errors(filename, {**data, "safety_issue_reason": "r", "safety_issue_action": "a"})
        == []
    )


def test_client_safe_must_be_answered() -> None:
    data = {k: v for k, v in CRISIS.items() if k != "client_safe"}
    assert any("'client_safe'" in e for e in form_errors("crisis_intervention.schema.json", data))


def test_low_risk_form_without_988_needs_the_reason_and_the_action() -> None:
    errors = form_errors("low_risk_followup.schema.json", {**LOW_DONE, "lifeline_988_given": False})
    assert any("'resources_reason'" in e for e in errors), errors


def test_bh_consult_ordering_observation_needs_a_reason() -> None:
    errors = form_errors(
        "bh_consult.schema.json", {"outcome": "seen_by_physician", "observation_ordered": True}
    )
    assert any("'observation_reason'" in e for e in errors), errors


# --- the safety plan in our own words ------------------------------------------------------

# Headings of the published Stanley-Brown template: its text needs a licence for electronic use.
PUBLISHED_HEADINGS = [
    "warning signs (thoughts, images, mood, situation, behavior)",
    "internal coping strategies",
    "people and social settings that provide distraction",
    "people whom i can ask for help",
    "professionals or agencies i can contact during a crisis",
    "making the environment safe",
    "the one thing that is most important to me and worth living for",
    "stanley",
]


def test_safety_plan_form_uses_none_of_the_published_template_text() -> None:
    text = (
        (FORMS / "safety_plan.schema.json").read_text(encoding="utf-8")
        + (PROCESSES / "crisis_intervention.bpmn").read_text(encoding="utf-8")
        + (PROCESSES / "screening_response.bpmn").read_text(encoding="utf-8")
    ).lower()
    assert [h for h in PUBLISHED_HEADINGS if h in text] == []


def test_safety_plan_form_covers_the_seven_components_and_988() -> None:
    schema = json.loads((FORMS / "safety_plan.schema.json").read_text(encoding="utf-8"))
    required = set(schema["then"]["required"])
    assert {
        "warning_signs",
        "internal_coping",
        "distraction_people_places",
        "people_to_ask_for_help",
        "professionals_and_agencies",
        "making_environment_safe",
        "reasons_for_living",
    } <= required
    assert "988" in schema["properties"]["professionals_and_agencies"]["description"]
