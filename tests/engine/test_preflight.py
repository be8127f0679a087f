"""Deploy-time validation: bundles for good diagrams, element-level problems for bad ones."""

from __future__ import annotations

import json
import sys
import types
from collections import defaultdict
from pathlib import Path

import pytest

from engine.workflow import preflight
from engine.workflow.parsing import DeploymentInvalid, Problem
from engine.workflow.preflight import duration_error, prepare

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
FORMS = {path.name: path.read_bytes() for path in sorted((FIXTURES / "forms").iterdir())}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def line_of(name: str, needle: str) -> int:
    """The 1-based line of the first occurrence of `needle` in a fixture."""
    for number, line in enumerate(fixture_text(name).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {name}")


def problems_of(files: dict[str, bytes], **kwargs: object) -> list[Problem]:
    kwargs.setdefault("forms", FORMS)
    with pytest.raises(DeploymentInvalid) as caught:
        prepare(files, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def care_library() -> dict[str, bytes]:
    return {name: fixture_bytes(name) for name in ("crisis.bpmn", "triage.dmn")}


# ---------------------------------------------------------------- good deploys ----


def test_good_deploy_bundles_the_process_with_what_it_calls() -> None:
    [bundle] = prepare(
        {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}, library=care_library(), forms=FORMS
    )

    assert (bundle.process_id, bundle.name) == ("care_flow", "Care flow")
    assert list(bundle.files) == ["care_flow.bpmn", "crisis.bpmn", "triage.dmn"]
    assert bundle.files["crisis.bpmn"] == fixture_text("crisis.bpmn")
    assert bundle.forms == {
        name: json.loads(FORMS[name])
        for name in ("crisis.schema.json", "intake.schema.json", "intake.uischema.json")
    }
    assert len(bundle.sha256) == 64
    assert bundle.warnings == []


def test_bundle_sha_is_stable_across_calls() -> None:
    files = {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}

    first = prepare(files, library=care_library(), forms=FORMS)[0].sha256
    second = prepare(dict(files), library=care_library(), forms=dict(FORMS))[0].sha256

    assert first == second


def test_bundle_sha_changes_when_a_form_changes() -> None:
    files = {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}
    changed = dict(FORMS)
    schema = json.loads(FORMS["crisis.schema.json"])
    schema["title"] = "Safety plan (v2)"
    changed["crisis.schema.json"] = json.dumps(schema).encode()

    before = prepare(files, library=care_library(), forms=FORMS)[0]
    after = prepare(files, library=care_library(), forms=changed)[0]

    assert after.sha256 != before.sha256
    assert after.forms["crisis.schema.json"]["title"] == "Safety plan (v2)"


def test_bundle_sha_ignores_form_whitespace() -> None:
    files = {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}
    compact = dict(FORMS)
    compact["intake.schema.json"] = json.dumps(json.loads(FORMS["intake.schema.json"])).encode()

    before = prepare(files, library=care_library(), forms=FORMS)[0]
    after = prepare(files, library=care_library(), forms=compact)[0]

    assert after.sha256 == before.sha256


def test_bundle_sha_changes_when_a_called_diagram_changes() -> None:
    files = {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}
    library = care_library()
    library["crisis.bpmn"] = library["crisis.bpmn"].replace(b"Safety plan", b"Safety planning")

    before = prepare(files, library=care_library(), forms=FORMS)[0]
    after = prepare(files, library=library, forms=FORMS)[0]

    assert after.sha256 != before.sha256


def test_one_bundle_per_deployed_process_each_with_only_what_it_needs() -> None:
    files = {name: fixture_bytes(name) for name in ("care_flow.bpmn", "crisis.bpmn", "triage.dmn")}

    bundles = {b.process_id: b for b in prepare(files, forms=FORMS)}

    assert set(bundles) == {"care_flow", "crisis_intervention"}
    assert list(bundles["crisis_intervention"].files) == ["crisis.bpmn"]
    assert list(bundles["crisis_intervention"].forms) == ["crisis.schema.json"]


def test_deployed_file_replaces_the_library_file_of_the_same_name() -> None:
    new = fixture_bytes("crisis.bpmn").replace(b'name="Safety plan"', b'name="Safety planning"')
    library = care_library() | {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}

    [bundle] = prepare({"crisis.bpmn": new}, library=library, forms=FORMS)

    assert bundle.files == {"crisis.bpmn": new.decode()}


def test_forms_may_be_keyed_by_their_path() -> None:
    forms = {f"forms/{name}": data for name, data in FORMS.items()}

    [bundle] = prepare({"crisis.bpmn": fixture_bytes("crisis.bpmn")}, forms=forms)

    assert list(bundle.forms) == ["crisis.schema.json"]


def test_user_task_without_form_is_a_warning() -> None:
    text = fixture_bytes("crisis.bpmn").replace(
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="crisis.schema.json" />',
        b"",
    )

    [bundle] = prepare({"crisis.bpmn": text}, forms=FORMS)

    [warning] = bundle.warnings
    assert warning.element_id == "safety_plan"
    assert "no formJsonSchemaFilename" in warning.message


def test_a_loop_marker_is_fine_but_an_automatic_loop_is_refused() -> None:
    # The retry loop (script -> gateway -> script) has no wait state: however it is meant to
    # end, one command would run it until the script limit, so deploy refuses it.
    problems = problems_of({"loop_marker.bpmn": fixture_bytes("loop_marker.bpmn")})

    [problem] = problems
    assert problem.element_id == "flow_retry_again"
    assert "loops back to 'Count attempts' (retry) with no wait state" in problem.message
    assert problem.line is not None


def test_non_executable_process_is_not_bundled() -> None:
    text = fixture_bytes("crisis.bpmn").replace(b'isExecutable="true"', b'isExecutable="false"')

    assert prepare({"crisis.bpmn": text}, forms=FORMS) == []


def test_known_roles_can_be_configured() -> None:
    files = {"crisis.bpmn": fixture_bytes("crisis.bpmn")}

    [problem] = problems_of(files, known_roles={"social_worker"})
    assert prepare(files, forms=FORMS, known_roles={"nurse"})[0].process_id == "crisis_intervention"

    assert problem.element_id == "lane_nurse"


# ---------------------------------------------------------------- one fault each --

# (fixture, problem file, element id, needle marking the line, message fragment)
FAULTS = [
    ("malformed.bpmn", "malformed.bpmn", None, "</bpmn:process>", "malformed XML"),
    ("xsd_invalid.bpmn", "xsd_invalid.bpmn", "flow_without_target", 'id="flow_without_target"',
     "The attribute 'targetRef' is required but missing"),
    ("spiff_invalid.bpmn", "spiff_invalid.bpmn", "flow_b_without_condition",
     'id="flow_b_without_condition"', "Non-default exclusive outgoing sequence flow"),
    ("no_process_id.bpmn", "no_process_id.bpmn", None, 'name="Nameless"',
     "process has no id"),
    ("bad_expressions.bpmn", "bad_expressions.bpmn", "flow_broken_condition", "risk ==",
     "condition does not compile in the sandbox"),
    ("bad_expressions.bpmn", "bad_expressions.bpmn", "escape", "<bpmn:script>",
     "script does not compile in the sandbox"),
    ("bad_expressions.bpmn", "bad_expressions.bpmn", "follow_up", "<spiffworkflow:preScript>",
     "preScript does not compile in the sandbox"),
    ("bad_expressions.bpmn", "bad_expressions.bpmn", "follow_up", "<spiffworkflow:postScript>",
     "postScript does not compile in the sandbox"),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_bare_name", ">PT24H<",
     'timer expression PT24H is a bare name; quote it ("PT24H") or use a variable set earlier'),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_unquoted_cycle", ">R3/PT1H<",
     'timer expression R3/PT1H is not quoted'),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_bad_duration", '"PT24X"',
     "timer timeDuration 'PT24X': expected an ISO-8601 duration"),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_naive_date", '"2026-03-02T09:00:00"',
     "has no UTC offset"),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_bad_cycle", '"R3/PTXH"',
     "timer timeCycle 'R3/PTXH'"),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_number", ">24<",
     "must give an ISO-8601 string, not int"),
    ("bad_timers.bpmn", "bad_timers.bpmn", "wait_broken_expression", "follow_up_in +",
     "timer expression does not compile in the sandbox"),
    ("lane_problems.bpmn", "lane_problems.bpmn", "lane_janitor", 'id="lane_janitor"',
     "lane 'Janitor' names no known role ('janitor')"),
    ("lane_problems.bpmn", "lane_problems.bpmn", "orphan", 'id="orphan"',
     "user task 'Task in no lane' (orphan) lies in no lane"),
    ("form_problems.bpmn", "form_problems.bpmn", "form_missing", "missing.schema.json",
     "form missing.schema.json is not among the deployed forms"),
    ("form_problems.bpmn", "form_problems.bpmn", "bad_properties", 'name="dueIn"',
     "dueIn '24 hours': expected an ISO-8601 duration"),
    ("form_problems.bpmn", "form_problems.bpmn", "bad_properties", 'name="dueInBusinessDays"',
     "dueInBusinessDays '-1' must be a whole number"),
    ("form_problems.bpmn", "form_problems.bpmn", "bad_properties", 'name="priority"',
     "priority 'whenever' must be one of routine, urgent, asap, stat"),
    ("form_problems.bpmn", "form_problems.bpmn", "bad_properties", 'name="priorityVariable"',
     "priorityVariable 'routing[priority]' must name task data"),
    ("unresolved.bpmn", "unresolved.bpmn", "call_missing", 'id="call_missing"',
     "calls process 'housing_pathway', which is neither deployed nor in the library"),
    ("unresolved.bpmn", "unresolved.bpmn", "decide_missing", 'id="decide_missing"',
     "uses decision 'eligibility', which no deployed or library DMN file defines"),
    ("loop_back.bpmn", "loop_back.bpmn", "flow_again", 'id="flow_again"',
     "loops back to 'Follow-up call' (follow_up): SpiffWorkflow stalls"),
    ("boundary_loop.bpmn", "boundary_loop.bpmn", "flow_retry", 'id="flow_retry"',
     "loops back to 'Contact client' (contact)"),
    ("subprocess_loop.bpmn", "subprocess_loop.bpmn", "flow_check_again",
     'id="flow_check_again"', "loops back to 'Check in with the organisation' (check_in)"),
    ("busy_loop.bpmn", "busy_loop.bpmn", "flow_again", 'id="flow_again"',
     "loops back to 'Count' (count) with no wait state"),
]  # fmt: skip

# Problems a fixture reports in its form files rather than in the diagram.
FORM_FAULTS = {
    "form_problems.bpmn": [
        ("broken.schema.json", None, 4, "not valid JSON: Expecting property name"),
        ("not_a_schema.schema.json", None, None, "not a valid JSON Schema: 'strnig'"),
    ]
}


@pytest.mark.parametrize(
    ("fixture", "file", "element_id", "needle", "fragment"),
    FAULTS,
    ids=[f"{f[0]}:{f[2]}:{f[4][:24]}" for f in FAULTS],
)
def test_each_fault_names_file_element_and_line(
    fixture: str, file: str, element_id: str | None, needle: str, fragment: str
) -> None:
    problems = problems_of({fixture: fixture_bytes(fixture)})

    matching = [p for p in problems if fragment in p.message]
    assert matching, problems
    assert (matching[0].file, matching[0].element_id, matching[0].line) == (
        file,
        element_id,
        line_of(fixture, needle),
    )


@pytest.mark.parametrize(
    ("file", "element_id", "line", "fragment"), FORM_FAULTS["form_problems.bpmn"]
)
def test_form_file_faults_name_the_form(
    file: str, element_id: str | None, line: int | None, fragment: str
) -> None:
    problems = problems_of({"form_problems.bpmn": fixture_bytes("form_problems.bpmn")})

    matching = [p for p in problems if p.file == file]
    assert len(matching) == 1, problems
    assert (matching[0].element_id, matching[0].line) == (element_id, line)
    assert fragment in matching[0].message


def _expected_by_fixture() -> dict[str, set[tuple[str, str | None, int | None]]]:
    expected: dict[str, set[tuple[str, str | None, int | None]]] = defaultdict(set)
    for fixture, file, element_id, needle, _ in FAULTS:
        expected[fixture].add((file, element_id, line_of(fixture, needle)))
    for fixture, faults in FORM_FAULTS.items():
        expected[fixture].update((file, element_id, line) for file, element_id, line, _ in faults)
    return expected


@pytest.mark.parametrize("fixture", sorted({f[0] for f in FAULTS}))
def test_broken_fixtures_report_nothing_else(fixture: str) -> None:
    problems = problems_of({fixture: fixture_bytes(fixture)})

    assert {(p.file, p.element_id, p.line) for p in problems} == _expected_by_fixture()[fixture]
    assert len(problems) == len(_expected_by_fixture()[fixture])


def test_a_diagram_with_several_faults_reports_all_of_them() -> None:
    name = "several_faults.bpmn"

    problems = problems_of({name: fixture_bytes(name)})

    assert [(p.element_id, p.line) for p in problems] == [
        ("lane_volunteer", line_of(name, 'id="lane_volunteer"')),
        ("visit", line_of(name, "visit.schema.json")),
        ("wait", line_of(name, ">P1W<")),
        ("flow_revisit", line_of(name, "needs_visit and")),
        ("flow_wait_visit", line_of(name, 'id="flow_wait_visit"')),
    ]
    assert "Volunteer" in problems[0].message
    assert "loops back to 'Home visit' (visit)" in problems[-1].message


@pytest.mark.parametrize("name", ["billion_laughs.bpmn", "xxe.bpmn"])
def test_doctype_bombs_are_refused(name: str) -> None:
    [problem] = problems_of({name: fixture_bytes(name)})

    assert problem.file == name
    assert "DOCTYPE" in problem.message


def test_problems_are_gathered_over_all_files_and_nothing_partial_is_returned() -> None:
    files = {
        name: fixture_bytes(name)
        for name in ("care_flow.bpmn", "crisis.bpmn", "triage.dmn", "malformed.bpmn")
    }
    files["lanes.bpmn"] = fixture_bytes("lane_problems.bpmn")

    problems = problems_of(files)

    assert {p.file for p in problems} == {"malformed.bpmn", "lanes.bpmn"}


def test_process_ids_must_be_unique_across_files() -> None:
    files = {"crisis.bpmn": fixture_bytes("crisis.bpmn"), "copy.bpmn": fixture_bytes("crisis.bpmn")}

    [problem] = problems_of(files)

    assert (problem.file, problem.element_id) == ("copy.bpmn", "crisis_intervention")
    assert problem.line == line_of("crisis.bpmn", '<bpmn:process id="crisis_intervention"')
    assert "also defined in crisis.bpmn" in problem.message


def test_a_fault_in_a_called_library_process_fails_the_deploy() -> None:
    library = care_library()
    library["crisis.bpmn"] = library["crisis.bpmn"].replace(b'name="Nurse"', b'name="Porter"')

    [problem] = problems_of({"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}, library=library)

    assert (problem.file, problem.element_id) == ("crisis.bpmn", "lane_nurse")


def test_an_unreadable_library_file_only_matters_when_needed() -> None:
    library = care_library() | {"malformed.bpmn": fixture_bytes("malformed.bpmn")}

    [bundle] = prepare(
        {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}, library=library, forms=FORMS
    )
    [problem] = problems_of({"unresolved.bpmn": fixture_bytes("unresolved.bpmn")}, library=library)[
        :1
    ]

    assert "malformed.bpmn" not in bundle.files
    assert "unreadable library files: malformed.bpmn" in problem.message


def test_call_to_a_non_executable_process_is_a_problem() -> None:
    library = care_library()
    library["crisis.bpmn"] = library["crisis.bpmn"].replace(
        b'isExecutable="true"', b'isExecutable="false"'
    )

    [problem] = problems_of({"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}, library=library)

    assert problem.element_id == "crisis"
    assert "which is not executable" in problem.message


def test_a_dmn_file_spiffworkflow_cannot_use_is_a_problem() -> None:
    text = fixture_text("triage.dmn")
    decision = text[text.index("  <decision ") : text.index("</definitions>")]
    second = decision.replace(' id="', ' id="other_')
    files = {"triage.dmn": text.replace("</definitions>", second + "</definitions>").encode()}

    [problem] = problems_of(files)

    assert (problem.file, problem.element_id) == ("triage.dmn", "other_triage_level")
    assert problem.line == len(text[: text.index("</definitions>")].splitlines()) + 1
    assert "only one decision" in problem.message


def test_a_dmn_table_spiffworkflow_rejects_is_reported_at_its_entry() -> None:
    text = fixture_text("triage.dmn").replace('<text>"high"</text>', '<text>"high</text>')

    [problem] = problems_of({"triage.dmn": text.encode()})

    assert (problem.file, problem.element_id) == ("triage.dmn", "rule_high_risk")
    assert problem.line == line_of("triage.dmn", 'id="rule_high_risk"')
    assert problem.message.startswith("Malformed Output Expression")


# ---------------------------------------------------------------- expressions -----


def test_a_custom_expression_checker_sees_every_expression_with_its_mode() -> None:
    seen: list[tuple[str, str]] = []

    def checker(source: str, mode: str) -> str | None:
        seen.append((source, mode))
        return "refused" if "plan_ready" in source else None

    files = {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}
    [problem] = problems_of(files, library=care_library(), check_expression=checker)

    # Quoted timer literals are checked as ISO-8601 values, not handed to the sandbox.
    assert sorted(seen) == [("plan_ready = True", "exec"), ('risk == "high"', "eval")]
    assert (problem.element_id, problem.message) == (
        "plan",
        "script does not compile in the sandbox: refused",
    )


def test_the_sandbox_module_is_the_default_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def check_source(source: str, *, mode: str) -> str | None:
        calls.append((source, mode))
        return None

    fake = types.ModuleType("engine.workflow.scripting")
    fake.check_source = check_source  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "engine.workflow.scripting", fake)

    prepare(
        {"care_flow.bpmn": fixture_bytes("care_flow.bpmn")}, library=care_library(), forms=FORMS
    )

    assert ("plan_ready = True", "exec") in calls


@pytest.mark.parametrize(
    ("source", "mode", "ok"),
    [
        ("x is 1", "eval", True),  # a SyntaxWarning, not an error (and no warning escapes)
        ("  risk == 'high'  ", "eval", True),
        ("a = 1\nb = a + 1", "exec", True),
        ("open('/etc/passwd')", "eval", True),  # names are the runtime allow-list's job
        ("().__class__", "eval", False),
        ("x ==", "eval", False),
        ("a = \0", "exec", False),
    ],
)
def test_restricted_fallback(source: str, mode: str, ok: bool) -> None:
    assert (preflight._restricted_check(source, mode) is None) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("PT24H", True),
        ("P2D", True),
        ("P1W", True),
        ("PT0.5H", True),
        ("P1Y2M3DT4H5M6S", True),
        ("P", False),
        ("PT", False),
        ("24H", False),
        ("PT24X", False),
        ("P1W2D", False),
        ("24 hours", False),
    ],
)
def test_duration_error(text: str, ok: bool) -> None:
    assert (duration_error(text) is None) is ok
