"""Page read models and helpers: pathway outlines, task types, the task detail the page shares
with the API, times in the reader's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from engine import inbox, pages_view, tasks_view
from engine.audit import AuditEvent, AuditTag
from engine.settings import ROOT
from web.pages import common

PATHWAY = (ROOT / "processes" / "care_pathway.bpmn").read_text()
CYCLE = (ROOT / "processes" / "care_plan_cycle.bpmn").read_text()


def test_outline_follows_the_flow_from_the_start() -> None:
    outline = pages_view.outlines({"care_pathway.bpmn": PATHWAY})["care_pathway"]
    ids = [s.id for s in outline.steps]
    assert ids[0] == "start"
    assert ids.index("intake") < ids.index("assessment") < ids.index("care_plan_rounds")
    assert ids.index("care_plan_rounds") < ids.index("close_case")
    # Boundary events come right after their activity.
    assert ids.index("assessment") < ids.index("assessment_overdue") <= ids.index("assessment") + 2
    assert ids[-1] in {"end", "overdue_review_done"}
    assert ("intake", "Intake") in outline.user_tasks


def test_outline_of_broken_xml_is_empty() -> None:
    assert pages_view.outlines({"x.bpmn": "<not xml"}) == {}


def test_task_types_come_from_the_deployed_diagrams(session) -> None:
    types = dict(pages_view.task_types(session))
    assert types["intake"] == "Intake"
    assert "care_plan" in types  # from the called process


def test_a_running_call_activity_is_marked_active(session, worker, open_case) -> None:
    from engine.instances.models import ProcessInstance

    _, task = open_case(worker)
    view = pages_view.pathway_view(session, session.get(ProcessInstance, task.instance_id))
    states = {s.step.id: s.state for s in view.steps}
    assert states["start"] == "completed"
    assert states["intake"] == "active"
    assert states["care_plan_rounds"] == "pending"


def test_one_task_detail_serves_the_page_and_the_api(session, clock, worker, open_case) -> None:
    case_id, task = open_case(worker)
    detail = tasks_view.view_task(session, task_id=task.id, actor=worker, clock=clock)
    assert detail.task is task
    assert (detail.summary.client_name, detail.summary.assignee) == ("Rosa Diaz", worker.username)
    assert detail.assignee is worker
    assert detail.client.display_name == "Rosa Diaz"
    assert detail.form_schema["title"] == "Social work intake"
    assert "ui:order" in detail.ui_schema
    assert "{{" in detail.instructions_template  # the page renders it as HTML
    assert detail.data["case_id"] == case_id
    assert f"case {case_id}" in detail.instructions  # the API's plain text
    assert detail.can_work


@pytest.mark.parametrize(("record_view", "rows"), [(True, 1), (False, 0)])
def test_a_task_view_leaves_one_audit_row(
    session, clock, worker, open_case, record_view, rows
) -> None:
    _, task = open_case(worker)
    tasks_view.view_task(
        session, task_id=task.id, actor=worker, clock=clock, record_view=record_view
    )
    viewed = select(func.count()).where(
        AuditEvent.task_id == task.id, AuditEvent.action == AuditTag.TASK_VIEWED.value
    )
    assert session.scalar(viewed) == rows


def test_a_summary_is_an_inbox_row_with_the_assignee_named(
    session, clock, worker, open_case
) -> None:
    _, task = open_case(worker)
    page = inbox.list_tasks(session, user=worker, view="mine", now=clock.now())
    from_rows = tasks_view.summarize_tasks(session, page.rows)
    assert from_rows == [tasks_view.summarize_task(session, task)]
    assert isinstance(from_rows[0], inbox.InboxRow)
    assert (from_rows[0].assignee_id, from_rows[0].assignee) == (worker.id, worker.username)


@pytest.mark.parametrize(("display", "name"), [(False, "username"), (True, "display_name")])
def test_usernames_or_display_names(session, worker, display, name) -> None:
    names = tasks_view.usernames(session, [worker.id, None, worker.id], display=display)
    assert names == {worker.id: getattr(worker, name)}


def test_localtime_uses_the_readers_zone(app, worker) -> None:
    moment = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    with app.test_request_context():
        from flask import g

        g.user = worker  # America/New_York
        assert common.localtime(moment) == "Wed 1 Jul 2026, 12:30 EDT"
        assert common.localtime(moment, "date") == "Wed 1 Jul 2026"
        worker.timezone = "Europe/Berlin"
        assert common.localtime(moment, "time") == "18:30 CEST"


@pytest.mark.parametrize(
    ("offset_minutes", "text"),
    [
        (0, "now"),
        (30, "in 30 min"),
        (-90, "1 h 30 min ago"),
        (60 * 5, "in 5 h"),
        (-60 * 72, "3 days ago"),
    ],
)
def test_relative_times(app, clock, offset_minutes, text) -> None:
    from datetime import timedelta

    with app.test_request_context():
        assert common.relative(clock.now() + timedelta(minutes=offset_minutes)) == text


def test_age_in_years(app, clock) -> None:
    with app.test_request_context():
        assert common.age(date(1958, 4, 2)) == "67"  # the clock says 2 March 2026
