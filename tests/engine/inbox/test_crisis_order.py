"""The default inbox order: stat, then asap, whatever their due dates, then the rest by due
date (overdue first), with keyset pages that neither repeat nor skip a task."""

from __future__ import annotations

from datetime import timedelta

from engine import inbox
from engine.inbox.models import PRIORITY_RANK


def _tasks(drive, specs):
    """One intake task per spec (priority, due in hours from now), held by the worker."""
    made = []
    for n, (priority, hours) in enumerate(specs):
        case = drive.open_case(family_name=f"F{n}")
        task = drive.open_tasks(case)["intake"]
        task.priority, task.priority_rank = priority, PRIORITY_RANK[priority]
        task.due_at = drive.clock.now() + timedelta(hours=hours)
        made.append(task)
    drive.session.flush()
    return made


def _ids(session, user, now, **kw):
    return [r.id for r in inbox.list_tasks(session, user=user, now=now, **kw).rows]


def test_stat_then_asap_come_before_overdue_routine_work(drive, session, clock) -> None:
    routine_late, urgent_late, asap_later, stat_latest, routine_soon = _tasks(
        drive, [("routine", -5), ("urgent", -1), ("asap", 30), ("stat", 48), ("routine", 2)]
    )
    order = _ids(session, drive.team.worker, clock.now())
    assert order == [
        stat_latest.id,
        asap_later.id,
        routine_late.id,
        urgent_late.id,
        routine_soon.id,
    ]


def test_two_stat_tasks_are_ordered_by_due_date(drive, session, clock) -> None:
    later, sooner = _tasks(drive, [("stat", 3), ("stat", 1)])
    assert _ids(session, drive.team.worker, clock.now()) == [sooner.id, later.id]


def test_keyset_pages_follow_the_crisis_order_without_gaps(drive, session, clock) -> None:
    specs = [("routine", -3), ("stat", 5), ("asap", -1), ("routine", 4), ("stat", 1), ("asap", 9)]
    _tasks(drive, specs)
    worker, now = drive.team.worker, clock.now()
    whole = _ids(session, worker, now, limit=50)
    pages, after = [], None
    while True:
        page = inbox.list_tasks(session, user=worker, now=now, limit=2, after=after)
        pages.extend(r.id for r in page.rows)
        after = page.next_cursor
        if after is None:
            break
    assert pages == whole
    assert len(whole) == len(specs)


def test_due_sort_is_still_available(drive, session, clock) -> None:
    routine_late, stat_later = _tasks(drive, [("routine", -1), ("stat", 1)])
    order = _ids(session, drive.team.worker, clock.now(), sort="due")
    assert order == [routine_late.id, stat_later.id]
