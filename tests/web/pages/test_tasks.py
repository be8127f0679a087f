"""The task page: instructions, the server-rendered form, validation, completion, conflicts,
and who may claim, complete and reassign."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import AuditEvent, AuditTag
from engine.inbox.models import HumanTask
from tests import factories
from tests.web.pages.forms_data import ASSESSMENT, HIGH_RISK, INTAKE


def _open_tasks(session, case_id: int) -> list[HumanTask]:
    session.expire_all()
    return list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.case_id == case_id, HumanTask.status == "open")
            .order_by(HumanTask.id)
        )
    )


def test_task_page_shows_instructions_and_the_form(worker, as_user, open_case) -> None:
    case_id, task = open_case(worker)
    html = as_user(worker).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f"<h3>Intake: case {case_id}</h3>" in html  # Jinja-rendered from task data
    assert '<label for="f-referral_date">Date of referral' in html
    assert 'type="date"' in html
    assert '<select id="f-referral_source" name="referral_source"' in html
    assert 'name="csrf_token"' in html
    assert 'class="req"' in html
    assert "Rosa Diaz" in html


def test_viewing_a_task_is_audited(session, worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    as_user(worker).get(f"/tasks/{task.id}")
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.id))
    assert AuditTag.TASK_VIEWED.value in list(actions)


def test_an_invalid_submission_shows_errors_beside_fields_and_keeps_input(
    session, worker, as_user, open_case
) -> None:
    case_id, task = open_case(worker)
    posted = {**INTAKE, "referral_date": "", "emergency_contact_phone": "call me maybe"}
    response = as_user(worker).post(f"/tasks/{task.id}", data=posted)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-referral_date-error"' in html
    assert "Date of referral is required." in html  # names the field and the rule
    assert 'id="f-emergency_contact_phone-error"' in html
    assert 'value="call me maybe"' in html  # the input is kept as typed
    assert 'value="English"' in html
    assert 'value="client" checked' in html
    assert "2 answers need attention" in html
    assert _open_tasks(session, case_id)[0].id == task.id  # nothing completed


def test_completing_goes_back_to_the_inbox_naming_the_next_step(
    session, worker, as_user, open_case
) -> None:
    case_id, task = open_case(worker)
    client = as_user(worker)
    response = client.post(f"/tasks/{task.id}", data=INTAKE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "Intake completed. Next: Psychosocial assessment, with Alex Rivera" in html
    [next_task] = _open_tasks(session, case_id)
    assert next_task.bpmn_id == "assessment"


def test_the_assessment_form_renders_instruments_as_fieldsets(worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    client = as_user(worker)
    client.post(f"/tasks/{task.id}", data=INTAKE)
    assessment = client.get("/").get_data(as_text=True)
    start = assessment.index('href="/tasks/') + len('href="/tasks/')
    task_id = int(assessment[start : assessment.index('"', start)])
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'name="cssrs.q1"' in html
    assert "Wished you were dead or could go to sleep and not wake up" in html
    assert 'data-show-when="cssrs.q2" data-show-values="[&#34;true&#34;]"' in html  # C-SSRS 3-5
    assert "Little interest or pleasure in doing things" in html
    assert 'name="ahc_hrsn.q2" value="mold"' in html
    assert "Nearly every day" in html


def _to_assessment(session, worker, as_user, open_case):  # returns (client, case id, task)
    case_id, task = open_case(worker)
    client = as_user(worker)
    client.post(f"/tasks/{task.id}", data=INTAKE)
    [assessment] = _open_tasks(session, case_id)
    return client, case_id, assessment


def test_a_negative_screen_leads_to_the_care_plan(session, worker, as_user, open_case) -> None:
    client, case_id, assessment = _to_assessment(session, worker, as_user, open_case)
    response = client.post(f"/tasks/{assessment.id}", data=ASSESSMENT)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Next: Care plan, with Alex Rivera" in client.get("/").get_data(as_text=True)


def test_a_high_risk_screen_names_every_new_task_and_its_holder(
    session, worker, as_user, open_case
) -> None:
    client, _, assessment = _to_assessment(session, worker, as_user, open_case)
    client.post(f"/tasks/{assessment.id}", data=HIGH_RISK)
    notice = client.get("/").get_data(as_text=True)
    assert "Psychosocial assessment completed. Next: " in notice
    assert "Safety precautions, in the Nurse queue" in notice  # the parallel nurse task


def test_a_missing_screening_answer_is_reported_on_its_item(
    session, worker, as_user, open_case
) -> None:
    client, _, assessment = _to_assessment(session, worker, as_user, open_case)
    posted = {k: v for k, v in ASSESSMENT.items() if k != "cssrs.q1"}
    response = client.post(f"/tasks/{assessment.id}", data=posted)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-cssrs-q1-error"' in html
    assert 'value="bedside" checked' in html


def test_a_positive_phq2_requires_the_phq9(session, worker, as_user, open_case) -> None:
    client, _, assessment = _to_assessment(session, worker, as_user, open_case)
    response = client.post(
        f"/tasks/{assessment.id}", data={**ASSESSMENT, "phq2.q1": "2", "phq2.q2": "2"}
    )
    assert response.status_code == 422
    assert "complete the full PHQ-9" in response.get_data(as_text=True)


def test_a_second_completion_gets_a_clear_conflict(session, worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    first, second = as_user(worker), as_user(worker)
    assert first.post(f"/tasks/{task.id}", data=INTAKE).status_code == 302
    response = second.post(f"/tasks/{task.id}", data=INTAKE)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else completed this task before you submitted" in html
    assert "Traceback" not in html
    assert "completed</strong> by Alex Rivera" in html


def test_a_nurse_cannot_open_or_complete_a_social_work_task(worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    nurse = as_user(factories.NurseFactory())
    assert nurse.get(f"/tasks/{task.id}").status_code == 403
    assert nurse.post(f"/tasks/{task.id}", data=INTAKE).status_code == 403


def test_a_colleague_on_the_care_team_can_read_but_not_complete_a_held_task(
    worker, as_user, open_case
) -> None:
    case_id, task = open_case(worker)
    member = factories.SocialWorkerFactory()
    factories.CareTeamMemberFactory(case_id=case_id, user_id=member.id)
    colleague = as_user(member)
    html = colleague.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Alex Rivera holds this task" in html
    assert 'id="task-form"' not in html
    assert colleague.post(f"/tasks/{task.id}", data=INTAKE).status_code == 403


def test_a_colleague_of_the_role_off_the_care_team_cannot_read_a_held_task(
    worker, as_user, open_case
) -> None:
    _, task = open_case(worker)
    colleague = as_user(factories.SocialWorkerFactory())
    assert colleague.get(f"/tasks/{task.id}").status_code == 403


def test_a_supervisor_reassigns_to_a_user_with_the_role(
    session, worker, as_user, open_case
) -> None:
    _, task = open_case(worker)
    sam = factories.SocialWorkerFactory(username="sam", display_name="Sam Lee")
    supervisor = as_user(factories.SupervisorFactory())
    html = supervisor.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '<option value="sam"' in html
    response = supervisor.post(f"/tasks/{task.id}/assign", data={"user": "sam"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id == sam.id
    assert "is now with Sam Lee" in supervisor.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_reassigning_to_someone_without_the_role_is_explained(as_user, worker, open_case) -> None:
    _, task = open_case(worker)
    nurse = factories.NurseFactory(username="kim")
    supervisor = as_user(factories.SupervisorFactory())
    response = supervisor.post(f"/tasks/{task.id}/assign", data={"user": nurse.username})
    assert response.status_code == 302
    assert "does not have the role" in supervisor.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_a_worker_cannot_reassign_a_colleagues_task(worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    colleague = as_user(factories.SocialWorkerFactory(username="sam"))
    assert colleague.post(f"/tasks/{task.id}/assign", data={"user": "sam"}).status_code == 403


@pytest.mark.parametrize("path", ["/tasks/999999", "/tasks/999999/claim"])
def test_unknown_tasks_are_not_found(worker, as_user, path) -> None:
    client = as_user(worker)
    response = client.get(path) if path.endswith("999") else client.post(path)
    assert response.status_code == 404
