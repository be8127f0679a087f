"""Discharge follow-up run in memory (crisis and risk routing: test_crisis_routing.py).

No database: the diagrams are parsed as the engine parses them and run by SpiffWorkflow with
CareBridge's sandboxed script engine, so every condition, loop condition, timer expression and
DMN expression here is proven to evaluate inside the sandbox. Time is a FrozenClock installed
in SpiffWorkflow's timer module (engine.workflow.runtime.using_clock), not the wall clock.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.clock import FrozenClock
from engine.workflow import runtime
from engine.workflow.helpers import SCRIPT_HELPERS
from engine.workflow.scripting import make_script_engine

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
SCRIPT_ENGINE = make_script_engine(helpers=SCRIPT_HELPERS)
JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TCM_DUE = "2026-03-04T17:00:00-05:00"  # what the engine seeds for a Monday-morning discharge

ESCALATION = {"action": "attended", "client_safe": True}
CRISIS = {
    "risk_summary": "Plan to overdose on stored medication; no attempt yet.",
    "client_safe": True,
    "actions_taken": ["stayed_with_client", "behavioral_health_consult"],
    "lifeline_988_given": True,
    "safety_plan_started": True,
    "physician_notified": True,
}
SAFETY = {
    "one_to_one_observation": True,
    "environment_sweep": True,
    "belongings_searched": True,
    "physician_notified": True,
    "precautions_started_at": "2026-03-02T09:10:00-05:00",
}
SAFETY_PLAN = {
    "plan_status": "completed",
    "warning_signs": "Not sleeping; pulling away from family.",
    "internal_coping": "Walk the dog; gospel radio.",
    "distraction_people_places": "Church coffee morning.",
    "people_to_ask_for_help": "Rosa (daughter) 555-0199.",
    "professionals_and_agencies": "Clinic; 988 Suicide & Crisis Lifeline.",
    "lifeline_988_listed": True,
    "making_environment_safe": "Daughter keeps the spare medication.",
    "reasons_for_living": "My grandchildren.",
    "copy_given": True,
}
REACHED = {
    "attempted_at": "2026-03-03T10:00:00-05:00",
    "method": "phone",
    "outcome": "reached",
    "topics_covered": ["medications", "appointments", "warning_signs"],
    "face_to_face_visit_date": "2026-03-09",
}
UNREACHED = {
    "attempted_at": "2026-03-03T10:00:00-05:00",
    "method": "phone",
    "outcome": "unreachable",
    "unreachable_reason": "no_answer",
}
MH_FOLLOWUP = {"visit_status": "attended", "visit_date": "2026-03-06"}


def retry(*, give_up: bool) -> dict[str, Any]:
    return {**UNREACHED, "unreachable_reason": "voicemail_left", "record_unable_to_reach": give_up}


@functools.cache
def specs(process_id: str) -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_dmn_files([str(p) for p in sorted(PROCESSES.glob("*.dmn"))])
    parser.add_bpmn_files([str(p) for p in sorted(PROCESSES.glob("*.bpmn"))])
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


@functools.cache
def form_validator(filename: str) -> Draft202012Validator:
    schema = json.loads((FORMS / filename).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def form_errors(filename: str, data: dict[str, Any]) -> list[str]:
    return [e.message for e in form_validator(filename).iter_errors(data)]


class Run:
    """One in-memory instance of a shipped process on a frozen clock."""

    def __init__(self, process_id: str, **seed: Any) -> None:
        self.clock = FrozenClock(START)
        spec, subprocess_specs = specs(process_id)
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
        [start] = self.wf.get_tasks(state=TaskState.READY)
        start.data.update({"case_id": 41, "client_id": 7, "do_not_contact": False, **seed})
        self._steps()

    def _steps(self) -> None:
        with runtime.using_clock(self.clock):
            self.wf.refresh_timers()
            self.wf.do_engine_steps()

    def ready(self) -> dict[str, Task]:
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True)
        by_id = {t.task_spec.bpmn_id: t for t in tasks}
        assert len(by_id) == len(tasks)
        return by_id

    def ready_ids(self) -> set[str]:
        return set(self.ready())

    def complete(self, bpmn_id: str, form: dict[str, Any], **engine_data: Any) -> None:
        task = self.ready()[bpmn_id]
        schema = task.task_spec.extensions["properties"]["formJsonSchemaFilename"]
        assert form_errors(schema, form) == []
        assert self.instructions(bpmn_id).strip()
        task.task_spec.add_data_from_form(task, copy.deepcopy(form))
        task.data.update(engine_data)
        with runtime.using_clock(self.clock):
            task.run()
        self._steps()

    def instructions(self, bpmn_id: str) -> str:
        task = self.ready()[bpmn_id]
        return JINJA.from_string(task.task_spec.extensions["instructionsForEndUser"]).render(
            task.data
        )

    def timers(self) -> dict[str, datetime]:
        return {t.bpmn_id: t.due_at for t in runtime.waiting_timers(self.wf)}

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        self._steps()

    def deliver(self, name: str, payload: dict[str, Any]) -> None:
        with runtime.using_clock(self.clock):
            runtime.send_message(self.wf, name, payload)


# --- discharge follow-up -------------------------------------------------------------------

# What engine.discharge seeds for a discharge on Monday 2026-03-02 10:00 New York time.
DISCHARGE_SEED = {
    "discharged_at": "2026-03-02T10:00:00-05:00",
    "disposition": "home",
    "inpatient_work_ended": [],
    "inpatient_work_replaced_by": [],
    "tcm_contact_due": TCM_DUE,
    "fuh_7_due": "2026-03-09T23:59:59-04:00",
    "fuh_30_due": "2026-04-01T23:59:59-04:00",
    "ama_review_due": "2026-03-02T23:59:59-05:00",
}


def discharge(*, behavioral_health: bool = False, do_not_contact: bool = False, **seed: Any) -> Run:
    payload = {"discharged_at": DISCHARGE_SEED["discharged_at"], "disposition": "home"}
    run = Run(
        "discharge_followup",
        behavioral_health=behavioral_health,
        do_not_contact=do_not_contact,
        message=payload,
        **{**DISCHARGE_SEED, **seed},
    )
    assert run.ready_ids() == set()  # nothing happens before the message
    run.deliver("discharge", payload)
    return run


def test_discharge_process_is_started_by_the_discharge_message() -> None:
    spec, _ = specs("discharge_followup")
    assert runtime.message_start_names(spec) == {"discharge"}


def test_discharge_opens_the_transitional_care_contact() -> None:
    run = discharge()
    task = run.ready()["tcm_first_attempt"]
    props = task.task_spec.extensions["properties"]
    assert run.ready_ids() == {"tcm_first_attempt"}
    assert task.task_spec.lane == "SocialWorker"
    assert (props["dueAt"], props["priority"]) == ("tcm_contact_due", "urgent")
    assert "988" in run.instructions("tcm_first_attempt")
    assert "deadline 2026-03-04 at 17:00, site time" in run.instructions("tcm_first_attempt")


def test_deadline_timer_is_the_seeded_due_time() -> None:
    assert discharge().timers() == {"tcm_deadline": datetime.fromisoformat(TCM_DUE)}


def test_reached_at_the_first_attempt_ends_the_contact() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", REACHED)
    assert run.ready_ids() == set()
    assert run.timers() == {}
    assert run.wf.is_completed()


def test_unreachable_first_attempt_asks_for_another() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", UNREACHED)
    assert run.ready_ids() == {"tcm_retry"}
    assert "no answer" in run.instructions("tcm_retry")


def test_unable_to_reach_is_recorded_after_two_attempts() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", UNREACHED)
    run.complete("tcm_retry", retry(give_up=True))
    assert run.wf.is_completed()
    attempts = [
        t
        for t in run.wf.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id in ("tcm_first_attempt", "tcm_retry") and t.task_spec.manual
    ]
    assert len(attempts) == 2


def test_first_attempt_form_cannot_record_unable_to_reach() -> None:
    errors = form_errors(
        "tcm_contact_attempt.schema.json", {**UNREACHED, "record_unable_to_reach": True}
    )
    assert any("record_unable_to_reach" in e for e in errors)


def test_attempts_repeat_until_reached() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", UNREACHED)
    run.complete("tcm_retry", retry(give_up=False))
    run.complete("tcm_retry", retry(give_up=False))
    assert run.ready_ids() == {"tcm_retry"}
    run.complete("tcm_retry", {**REACHED, "attempted_at": "2026-03-04T09:00:00-05:00"})
    assert run.wf.is_completed()


def test_attempts_stop_at_the_loop_maximum() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", UNREACHED)
    for _ in range(4):
        assert run.ready_ids() == {"tcm_retry"}
        run.complete("tcm_retry", retry(give_up=False))
    assert run.ready_ids() == set()
    assert run.wf.is_completed()


def test_deadline_escalates_to_the_supervisor_and_keeps_the_contact_open() -> None:
    run = discharge()
    run.clock.set(datetime.fromisoformat(TCM_DUE) + timedelta(seconds=1))
    run.advance()
    ready = run.ready()
    assert set(ready) == {"tcm_first_attempt", "tcm_overdue_review"}
    assert ready["tcm_overdue_review"].task_spec.lane == "Supervisor"


def test_contact_before_the_deadline_cancels_the_escalation() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", REACHED)
    run.advance(days=5)
    assert run.ready_ids() == set()


@pytest.mark.parametrize(
    ("flag", "expected"), [(True, {"fuh_7_check", "fuh_30_check"}), (False, set())]
)
def test_fuh_checks_only_with_the_behavioural_health_flag(flag: bool, expected: set[str]) -> None:
    run = discharge(behavioral_health=flag)
    run.complete("tcm_first_attempt", REACHED)
    assert run.ready_ids() == expected


def test_fuh_checks_are_due_at_the_seeded_end_of_day_7_and_30() -> None:
    run = discharge(behavioral_health=True)
    ready = run.ready()
    assert ready["fuh_7_check"].task_spec.extensions["properties"]["dueAt"] == "fuh_7_due"
    assert ready["fuh_30_check"].task_spec.extensions["properties"]["dueAt"] == "fuh_30_due"
    assert "by the end of 2026-03-09" in run.instructions("fuh_7_check")
    assert "by the end of 2026-04-01" in run.instructions("fuh_30_check")
    run.complete("fuh_7_check", MH_FOLLOWUP)
    run.complete("fuh_30_check", {"visit_status": "missed", "reason": "Bus strike."})
    run.complete("tcm_first_attempt", REACHED)
    assert run.wf.is_completed()


def test_do_not_contact_gets_no_outreach_only_a_safe_contact_plan() -> None:
    run = discharge(do_not_contact=True)
    assert run.ready_ids() == {"tcm_safe_contact"}
    text = run.instructions("tcm_safe_contact")
    assert "Do not contact" in text
    assert "emergency contact" in text
    assert set(run.timers()) == {"tcm_deadline"}
    run.complete("tcm_safe_contact", {"channel": "clinic_visit", "contact_made": True})
    assert run.wf.is_completed()


@pytest.mark.parametrize("unreached_first", [False, True])
def test_do_not_contact_message_withdraws_an_open_attempt(unreached_first: bool) -> None:
    run = discharge()
    if unreached_first:
        run.complete("tcm_first_attempt", UNREACHED)
    run.deliver("do_not_contact", {})
    run.advance()
    assert run.ready_ids() == set()
    assert run.timers() == {}  # the contact is over: the "Plan safe contact" task takes over


def test_retry_instructions_suggest_no_other_route_under_do_not_contact() -> None:
    run = discharge()
    run.complete("tcm_first_attempt", UNREACHED)
    run.ready()["tcm_retry"].data["do_not_contact"] = True
    text = run.instructions("tcm_retry")
    assert "caregiver" not in text
    assert "emergency contact" not in text


def test_expired_starts_no_outreach_only_a_notice() -> None:
    run = discharge(behavioral_health=True, disposition="expired")
    assert run.ready_ids() == {"discharge_notice"}
    assert "died" in run.instructions("discharge_notice")


def test_ama_adds_a_supervisor_review_due_the_same_day() -> None:
    run = discharge(disposition="ama")
    ready = run.ready()
    assert set(ready) == {"tcm_first_attempt", "ama_review"}
    assert ready["ama_review"].task_spec.lane == "Supervisor"
    assert ready["ama_review"].task_spec.extensions["properties"]["dueAt"] == "ama_review_due"


def test_inpatient_work_ended_tells_the_worker() -> None:
    run = discharge(
        inpatient_work_ended=["Psychosocial assessment"],
        inpatient_work_replaced_by=["Psychosocial assessment by phone"],
    )
    assert run.ready_ids() == {"tcm_first_attempt", "discharge_notice"}
    text = run.instructions("discharge_notice")
    assert "Psychosocial assessment by phone" in text


# --- forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "complaint"),
    [
        ("crisis_escalation.schema.json", {"action": "other", "client_safe": True}, "'note'"),
        ("crisis_escalation.schema.json", {"action": "attended", "client_safe": False}, "'note'"),
        ("crisis_escalation.schema.json", {"action": "attended"}, "'client_safe'"),
        ("safety_plan.schema.json", {"plan_status": "completed"}, "'warning_signs'"),
        ("safety_plan.schema.json", {**SAFETY_PLAN, "lifeline_988_listed": False}, "True was"),
        ("safety_plan.schema.json", {"plan_status": "client_declined"}, "'declined_reason'"),
        ("tcm_contact_attempt.schema.json", {**REACHED, "topics_covered": []}, "non-empty"),
        (
            "tcm_contact_attempt.schema.json",
            {**UNREACHED, "unreachable_reason": None},
            "None is not",
        ),
        ("tcm_contact_retry.schema.json", UNREACHED, "'record_unable_to_reach'"),
        ("mh_followup.schema.json", {"visit_status": "attended"}, "'visit_date'"),
        ("mh_followup.schema.json", {"visit_status": "missed"}, "'reason'"),
        ("tcm_overdue_review.schema.json", {"action": "reassign"}, "'note'"),
        ("tcm_safe_contact.schema.json", {"channel": "home_phone"}, "'home_phone'"),
    ],
)
def test_form_rejects_invalid_answers(filename: str, data: dict, complaint: str) -> None:
    errors = form_errors(filename, data)
    assert any(complaint in e for e in errors), errors


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("crisis_escalation.schema.json", ESCALATION),
        ("safety_plan.schema.json", SAFETY_PLAN),
        ("safety_plan.schema.json", {"plan_status": "client_declined", "declined_reason": "No."}),
        ("tcm_contact_attempt.schema.json", REACHED),
        ("tcm_contact_attempt.schema.json", UNREACHED),
        ("tcm_contact_retry.schema.json", retry(give_up=True)),
        ("tcm_contact_retry.schema.json", REACHED),
        ("mh_followup.schema.json", MH_FOLLOWUP),
        ("tcm_overdue_review.schema.json", {"action": "reassign", "note": "Sam off sick."}),
    ],
)
def test_form_accepts_valid_answers(filename: str, data: dict) -> None:
    assert form_errors(filename, data) == []
