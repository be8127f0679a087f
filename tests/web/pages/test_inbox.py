"""The inbox: tabs with counts, columns, filters, sorting, claim/release in place, paging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.inbox.models import HumanTask
from tests import factories
from web.pages import inbox as inbox_page


def test_my_tasks_lists_the_task_with_its_columns(worker, as_user, open_case) -> None:
    case_id, task = open_case(worker)
    html = as_user(worker).get("/").get_data(as_text=True)
    assert "Rosa Diaz" in html
    assert f'href="/tasks/{task.id}"' in html
    assert f'href="/cases/{case_id}"' in html
    assert "Urgent" in html
    # Due in the user's zone (New York), absolute and relative.
    assert "Tue 3 Mar 2026, 09:00 EST" in html
    assert "(in 24 h)" in html
    assert "You hold this" in html


def test_tabs_show_counts(worker, as_user, open_case) -> None:
    open_case(worker)
    open_case(worker, family_name="Okafor")
    html = as_user(worker).get("/").get_data(as_text=True)
    assert 'aria-label="2 tasks">2</span>' in html  # My tasks
    for label in ("My tasks", "Team queue", "Overdue", "Follow-up today"):
        assert label in html


def test_overdue_tasks_are_marked(worker, as_user, open_case, clock) -> None:
    open_case(worker)
    clock.advance(hours=30)
    html = as_user(worker).get("/?view=overdue").get_data(as_text=True)
    assert "badge-overdue" in html
    assert "row-overdue" in html
    assert "6 h ago" in html


def test_team_queue_offers_claim_and_claiming_moves_the_task(
    session, worker, as_user, open_case
) -> None:
    case_id, task = open_case(factories.NurseFactory())  # no primary social worker: queued
    assert task.assignee_id is None
    client = as_user(worker)
    html = client.get("/?view=team").get_data(as_text=True)
    assert f'action="/tasks/{task.id}/claim"' in html
    response = client.post(f"/tasks/{task.id}/claim", data={"next": "/?view=team"})
    assert response.headers["Location"] == "/?view=team"
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id == worker.id
    assert "You hold" in client.get("/?view=team").get_data(as_text=True)


def test_release_puts_the_task_back_in_the_queue(session, worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    client = as_user(worker)
    assert f'action="/tasks/{task.id}/release"' in client.get("/").get_data(as_text=True)
    response = client.post(f"/tasks/{task.id}/release", data={"next": "/"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id is None
    assert "Social worker queue" in client.get("/").get_data(as_text=True)


def test_claiming_someone_elses_task_explains_why_not(worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    other = factories.SocialWorkerFactory()
    client = as_user(other)
    response = client.post(f"/tasks/{task.id}/claim", data={"next": "/?view=team"})
    assert response.headers["Location"] == "/?view=team"
    assert "already claimed" in client.get("/?view=team").get_data(as_text=True)


def test_filter_by_client_name(worker, as_user, open_case) -> None:
    open_case(worker)
    open_case(worker, given_name="Mehmet", family_name="Yilmaz")
    html = as_user(worker).get("/?client=yilm").get_data(as_text=True)
    assert "Mehmet Yilmaz" in html
    assert "Rosa Diaz" not in html


def test_filter_by_task_type_lists_the_types_and_filters(worker, as_user, open_case) -> None:
    open_case(worker)
    client = as_user(worker)
    html = client.get("/").get_data(as_text=True)
    assert '<option value="assessment"' in html
    assert '<option value="intake"' in html
    assert "Rosa Diaz" not in client.get("/?type=assessment").get_data(as_text=True)
    assert "Rosa Diaz" in client.get("/?type=intake").get_data(as_text=True)


@pytest.mark.parametrize("sort", ["due", "priority"])
def test_both_sort_orders_render(worker, as_user, open_case, sort) -> None:
    open_case(worker)
    response = as_user(worker).get(f"/?sort={sort}")
    assert response.status_code == 200
    assert "Rosa Diaz" in response.get_data(as_text=True)


def test_priority_sort_puts_urgent_work_first(session, worker, as_user, open_case) -> None:
    _, first = open_case(worker, family_name="Routine")
    _, second = open_case(worker, family_name="Stat")
    first.priority, first.priority_rank = "routine", 0
    second.priority, second.priority_rank = "stat", 3
    first.due_at = second.due_at - timedelta(hours=1)
    session.flush()
    html = as_user(worker).get("/?sort=priority").get_data(as_text=True)
    assert html.index("Rosa Stat") < html.index("Rosa Routine")
    html = as_user(worker).get("/?sort=due").get_data(as_text=True)
    assert html.index("Rosa Routine") < html.index("Rosa Stat")


def test_keyset_pages_with_a_next_link(worker, as_user, open_case, monkeypatch) -> None:
    monkeypatch.setattr(inbox_page, "PAGE_SIZE", 2)
    for name in ("Ash", "Birch", "Cedar"):
        open_case(worker, family_name=name)
    client = as_user(worker)
    html = client.get("/").get_data(as_text=True)
    assert "Rosa Ash" in html
    assert "Rosa Birch" in html
    assert "Rosa Cedar" not in html
    start = html.index('rel="next" href="') + len('rel="next" href="')
    next_url = html[start : html.index('"', start)].replace("&amp;", "&")
    assert "after=" in next_url
    page_two = client.get(next_url).get_data(as_text=True)
    assert "Rosa Cedar" in page_two
    assert "Rosa Ash" not in page_two
    assert "First page" in page_two
    assert 'rel="next"' not in page_two


def test_an_unknown_view_is_a_bad_request(worker, as_user) -> None:
    response = as_user(worker).get("/?view=everything")
    assert response.status_code == 400
    assert "Unknown view" in response.get_data(as_text=True)


def test_empty_inbox_points_to_the_team_queue(worker, as_user, open_case) -> None:
    open_case(factories.NurseFactory())
    html = as_user(worker).get("/").get_data(as_text=True)
    assert "You hold no open tasks" in html
    assert "1 task waiting in your team queue" in html


def test_nav_shows_admin_only_to_admins(as_user, worker) -> None:
    assert "/admin/processes" not in as_user(worker).get("/").get_data(as_text=True)
    admin = factories.AdminFactory()
    html = as_user(admin).get("/").get_data(as_text=True)
    assert 'href="/admin/processes"' in html
    assert "Skip to main content" in html


def test_supervisors_get_a_reassign_link_on_other_peoples_overdue_work(
    worker, as_user, open_case, clock
) -> None:
    _, task = open_case(worker)
    clock.advance(hours=30)
    html = as_user(factories.SupervisorFactory()).get("/?view=overdue").get_data(as_text=True)
    assert f'href="/tasks/{task.id}#reassign"' in html
    assert "With Alex Rivera" in html
