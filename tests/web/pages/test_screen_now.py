"""Screen now from the case page: a form per instrument that scores and routes on submit."""

from __future__ import annotations

from engine.assessments import assessments_for_case
from engine.inbox import tasks_for_case
from tests import factories

PHQ9_ITEM9 = {f"phq9.q{i}": "0" for i in range(1, 9)} | {"phq9.q9": "1"}


def test_case_page_offers_screen_now_per_instrument(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    html = as_user(worker).get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/screen/phq9"' in html
    assert f'href="/cases/{case_id}/screen/cssrs"' in html


def test_admins_are_not_offered_screen_now(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    admin = as_user(factories.AdminFactory())
    assert "/screen/phq9" not in admin.get(f"/cases/{case_id}").get_data(as_text=True)
    assert admin.get(f"/cases/{case_id}/screen/phq9").status_code == 403


def test_screen_form_lists_the_items_and_the_declined_answer(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    html = as_user(worker).get(f"/cases/{case_id}/screen/phq9").get_data(as_text=True)
    assert "Thoughts that you would be better off dead" in html
    assert "Declined to answer" in html


def test_submitting_a_positive_item9_creates_the_stat_cssrs_screen(
    session, worker, as_user, open_case
) -> None:
    case_id, _ = open_case(worker)
    nurse_user = factories.NurseFactory()
    factories.CareTeamMemberFactory(case_id=case_id, user_id=nurse_user.id, case_role="nurse")
    nurse = as_user(nurse_user)
    response = nurse.post(f"/cases/{case_id}/screen/phq9", data=PHQ9_ITEM9)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case_id}"
    html = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "Suicide-risk screen (C-SSRS) (stat" in html
    assert [a.instrument for a in assessments_for_case(session, case_id)] == ["phq9"]
    assert "cssrs_screen" in {t.bpmn_id for t in tasks_for_case(session, case_id)}


def test_a_declined_item_is_accepted_from_the_form(session, worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    data = PHQ9_ITEM9 | {"phq9.q9": "declined"}
    assert as_user(worker).post(f"/cases/{case_id}/screen/phq9", data=data).status_code == 302
    [row] = assessments_for_case(session, case_id)
    assert (row.band, row.flags) == (None, ["incomplete"])


def test_a_missing_answer_is_shown_and_nothing_is_stored(
    session, worker, as_user, open_case
) -> None:
    case_id, _ = open_case(worker)
    data = {k: v for k, v in PHQ9_ITEM9.items() if k != "phq9.q4"}
    response = as_user(worker).post(f"/cases/{case_id}/screen/phq9", data=data)
    assert response.status_code == 422
    assert "an answer is required" in response.get_data(as_text=True)
    assert assessments_for_case(session, case_id) == []


def test_the_screen_result_shows_on_the_case_timeline(worker, as_user, open_case) -> None:
    case_id, _ = open_case(worker)
    client = as_user(worker)
    data = {"cssrs.q1": "true", "cssrs.q2": "false", "cssrs.q6": "false"}
    assert client.post(f"/cases/{case_id}/screen/cssrs", data=data).status_code == 302
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Screening recorded" in html
    assert "(C-SSRS) Screener · low risk" in html  # the timeline entry, not the badge
