"""GET /api/v1/inbox/summary (the live inbox's poll) and the crisis-first default order."""

from __future__ import annotations

from datetime import timedelta

from engine.inbox import HumanTask
from engine.inbox.models import PRIORITY_RANK


def _summary(api, who="sw", **headers):  # type: ignore[no-untyped-def]
    return api.client.get("/api/v1/inbox/summary", headers={**api.as_(who), **headers})


def _make(api, session, priority, hours, clock):  # type: ignore[no-untyped-def]
    opened = api.open_case()
    task = session.get(HumanTask, api.open_task(opened["id"], "intake")["id"])
    task.priority, task.priority_rank = priority, PRIORITY_RANK[priority]
    task.due_at = clock.now() + timedelta(hours=hours)
    session.flush()
    return task.id


def test_summary_counts_my_work_and_names_the_newest_task(api):
    opened = api.open_case()
    task = api.open_task(opened["id"], "intake")
    resp = _summary(api)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["counts"] == {"mine": 1, "team": 0, "overdue": 0, "stat": 0}
    assert body["latest_id"] == task["id"]
    assert resp.headers["ETag"] == f'"{body["etag"]}"'


def test_an_unchanged_inbox_answers_304(api):
    api.open_case()
    etag = _summary(api).headers["ETag"]
    resp = _summary(api, **{"If-None-Match": etag})
    assert resp.status_code == 304
    assert resp.get_data() == b""


def test_a_new_task_changes_the_etag_and_the_latest_id(api):
    first = _summary(api).get_json()
    api.open_case()
    resp = _summary(api, **{"If-None-Match": f'"{first["etag"]}"'})
    assert resp.status_code == 200
    assert resp.get_json()["latest_id"] != first["latest_id"]


def test_stat_tasks_are_counted(api, session, clock):
    _make(api, session, "stat", 1, clock)
    _make(api, session, "routine", 1, clock)
    assert _summary(api).get_json()["counts"]["stat"] == 1


def test_the_summary_needs_a_signed_in_user(api):
    assert api.client.get("/api/v1/inbox/summary").status_code == 401


def test_the_default_list_puts_stat_then_asap_before_overdue_work(api, session, clock):
    late = _make(api, session, "routine", -6, clock)
    stat = _make(api, session, "stat", 20, clock)
    asap = _make(api, session, "asap", 10, clock)
    soon = _make(api, session, "routine", 1, clock)
    ids = [t["id"] for t in api.get("/api/v1/tasks?view=mine").get_json()["tasks"]]
    assert ids == [stat, asap, late, soon]
