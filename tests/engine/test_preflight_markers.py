"""Deploy pre-flight for the task markers the engine acts on: an outreach task must be
withdrawable by do_not_contact, an inpatient-only task must end with inpatient_care_ended, and
dueAt must name a variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.workflow.parsing import DeploymentInvalid
from engine.workflow.preflight import prepare

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
FORMS = {path.name: path.read_bytes() for path in sorted((FIXTURES / "forms").iterdir())}
FORM_PROPERTY = (
    b'<spiffworkflow:property name="formJsonSchemaFilename" value="crisis.schema.json" />'
)


def crisis_with(extra: bytes) -> bytes:
    text = (FIXTURES / "crisis.bpmn").read_bytes()
    assert FORM_PROPERTY in text
    return text.replace(FORM_PROPERTY, FORM_PROPERTY + extra)


@pytest.mark.parametrize(
    ("marker", "message"),
    [("clientOutreach", "do_not_contact"), ("inpatientOnly", "inpatient_care_ended")],
)
def test_a_marked_task_without_its_boundary_event_is_refused(marker, message) -> None:
    prop = f'<spiffworkflow:property name="{marker}" value="true" />'.encode()
    with pytest.raises(DeploymentInvalid) as caught:
        prepare({"crisis.bpmn": crisis_with(prop)}, forms=FORMS)
    [problem] = caught.value.problems
    assert problem.element_id == "safety_plan"
    assert f"'{message}'" in problem.message
    assert problem.line is not None


def test_due_at_must_name_a_variable() -> None:
    prop = b'<spiffworkflow:property name="dueAt" value="P2D later" />'
    with pytest.raises(DeploymentInvalid) as caught:
        prepare({"crisis.bpmn": crisis_with(prop)}, forms=FORMS)
    assert "dueAt" in caught.value.problems[0].message


def test_a_false_marker_asks_for_nothing() -> None:
    prop = b'<spiffworkflow:property name="clientOutreach" value="false" />'
    [bundle] = prepare({"crisis.bpmn": crisis_with(prop)}, forms=FORMS)
    assert bundle.warnings == []
