"""The inbox and task pages' side of drafts, the live inbox and bulk reassignment."""

from __future__ import annotations

from engine import drafts
from engine.drafts import DraftCipher
from engine.inbox import assign_task
from tests import factories


def _cipher() -> DraftCipher:
    return DraftCipher(secret_key="test-secret")  # the app fixture's secret key


def test_reopening_a_task_restores_the_draft_with_its_time(
    session, worker, as_user, open_case, clock
) -> None:
    _, task = open_case(worker)
    drafts.save_draft(
        session,
        task_id=task.id,
        data={"reason_for_referral": ["Lives alone; stairs are hard"]},
        actor=worker,
        clock=clock,
        cipher=_cipher(),
    )
    session.commit()
    html = as_user(worker).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Restored draft from" in html
    assert "Lives alone; stairs are hard" in html


def test_a_task_without_a_draft_says_nothing_of_one(worker, as_user, open_case) -> None:
    _, task = open_case(worker)
    html = as_user(worker).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Restored draft" not in html
    assert 'data-draft-url="/api/v1/tasks/' in html
    assert 'id="reauth"' in html


def test_the_new_holder_is_told_a_draft_was_discarded(
    session, worker, as_user, open_case, clock
) -> None:
    _, task = open_case(worker)
    colleague = factories.SocialWorkerFactory(username="sam2")
    supervisor = factories.SupervisorFactory()
    drafts.save_draft(
        session, task_id=task.id, data={"x": ["y"]}, actor=worker, clock=clock, cipher=_cipher()
    )
    assign_task(session, task_id=task.id, username="sam2", actor=supervisor, clock=clock)
    session.commit()
    html = as_user(colleague).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "had unsent answers to it; they were discarded" in html


def test_the_inbox_defaults_to_crisis_first_and_carries_the_live_summary(
    worker, as_user, open_case
) -> None:
    _, task = open_case(worker)
    html = as_user(worker).get("/").get_data(as_text=True)
    assert '<option value="crisis" selected>' in html
    assert f'data-latest-id="{task.id}"' in html
    assert "js/inbox.js" in html
    assert "<script>" not in html  # everything lives in static files (CSP without inline)


def test_supervisors_get_an_all_tab_and_workers_do_not(as_user, worker) -> None:
    supervisor = factories.SupervisorFactory()
    assert 'view=all"' in as_user(supervisor).get("/").get_data(as_text=True)
    assert 'view=all"' not in as_user(worker).get("/").get_data(as_text=True)


def test_supervisors_can_select_team_tasks_for_bulk_reassignment(
    session, worker, as_user, open_case, clock
) -> None:
    _, task = open_case(worker)
    supervisor = factories.SupervisorFactory()
    html = as_user(supervisor).get("/?view=overdue").get_data(as_text=True)
    assert 'id="bulk-assign"' not in html  # nothing overdue, nothing to select
    task.due_at = clock.now().replace(year=clock.now().year - 1)
    session.commit()
    html = as_user(supervisor).get("/?view=overdue").get_data(as_text=True)
    assert f'class="bulk-pick" value="{task.id}"' in html
    assert 'id="bulk-assign"' in html
    assert worker.display_name in html  # a candidate holder of the task's role


def test_workers_get_no_bulk_selection(worker, as_user, open_case) -> None:
    open_case(worker)
    html = as_user(worker).get("/?view=team").get_data(as_text=True)
    assert "bulk-pick" not in html
