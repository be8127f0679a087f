"""Record-level access on the pages: the case list, the refused case page with its
break-glass form, the red banner, the care-team section and the diagram data."""

from __future__ import annotations

from sqlalchemy import select

from engine.audit import AuditEvent, AuditTag
from engine.cases.models import CareTeamMember
from tests import factories


def test_the_case_list_shows_only_cases_the_reader_may_read(worker, as_user, open_case):
    open_case(worker, family_name="Mine")
    colleague = factories.SocialWorkerFactory()
    open_case(colleague, family_name="Theirs")
    html = as_user(worker).get("/cases").get_data(as_text=True)
    assert "Mine" in html
    assert "Theirs" not in html


def test_a_search_is_audited_with_the_ids_it_showed(session, worker, as_user, open_case):
    case_id, _ = open_case(worker, family_name="Mine")
    as_user(worker).get("/cases?q=min")
    [row] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditTag.CASE_LIST_VIEWED)
    ).all()
    assert row.details == {"count": 1, "case_ids": [case_id], "search": True}


def test_a_refused_case_page_offers_break_glass_and_is_audited(session, worker, as_user, open_case):
    case_id, _ = open_case(worker)
    response = as_user(factories.NurseFactory()).get(f"/cases/{case_id}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert f'action="/cases/{case_id}/break-glass"' in html
    assert 'name="reason"' in html
    refused = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditTag.ACCESS_REFUSED)
    ).all()
    assert [(r.case_id, r.details["attempted"]) for r in refused] == [
        (case_id, f"GET /cases/{case_id}")
    ]


def test_break_glass_from_the_page_shows_the_red_banner_on_case_and_task(
    worker, as_user, open_case
):
    case_id, task = open_case(worker)
    nurse = as_user(factories.NurseFactory())
    response = nurse.post(f"/cases/{case_id}/break-glass", data={"reason": "Patient collapsed"})
    assert response.status_code == 302
    assert "break-glass-banner" in nurse.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "break-glass-banner" in nurse.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "break-glass-banner" not in as_user(worker).get(f"/cases/{case_id}").get_data(
        as_text=True
    )


def test_break_glass_from_the_page_without_a_reason_grants_nothing(worker, as_user, open_case):
    case_id, _ = open_case(worker)
    nurse = as_user(factories.NurseFactory())
    nurse.post(f"/cases/{case_id}/break-glass", data={"reason": " "})
    assert nurse.get(f"/cases/{case_id}").status_code == 403


def test_the_primary_worker_adds_and_removes_a_member_on_the_case_page(
    session, worker, as_user, open_case
):
    case_id, _ = open_case(worker)
    factories.NurseFactory(username="kim", display_name="Kim Nguyen")
    page = as_user(worker)
    assert f'action="/cases/{case_id}/team"' in page.get(f"/cases/{case_id}").get_data(as_text=True)
    page.post(f"/cases/{case_id}/team", data={"user": "kim", "case_role": "nurse"})
    member = session.scalar(select(CareTeamMember).where(CareTeamMember.case_id == case_id))
    assert member is not None
    html = page.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Kim Nguyen" in html
    page.post(f"/cases/{case_id}/team/{member.id}/remove")
    session.refresh(member)
    assert member.removed_at is not None


def test_a_reader_who_may_not_change_the_team_sees_no_team_form(worker, as_user, open_case):
    case_id, _ = open_case(worker)
    html = as_user(factories.SupervisorFactory()).get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/team"' in html
    nurse = factories.NurseFactory()
    factories.CareTeamMemberFactory(case_id=case_id, user_id=nurse.id, case_role="nurse")
    html = as_user(nurse).get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/team"' not in html


def test_diagram_data_follows_the_case(session, worker, as_user, open_case):
    case_id, task = open_case(worker)
    url = f"/instances/{task.instance_id}/diagram.json"
    assert as_user(factories.SocialWorkerFactory()).get(url).status_code == 403
    assert as_user(worker).get(url).status_code == 200
    [row] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditTag.INSTANCE_VIEWED)
    ).all()
    assert (row.case_id, row.instance_id) == (case_id, task.instance_id)


def test_supervisors_are_told_of_break_glass_use_and_read_the_report(
    worker, as_user, open_case, clock
):
    case_id, _ = open_case(worker)
    nurse = factories.NurseFactory(display_name="Kim Nguyen")
    as_user(nurse).post(f"/cases/{case_id}/break-glass", data={"reason": "Night cover"})
    supervisor = as_user(factories.SupervisorFactory())
    assert "1 use in the last 24 hours" in supervisor.get("/").get_data(as_text=True)
    html = supervisor.get("/reports/break-glass").get_data(as_text=True)
    assert "Kim Nguyen" in html
    assert "Night cover" in html
    assert "break-glass-notice" not in as_user(worker).get("/").get_data(as_text=True)
    clock.advance(hours=25)
    assert "break-glass-notice" not in supervisor.get("/").get_data(as_text=True)
