"""The process studio's checks: POST /process-definitions/validate, drafts, imports from
other modelers (encodings, Camunda exports) and who may use them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.factories import UserFactory
from tests.web.api.test_definitions import FORM, diagram

FIXTURES = Path(__file__).parents[2] / "fixtures" / "studio"
PHONE_FORM = ("api_phone_call.schema.json", FORM)


@pytest.fixture
def designer(api, api_as):  # type: ignore[no-untyped-def]
    api.headers["designer"] = api_as(UserFactory(username="dana", role_keys=("process_designer",)))
    return "designer"


def post_files(api, url, bpmn, who="admin", forms=(PHONE_FORM,), comment=None):  # type: ignore[no-untyped-def]
    data = {
        "bpmn": [(io.BytesIO(content), name) for name, content in bpmn],
        "forms": [(io.BytesIO(content), name) for name, content in forms],
    }
    if comment is not None:
        data["comment"] = comment
    return api.client.post(url, data=data, headers=api.as_(who), content_type="multipart/form-data")


def validate(api, bpmn, who="admin", forms=(PHONE_FORM,)):  # type: ignore[no-untyped-def]
    return post_files(api, "/api/v1/process-definitions/validate", bpmn, who, forms)


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


# ---------------------------------------------------------------- validate ----------
def test_validate_of_a_good_diagram_lists_no_errors(api):
    resp = validate(api, [("api_phone_call.bpmn", diagram())])
    assert resp.status_code == 200
    assert [p for p in resp.get_json()["problems"] if p["severity"] == "error"] == []


def test_validate_stores_nothing(api):
    validate(api, [("api_phone_call.bpmn", diagram())])
    keys = {
        d["process_key"] for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
    }
    assert "api_phone_call" not in keys


def test_validate_reports_a_broken_condition_on_its_element_with_severity(api):
    resp = validate(api, [("api_phone_call.bpmn", diagram(condition="reached ==="))])
    [problem] = [p for p in resp.get_json()["problems"] if p["severity"] == "error"]
    assert problem["element_id"] == "flow_condition"
    assert isinstance(problem["line"], int)
    assert set(problem) >= {"element_id", "line", "message", "severity"}


def test_validate_reports_warnings_as_warnings(api):
    resp = validate(api, [fixture("latin1_call.bpmn")], forms=())
    problems = resp.get_json()["problems"]
    assert all(p["severity"] in ("error", "warning") for p in problems)
    assert [p for p in problems if p["severity"] == "error"] == []


def test_a_camunda_export_lists_every_problem_on_its_element(api):
    resp = validate(api, [fixture("camunda_export.bpmn")], forms=())
    assert resp.status_code == 200
    by_element = {p["element_id"]: p["message"] for p in resp.get_json()["problems"]}
    assert "choose a role" in by_element["Task_call"]
    assert '"PT24H"' in by_element["Timer_wait"]


def test_problem_messages_never_show_object_reprs(api):
    resp = validate(api, [fixture("data_association.bpmn")], forms=())
    messages = [p["message"] for p in resp.get_json()["problems"]]
    assert messages
    assert not any("<Element" in m or " at 0x" in m for m in messages)
    assert any("letter_ref" in m for m in messages)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("latin1_call.bpmn", "latin_call"),
        ("utf16_call.bpmn", "utf16_call"),
        ("ascii_call.bpmn", "ascii_call"),
    ],
)
def test_deploy_accepts_the_encoding_the_declaration_names(api, name, key):
    resp = post_files(api, "/api/v1/process-definitions", [fixture(name)], forms=())
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["created"] == [key]


def test_a_latin1_diagram_keeps_its_accented_names(api):
    post_files(api, "/api/v1/process-definitions", [fixture("latin1_call.bpmn")], forms=())
    row = next(
        d
        for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
        if d["process_key"] == "latin_call"
    )
    assert row["name"] == "Appel téléphonique"


def test_validate_lists_a_wrong_file_kind_as_a_problem(api):
    resp = validate(api, [("notes.txt", b"hello")], forms=())
    assert resp.status_code == 200
    [problem] = resp.get_json()["problems"]
    assert problem["severity"] == "error"
    assert problem["element_id"] is None


def test_validate_is_for_designers_only(api):
    assert validate(api, [("api_phone_call.bpmn", diagram())], who="sw").status_code == 403


def test_a_process_designer_may_validate_and_deploy(api, designer):
    assert validate(api, [("api_phone_call.bpmn", diagram())], who=designer).status_code == 200
    resp = post_files(
        api, "/api/v1/process-definitions", [("api_phone_call.bpmn", diagram())], who=designer
    )
    assert resp.status_code == 201


def test_a_deploy_comment_shows_in_the_version_list(api):
    post_files(
        api,
        "/api/v1/process-definitions",
        [("api_phone_call.bpmn", diagram())],
        comment="Adds the phone call",
    )
    row = next(
        d
        for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
        if d["process_key"] == "api_phone_call"
    )
    assert row["comment"] == "Adds the phone call"
    assert row["current"] is True


# ---------------------------------------------------------------- drafts ------------
def put_draft(api, who="admin", **body):  # type: ignore[no-untyped-def]
    body.setdefault("bpmn", diagram().decode())
    return api.client.put("/api/v1/process-drafts/api_phone_call", json=body, headers=api.as_(who))


def test_a_missing_draft_is_404(api):
    assert api.get("/api/v1/process-drafts/api_phone_call", "admin").status_code == 404


def test_saving_a_draft_returns_who_and_when_and_its_problems(api, clock):
    resp = put_draft(api, forms={"api_phone_call.schema.json": FORM.decode()}, comment="wip")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["key"] == "api_phone_call"
    assert body["updated_by"] == "admin"
    assert body["updated_at"] == clock.now().isoformat()
    assert [p for p in body["problems"] if p["severity"] == "error"] == []


def test_another_designer_sees_who_changed_the_draft_last(api, designer):
    put_draft(api, who="admin")
    put_draft(api, who=designer, bpmn=diagram(task_name="Phone her").decode())
    body = api.get("/api/v1/process-drafts/api_phone_call", "admin").get_json()
    assert body["updated_by"] == "dana"
    assert "Phone her" in body["bpmn"]


def test_a_draft_with_a_broken_condition_is_saved_with_its_problem(api):
    resp = put_draft(api, bpmn=diagram(condition="reached ===").decode())
    assert resp.status_code == 200
    assert any(p["element_id"] == "flow_condition" for p in resp.get_json()["problems"])


def test_a_draft_is_not_deployed(api):
    put_draft(api)
    keys = {
        d["process_key"] for d in api.get("/api/v1/process-definitions").get_json()["definitions"]
    }
    assert "api_phone_call" not in keys


def test_a_draft_without_bpmn_is_422(api):
    resp = api.client.put("/api/v1/process-drafts/x", json={}, headers=api.as_("admin"))
    assert resp.status_code == 422


def test_drafts_are_for_designers_only(api):
    assert put_draft(api, who="sw").status_code == 403
