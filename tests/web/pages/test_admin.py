"""Process administration: admins only; list, upload (errors or version N+1), download."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.definitions.models import ProcessDefinition
from engine.settings import ROOT
from tests import factories

PATHWAY = (ROOT / "processes" / "care_pathway.bpmn").read_bytes()
SCREENING = (ROOT / "processes" / "screening_response.bpmn").read_bytes()
# The first gateway condition of the shipped screening response, made unparseable.
_FLOW = re.search(
    rb'<bpmn:sequenceFlow id="([^"]+)"[^>]*>\s*<bpmn:conditionExpression[^>]*>([^<]+)<', SCREENING
)
assert _FLOW is not None
BROKEN_FLOW = _FLOW.group(1).decode()
BROKEN = SCREENING.replace(_FLOW.group(2), b"risk == = 'high'", 1)
CHANGED = PATHWAY.replace(
    b'name="Care pathway" isExecutable', b'name="Care pathway (revised)" isExecutable'
)


@pytest.fixture
def admin(as_user):
    return as_user(factories.AdminFactory())


def _upload(client, name: str, data: bytes, forms: dict[str, bytes] | None = None):
    payload: dict = {"bpmn": [(io.BytesIO(data), name)]}
    if forms:
        payload["forms"] = [(io.BytesIO(v), k) for k, v in forms.items()]
    return client.post("/admin/processes", data=payload, content_type="multipart/form-data")


def _latest(session, key: str = "care_pathway") -> int:
    return session.scalar(
        select(ProcessDefinition.version)
        .where(ProcessDefinition.process_key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


@pytest.mark.parametrize(
    "factory",
    [factories.SocialWorkerFactory, factories.NurseFactory, factories.SupervisorFactory],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/processes"),
        ("post", "/admin/processes"),
        ("get", "/admin/processes/1"),
        ("get", "/admin/processes/1/download"),
    ],
)
def test_only_admins_reach_admin_pages(as_user, factory, method, path) -> None:
    client = as_user(factory())
    assert getattr(client, method)(path).status_code == 403


def test_list_shows_versions_and_running_instances(admin, worker, open_case, session) -> None:
    open_case(worker)
    html = admin.get("/admin/processes").get_data(as_text=True)
    assert "<code>care_pathway</code>" in html
    assert "1 running instance" in html
    assert "Download XML" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_broken_diagram_shows_element_line_and_stores_nothing(admin, session) -> None:
    before = _latest(session, "screening_response")
    response = _upload(admin, "screening_response.bpmn", BROKEN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not deployed" in html
    assert f"<code>{BROKEN_FLOW}</code>" in html
    line = BROKEN[: BROKEN.index(b"== =")].count(b"\n")  # the flow element starts a line above
    assert f"<td>{line}</td>" in html or f"<td>{line + 1}</td>" in html
    assert f'"error": ["{BROKEN_FLOW}"]' in html  # the failing element is marked in the drawing
    assert _latest(session, "screening_response") == before


def test_malformed_xml_is_reported_with_its_line(admin) -> None:
    response = _upload(admin, "broken.bpmn", b"<?xml version='1.0'?>\n<bpmn:definitions>\n<oops")
    assert response.status_code == 422
    assert "malformed XML" in response.get_data(as_text=True)


def test_a_changed_diagram_becomes_the_next_version(admin, session) -> None:
    before = _latest(session)
    response = _upload(admin, "care_pathway.bpmn", CHANGED)
    assert response.status_code == 302
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert f"care_pathway: version {before + 1} deployed." in html
    assert _latest(session) == before + 1


def test_an_identical_diagram_changes_nothing(admin, session) -> None:
    before = _latest(session)
    response = _upload(admin, "care_pathway.bpmn", PATHWAY)
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert f"unchanged, identical to version {before}" in html
    assert _latest(session) == before


def test_uploaded_forms_are_used(admin, session) -> None:
    intake = (ROOT / "forms" / "intake.schema.json").read_text()
    changed = intake.replace('"title": "Social work intake"', '"title": "Intake (site form)"')
    response = _upload(
        admin, "care_pathway.bpmn", PATHWAY, {"intake.schema.json": changed.encode()}
    )
    assert response.status_code == 302
    latest = session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_key == "care_pathway")
        .order_by(ProcessDefinition.version.desc())
    ).first()
    assert latest.forms["intake.schema.json"]["title"] == "Intake (site form)"


def test_only_diagram_files_are_accepted(admin) -> None:
    response = _upload(admin, "notes.txt", b"hello")
    assert response.status_code == 302
    assert "Only .bpmn/.dmn" in admin.get("/admin/processes").get_data(as_text=True)


def test_download_returns_the_exact_xml(admin, session) -> None:
    definition_id = session.scalar(
        select(ProcessDefinition.id).where(ProcessDefinition.process_key == "care_pathway").limit(1)
    )
    response = admin.get(f"/admin/processes/{definition_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data() == PATHWAY


def test_a_version_page_lists_its_steps(admin, session) -> None:
    definition_id = session.scalar(
        select(ProcessDefinition.id).where(ProcessDefinition.process_key == "care_pathway").limit(1)
    )
    html = admin.get(f"/admin/processes/{definition_id}").get_data(as_text=True)
    assert "Psychosocial assessment" in html
    assert ">assessment</code>" in html


def test_a_new_version_may_come_under_another_file_name(admin, session) -> None:
    before = _latest(session)
    response = _upload(admin, "pathway-site-copy.bpmn", CHANGED)
    assert response.status_code == 302
    assert _latest(session) == before + 1
