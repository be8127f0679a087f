"""Safe XML reading, role mapping and the spec cache (engine.workflow.parsing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import ErrorKind, Invalid
from engine.workflow import parsing
from engine.workflow.parsing import (
    MAX_FILE_BYTES,
    DeploymentInvalid,
    Problem,
    bundle_digest,
    load_specs,
    parse_document,
    role_for_lane,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def refusal(name: str, data: bytes) -> Problem:
    with pytest.raises(DeploymentInvalid) as caught:
        parse_document(name, data)
    [problem] = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("lane", "role"),
    [
        ("Social Worker", "social_worker"),
        ("social worker", "social_worker"),
        ("SocialWorker", "social_worker"),
        ("socialWorker", "social_worker"),
        ("social_worker", "social_worker"),
        ("Case Manager", "case_manager"),
        ("CaseManager", "case_manager"),
        ("  Nurse ", "nurse"),
        ("SUPERVISOR", "supervisor"),
        ("Social-Worker", "social_worker"),
        ("Janitor", "janitor"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_role_for_lane(lane: str | None, role: str | None) -> None:
    assert role_for_lane(lane) == role


def test_parse_document_reads_bpmn_and_keeps_the_exact_text() -> None:
    doc = parse_document("care_flow.bpmn", fixture_bytes("care_flow.bpmn"))

    assert doc.kind == "bpmn"
    assert doc.text == fixture_text("care_flow.bpmn")
    assert doc.line_of("intake") == 23


def test_parse_document_reads_dmn() -> None:
    assert parse_document("triage.dmn", fixture_bytes("triage.dmn")).kind == "dmn"


@pytest.mark.parametrize("name", ["billion_laughs.bpmn", "xxe.bpmn"])
def test_doctype_and_entities_are_refused_before_parsing(name: str) -> None:
    problem = refusal(name, fixture_bytes(name))

    assert problem == Problem(
        name, None, 2, "DOCTYPE and ENTITY declarations are not allowed in diagrams"
    )


def test_doctype_in_utf16_is_refused_after_parsing() -> None:
    # The byte scan cannot see a UTF-16 DOCTYPE; the parsed document's docinfo can.
    data = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE definitions>\n'
        f'<definitions xmlns="{parsing.BPMN_NS}" targetNamespace="x"/>'
    )

    problem = refusal("sneaky.bpmn", data.encode("utf-16"))

    assert problem.message == "DOCTYPE and ENTITY declarations are not allowed in diagrams"


def test_safe_parser_never_resolves_external_entities(tmp_path: Path) -> None:
    # Defence in depth below the DOCTYPE refusal: the parser itself expands nothing.
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    data = (
        f'<!DOCTYPE d [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>\n<d><name>&secret;</name></d>'
    )

    root = etree.fromstring(data.encode("utf-8"), parsing._safe_parser())

    assert "TOP-SECRET" not in etree.tostring(root, encoding="unicode")


def test_malformed_xml_names_the_line() -> None:
    problem = refusal("malformed.bpmn", fixture_bytes("malformed.bpmn"))

    assert problem.file == "malformed.bpmn"
    assert problem.element_id is None
    assert problem.line == 6
    assert problem.message.startswith("malformed XML: Opening and ending tag mismatch")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "malformed XML"),
        (b"<html><body/></html>", "not a BPMN or DMN document (root element html)"),
        # Other encodings are read (issue 16): still refused when not BPMN or DMN.
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<definitions/>',
            "not a BPMN or DMN document",
        ),
        (b" " * (MAX_FILE_BYTES + 1), "the file is larger than 5 MiB"),
    ],
)
def test_parse_document_refuses(data: bytes, message: str) -> None:
    assert refusal("upload.bpmn", data).message.startswith(message)


def test_problem_as_dict() -> None:
    problem = Problem("a.bpmn", "task_1", 12, "broken")

    assert problem.as_dict() == {
        "file": "a.bpmn",
        "element_id": "task_1",
        "line": 12,
        "message": "broken",
    }


def test_deployment_invalid_is_an_invalid_with_details() -> None:
    problems = [Problem("a.bpmn", "t", 3, "x"), Problem("b.bpmn", None, None, "y")]

    error = DeploymentInvalid(problems)

    assert isinstance(error, Invalid)
    assert error.kind == ErrorKind.INVALID
    assert error.code == "invalid_definition"
    assert error.problems == problems
    assert error.details == [p.as_dict() for p in problems]
    assert "2 problems" in error.public_message


def test_bundle_digest_ignores_key_order_but_not_content() -> None:
    one = bundle_digest({"a.bpmn": "<a/>", "b.bpmn": "<b/>"}, {"f.json": {"x": 1, "y": 2}})
    same = bundle_digest({"b.bpmn": "<b/>", "a.bpmn": "<a/>"}, {"f.json": {"y": 2, "x": 1}})
    other = bundle_digest({"a.bpmn": "<a/>", "b.bpmn": "<b/>"}, {"f.json": {"x": 1, "y": 3}})

    assert one == same
    assert one != other


CARE_FILES = {name: fixture_text(name) for name in ("care_flow.bpmn", "crisis.bpmn", "triage.dmn")}


def test_load_specs_runs_in_a_workflow() -> None:
    spec, subprocess_specs = load_specs(CARE_FILES, "care_flow")
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.do_engine_steps()

    [intake] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert (intake.task_spec.bpmn_id, intake.task_spec.lane) == ("intake", "Social Worker")
    intake.data.update({"intake": {"score": 12}})
    intake.run()
    workflow.do_engine_steps()

    # A score of 12 is "high" in the DMN table, so the crisis call activity starts.
    [safety_plan] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert (safety_plan.task_spec.bpmn_id, safety_plan.task_spec.lane) == ("safety_plan", "Nurse")
    assert set(subprocess_specs) == {"crisis_intervention"}


def test_load_specs_is_cached_by_content() -> None:
    first = load_specs(CARE_FILES, "care_flow")
    # A new mapping with equal content (as when a definition row is loaded again).
    again = load_specs(dict(reversed(list(CARE_FILES.items()))), "care_flow")

    assert again is first


def test_load_specs_parses_again_when_content_changes() -> None:
    first = load_specs(CARE_FILES, "care_flow")
    changed = dict(CARE_FILES)
    changed["care_flow.bpmn"] = changed["care_flow.bpmn"].replace("Intake interview", "Intake")

    second = load_specs(changed, "care_flow")

    assert second is not first
    assert second[0].task_specs["intake"].bpmn_name == "Intake"


def test_load_specs_keys_on_the_process_too() -> None:
    care, _ = load_specs(CARE_FILES, "care_flow")
    crisis, _ = load_specs(CARE_FILES, "crisis_intervention")

    assert (care.name, crisis.name) == ("care_flow", "crisis_intervention")


def test_load_specs_reports_an_unknown_process() -> None:
    with pytest.raises(DeploymentInvalid) as caught:
        load_specs(CARE_FILES, "no_such_process")

    assert "no_such_process" in caught.value.problems[0].message


def test_load_specs_refuses_unsafe_xml() -> None:
    with pytest.raises(DeploymentInvalid):
        load_specs({"xxe.bpmn": fixture_text("xxe.bpmn")}, "xxe")


def test_prepare_is_reachable_from_parsing() -> None:
    [bundle] = parsing.prepare(
        {"crisis.bpmn": fixture_bytes("crisis.bpmn")},
        forms={"crisis.schema.json": fixture_bytes("forms/crisis.schema.json")},
    )

    assert bundle.process_id == "crisis_intervention"


def test_a_latin1_document_is_kept_as_utf8_with_its_lines() -> None:
    from engine.workflow.parsing import parse_document

    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
        '  <bpmn:process id="p" name="Évaluation"/>\n'
        "</bpmn:definitions>\n"
    ).encode("iso-8859-1")
    doc = parse_document("latin.bpmn", data)
    assert 'encoding="UTF-8"' in doc.text.splitlines()[0]
    assert "Évaluation" in doc.text
    assert doc.line_of("p") == 3
