"""The Acknowledge button (task page and inbox row) and the /admin/on-call page."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.oncall import OnCallShift
from tests import factories
from tests.engine.alarms.conftest import deploy_probe, stat_case


@pytest.fixture
def stat_task(session, clock, worker):
    supervisor = factories.SupervisorFactory(display_name="Morgan Lee")
    _, task = stat_case(session, clock, deploy_probe(session), worker)
    session.commit()
    return task, supervisor


def test_the_task_page_of_a_stat_task_offers_acknowledge(as_user, stat_task, worker):
    task, _ = stat_task
    page = as_user(worker).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "not acknowledged yet" in page
    assert f'action="/tasks/{task.id}/acknowledge"' in page


def test_acknowledging_from_the_page_records_who(as_user, stat_task, worker, session):
    task, _ = stat_task
    client = as_user(worker)
    resp = client.post(f"/tasks/{task.id}/acknowledge", data={"next": f"/tasks/{task.id}"})
    assert resp.status_code == 302
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Acknowledged</strong> by" in page
    assert f'action="/tasks/{task.id}/acknowledge"' not in page
    session.refresh(task)
    assert task.acknowledged_by_id == worker.id


def test_the_inbox_row_of_a_stat_task_has_the_button(as_user, stat_task):
    task, supervisor = stat_task
    page = as_user(supervisor).get("/").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/acknowledge"' in page


def test_someone_who_may_not_acknowledge_is_told_so(as_user, stat_task, session):
    task, _ = stat_task
    nurse = factories.NurseFactory()
    session.commit()
    client = as_user(nurse)
    client.post(f"/tasks/{task.id}/acknowledge")
    session.refresh(task)
    assert task.acknowledged_at is None


def test_the_rota_page_shows_gaps_and_adds_a_shift(as_user, session, clock, worker):
    supervisor = factories.SupervisorFactory()
    session.commit()
    client = as_user(supervisor)
    page = client.get("/admin/on-call").get_data(as_text=True)
    assert "Gaps in the next 14 days" in page
    assert page.count("<td>Social worker</td>") == 1  # one gap: the whole fortnight
    start = clock.now().astimezone(ZoneInfo(supervisor.timezone))  # the form is local time
    resp = client.post(
        "/admin/on-call",
        data={
            "role": "social_worker",
            "user": worker.username,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert resp.status_code == 302
    [shift] = session.scalars(select(OnCallShift)).all()
    assert shift.starts_at == clock.now()


def test_a_bad_shift_is_shown_back_with_the_field(as_user, session, worker):
    supervisor = factories.SupervisorFactory()
    session.commit()
    resp = as_user(supervisor).post(
        "/admin/on-call",
        data={
            "role": "physician",
            "user": worker.username,
            "starts_at": "2026-03-02T08:00",
            "ends_at": "2026-03-02T07:00",
        },
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#shift-user"' in page
    assert 'href="#shift-ends_at"' in page


def test_the_rota_page_is_for_managers(as_user, worker):
    assert as_user(worker).get("/admin/on-call").status_code == 403


def test_the_case_page_timeline_shows_the_alerts(as_user, stat_task, worker):
    task, _ = stat_task
    page = as_user(worker).get(f"/cases/{task.case_id}").get_data(as_text=True)
    assert page.count("Alert waiting to be delivered") == 2  # e-mail and pager


def test_a_care_team_member_of_another_role_can_open_and_acknowledge(
    as_user, stat_task, session, clock
):
    from engine.cases import team

    task, _ = stat_task
    nurse = factories.NurseFactory()
    team.add_member(
        session,
        case_id=task.case_id,
        case_role="nurse",
        at=clock.now(),
        added_by_id=None,
        user_id=nurse.id,
    )
    session.commit()
    page = as_user(nurse).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/acknowledge"' in page
