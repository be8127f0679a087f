"""The record on the pages: the caseload page, the supervisors' overview, notes, contacts
and the handoff banner on the case page."""

from __future__ import annotations

from tests import factories


def test_the_caseload_page_lists_the_workers_open_cases(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker, given_name="Rosa")
    html = as_user(worker).get("/caseload").get_data(as_text=True)
    assert "My caseload" in html
    assert f'href="/cases/{case_id}"' in html
    assert "Rosa Diaz" in html


def test_the_caseload_page_sorts_by_client(worker, as_user, open_case) -> None:
    open_case(worker, given_name="Zoe", family_name="Young")
    open_case(worker, given_name="Ana", family_name="Abel")
    html = as_user(worker).get("/caseload?sort=client").get_data(as_text=True)
    assert html.index("Ana Abel") < html.index("Zoe Young")


def test_a_worker_cannot_open_another_workers_caseload_page(worker, as_user) -> None:
    other = factories.SocialWorkerFactory(username="sam")
    assert as_user(worker).get("/caseload?user=sam").status_code == 403
    assert as_user(other).get("/caseload").status_code == 200


def test_the_team_page_shows_each_workers_counts(worker, as_user, open_case) -> None:
    open_case(worker)
    supervisor = factories.SupervisorFactory()
    html = as_user(supervisor).get("/caseload/team").get_data(as_text=True)
    assert "Alex Rivera" in html
    assert "<td>1</td>" in html


def test_a_note_written_on_the_case_page_is_shown_there(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    form = {"type": "family_meeting", "body": "Met with the daughter about going home."}
    response = client.post(f"/cases/{case_id}/notes", data=form)
    assert response.status_code == 302
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Met with the daughter about going home." in html
    assert "Family meeting" in html


def test_an_invalid_note_is_flashed_naming_the_field(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    client.post(f"/cases/{case_id}/notes", data={"type": "other", "body": ""})
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "body: This field is required." in html


def test_a_contact_without_consent_is_marked_on_the_case_page(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    form = {"name": "Lena Diaz", "relationship": "child", "interpreter_needed": "1"}
    assert client.post(f"/cases/{case_id}/contacts", data=form).status_code == 302
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Lena Diaz" in html
    assert "No consent to share" in html
    assert "Interpreter needed" in html


def test_the_new_worker_sees_the_handoff_note_first(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    sam = factories.SocialWorkerFactory(username="sam", display_name="Sam Okafor")
    supervisor = factories.SupervisorFactory()
    form = {"user": "sam", "note": "Daughter is the key contact."}
    assert (
        as_user(supervisor).post(f"/cases/{case_id}/primary-worker", data=form).status_code == 302
    )
    html = as_user(sam).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Daughter is the key contact." in html
    assert html.index("handoff-banner") < html.index("Open tasks")


def test_a_mentioned_nurse_marks_the_item_done_from_its_page(
    session, worker, as_user, open_case
) -> None:
    from sqlalchemy import select

    from engine.inbox.models import HumanTask

    case_id, _ = open_case(worker)
    nurse = factories.NurseFactory(username="kim")
    form = {"type": "family_meeting", "body": "Family agreed on home care. @kim please teach."}
    as_user(worker).post(f"/cases/{case_id}/notes", data=form)
    task = session.scalar(select(HumanTask).where(HumanTask.kind == "mention"))
    client = as_user(nurse)
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "You were mentioned in a note." in html
    assert client.post(f"/tasks/{task.id}", data={}).status_code == 302
    session.refresh(task)
    assert (task.status, task.completed_by_id) == ("completed", nurse.id)


def test_a_reassignment_on_the_task_page_carries_the_handoff_note(
    worker, as_user, open_case
) -> None:
    _, task = open_case(worker)
    sam = factories.SocialWorkerFactory(username="sam")
    form = {"user": "sam", "note": "Client prefers mornings."}
    assert as_user(worker).post(f"/tasks/{task.id}/assign", data=form).status_code == 302
    html = as_user(sam).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Handoff note:</strong> Client prefers mornings." in html
