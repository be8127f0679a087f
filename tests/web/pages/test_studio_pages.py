"""The process studio's pages: the editor opens a draft, a version or a blank process; the
comparison lists what changed; designers only edit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import audit, definitions
from engine.definitions import studio
from engine.settings import ROOT
from tests import factories


@pytest.fixture
def designer(as_user):  # type: ignore[no-untyped-def]
    return as_user(factories.UserFactory(role_keys=("process_designer",)))


def test_the_editor_opens_the_deployed_version_without_a_draft(designer, session):
    current = definitions.latest_definition(session, "care_pathway")
    page = designer.get("/admin/processes/care_pathway/edit")
    assert page.status_code == 200
    assert f"deployed version {current.version}" in page.get_data(as_text=True)


def test_the_editor_opens_the_draft_and_says_who_saved_it(designer, session, clock):
    author = factories.UserFactory(username="dana", role_keys=("process_designer",))
    studio.save_draft(
        session,
        "care_pathway",
        bpmn="<draft-marker/>",
        forms=None,
        comment=None,
        actor=audit.Actor(author.id, author.username),
        now=clock.now() - timedelta(minutes=5),
    )
    text = designer.get("/admin/processes/care_pathway/edit").get_data(as_text=True)
    assert "last saved by dana" in text
    assert "&lt;draft-marker/&gt;" in text


def test_a_new_process_opens_blank_with_a_social_worker_lane(designer):
    resp = designer.get("/admin/processes/new?key=home_visit")
    assert resp.status_code == 302
    text = designer.get(resp.headers["Location"]).get_data(as_text=True)
    assert "A new process" in text
    assert "Social Worker" in text


def test_a_bad_new_process_key_is_refused(designer):
    assert designer.get("/admin/processes/new?key=1%20bad").status_code == 400


def test_the_comparison_lists_the_changes(as_user, session, clock):
    viewer = as_user(factories.SocialWorkerFactory())
    old = definitions.latest_definition(session, "care_pathway")
    changed = old.bpmn_xml.replace(
        'name="Care pathway" isExecutable', 'name="Care pathway (revised)" isExecutable'
    )
    [result] = definitions.deploy(
        session,
        {old.main_file: changed.encode()},
        library={n: x.encode() for n, x in old.files.items()},
        forms=definitions.read_forms(ROOT / "forms"),
        instruments_dir=ROOT / "forms" / "instruments",
        now=clock.now(),
    )
    page = viewer.get(
        f"/admin/processes/care_pathway/compare?old={old.id}&new={result.definition.id}"
    )
    assert page.status_code == 200
    assert "changed <code>care_pathway</code>: name" in page.get_data(as_text=True)


def test_a_clinician_cannot_open_the_editor(as_user):
    sw = as_user(factories.SocialWorkerFactory())
    assert sw.get("/admin/processes/care_pathway/edit").status_code == 403
