"""Page read models and helpers: pathway outlines, task types, times in the reader's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine import pages_view
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
    assert ids.index("assessment") + 1 == ids.index("assessment_overdue")  # boundary event next
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
