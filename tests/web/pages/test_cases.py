"""Cases: opening one (which starts the pathway), the list, and the case page (audited)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import AuditEvent, AuditTag
from engine.cases.models import Case, Client
from tests import factories

NEW_CASE = {
    "client.given_name": "Rosa",
    "client.family_name": "Diaz",
    "client.birth_date": "1958-04-02",
    "client.mrn": "MRN-4411",
    "client.preferred_language": "Spanish",
    "reason": "Lives alone; daughter worried about discharge.",
}


def test_new_case_form_is_labelled(worker, as_user) -> None:
    html = as_user(worker).get("/cases/new").get_data(as_text=True)
    assert '<label for="f-client-given_name">Given name' in html
    assert 'type="date"' in html
    assert '<label for="f-reason">Reason for referral' in html


def test_opening_a_case_starts_the_pathway(session, worker, as_user) -> None:
    client = as_user(worker)
    response = client.post("/cases/new", data=NEW_CASE)
    assert response.status_code == 302
    case = session.scalar(select(Case).join(Client).where(Client.mrn == "MRN-4411"))
    assert response.headers["Location"] == f"/cases/{case.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Case opened for Rosa Diaz. Next: Intake, with Alex Rivera" in html
    assert "Intake" in html


def test_invalid_case_input_is_shown_beside_the_fields_and_kept(worker, as_user) -> None:
    posted = {**NEW_CASE, "client.family_name": "", "client.birth_date": "2999-01-01", "reason": ""}
    response = as_user(worker).post("/cases/new", data=posted)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-client-family_name-error"' in html
    assert "Cannot be in the future." in html
    assert 'id="f-reason-error"' in html
    assert 'value="Rosa"' in html
    assert 'value="Spanish"' in html


def test_an_mrn_of_another_client_is_a_conflict_on_the_mrn_field(worker, as_user) -> None:
    factories.ClientFactory(mrn="MRN-9", family_name="Other")
    response = as_user(worker).post("/cases/new", data={**NEW_CASE, "client.mrn": "MRN-9"})
    assert response.status_code == 409
    assert 'id="f-client-mrn-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_admins_do_not_open_cases(as_user, method) -> None:
    client = as_user(factories.AdminFactory())
    assert getattr(client, method)("/cases/new").status_code == 403


def test_case_list_and_search(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    open_case(worker, given_name="Mehmet", family_name="Yilmaz")
    client = as_user(worker)
    html = client.get("/cases").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in html
    assert "Mehmet Yilmaz" in html
    html = client.get("/cases?q=diaz").get_data(as_text=True)
    assert "Rosa Diaz" in html
    assert "Mehmet Yilmaz" not in html


def test_case_page_shows_header_team_tasks_timeline_and_pathway(worker, as_user, open_case) -> None:
    case_id, task = open_case(worker)
    html = as_user(worker).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<h1>Rosa Diaz" in html
    assert "Discharge planning" in html
    assert "Primary social worker" in html
    assert f'href="/tasks/{task.id}"' in html
    assert "Pathway started" in html
    assert "Task created" in html
    assert "Care pathway" in html
    assert "step-active" in html  # intake marked as the current step in the list
    assert 'data-src="/instances/' in html or "Referral received" in html


def test_each_case_view_writes_an_audit_row(session, worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    client.get(f"/cases/{case_id}")
    client.get(f"/cases/{case_id}")
    views = session.scalars(
        select(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == AuditTag.CASE_VIEWED.value
        )
    ).all()
    assert len(views) == 2
    assert {v.actor_id for v in views} == {worker.id}


def test_do_not_contact_shows_a_banner_and_withholds_the_phone(
    session, worker, as_user, open_case
) -> None:
    case_id, _ = open_case(worker, phone="555-0100")
    session.get(Case, case_id).client.do_not_contact = True
    session.flush()
    html = as_user(worker).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "banner-danger" in html
    assert "Do not contact." in html
    assert "555-0100" not in html


def test_unknown_case_is_not_found(worker, as_user) -> None:
    assert as_user(worker).get("/cases/424242").status_code == 404


def test_diagram_json_carries_xml_and_markers(session, worker, as_user, open_case) -> None:
    case_id, task = open_case(worker)
    data = as_user(worker).get(f"/instances/{task.instance_id}/diagram.json").get_json()
    assert data["diagrams"][0]["name"] == "care_pathway.bpmn"
    assert data["diagrams"][0]["xml"].lstrip().startswith("<?xml")
    assert "intake" in data["markers"]["active"]
    assert "start" in data["markers"]["completed"]
    assert "care_plan_cycle.bpmn" in [d["name"] for d in data["diagrams"][1:]]


def test_step_list_replaces_the_diagram_without_bpmn_js(
    worker, as_user, open_case, monkeypatch
) -> None:
    from web.pages import common

    monkeypatch.setattr(common, "BPMN_JS", common.Path("vendor/missing.js"))
    case_id, _ = open_case(worker)
    html = as_user(worker).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "bpmn-navigated-viewer" not in html
    assert 'class="diagram"' not in html
    assert '<ol class="steps">' in html
    steps = html[html.index('<ol class="steps">') :]
    assert steps.index("Referral received") < steps.index("Intake") < steps.index("Close case")


def test_every_audit_tag_has_a_timeline_label() -> None:
    from engine.audit import AuditTag
    from web.pages.cases import ACTION_LABELS

    assert set(AuditTag) <= set(ACTION_LABELS)


def test_the_case_page_shows_the_discharge(session, worker, as_user, clock) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from engine import instances

    client = as_user(worker)
    response = client.post("/cases/new", data=NEW_CASE)
    case = session.scalar(select(Case).join(Client).where(Client.mrn == "MRN-4411"))
    at = datetime(2026, 3, 2, 3, 0, tzinfo=ZoneInfo("America/New_York"))
    instances.deliver_message(
        session,
        name="discharge",
        case_id=case.id,
        payload={"discharged_at": at.isoformat(), "disposition": "home_health"},
        actor=None,
        clock=clock,
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<dt>Discharged</dt>" in html
    assert "(home health)" in html


def test_a_worker_sets_do_not_contact_from_the_case_page(
    session, worker, as_user, open_case
) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Set do not contact" in html
    response = client.post(
        f"/cases/{case_id}/do-not-contact", data={"value": "set", "reason": "Partner threatens."}
    )
    assert response.status_code == 302
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Do not contact set" in html
    assert "Plan safe contact" in html
    session.expire_all()
    assert session.get(Case, case_id).client.do_not_contact is True
    assert "Remove do not contact" not in html  # a supervisor's decision


def test_a_reason_is_required_and_removal_is_for_a_supervisor(
    session, worker, as_user, open_case
) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    client.post(f"/cases/{case_id}/do-not-contact", data={"value": "set", "reason": ""})
    session.expire_all()
    assert session.get(Case, case_id).client.do_not_contact is False
    client.post(f"/cases/{case_id}/do-not-contact", data={"value": "set", "reason": "Unsafe."})
    client.post(f"/cases/{case_id}/do-not-contact", data={"value": "remove", "reason": "Moved."})
    session.expire_all()
    assert session.get(Case, case_id).client.do_not_contact is True
    supervisor = as_user(factories.SupervisorFactory())
    assert "Remove do not contact" in supervisor.get(f"/cases/{case_id}").get_data(as_text=True)
    supervisor.post(
        f"/cases/{case_id}/do-not-contact", data={"value": "remove", "reason": "Moved."}
    )
    session.expire_all()
    assert session.get(Case, case_id).client.do_not_contact is False
