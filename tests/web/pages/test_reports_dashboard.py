"""The /reports dashboard: charts as server-rendered SVG, CSV links, drill-down to cases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.audit.models import AuditEvent
from tests import factories
from tests.report_history import History, utc
from tests.web.pages.conftest import sign_in

PERIOD = "from=2026-02-23&to=2026-03-01"


@pytest.fixture
def supervisor(session):  # type: ignore[no-untyped-def]
    return factories.SupervisorFactory(username="morgan")


@pytest.fixture
def discharged(session):  # type: ignore[no-untyped-def]
    h = History(session)
    reached = h.case(discharged_at=utc(24), discharge_disposition="home")
    h.task(
        "tcm_first_attempt",
        case=reached,
        process_key="discharge_followup",
        created=utc(24),
        due=utc(26, 22),
        completed=utc(25),
        outcome={"outcome": "reached"},
    )
    other = h.case(discharged_at=utc(2, month=2), discharge_disposition="home")  # earlier
    return reached, other


def test_dashboard_draws_a_chart_per_report_without_scripts(client, supervisor, discharged):
    page = sign_in(client, supervisor).get(f"/reports?{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-report="tcm"' in html
    # Only the tasks (the contact task) and tcm reports have rows in this period.
    assert html.count('<svg class="report-chart"') == 2
    assert "<script>" not in html
    assert "onclick" not in html


def test_dashboard_links_each_report_to_its_csv(client, supervisor):
    html = sign_in(client, supervisor).get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert "/api/v1/reports/caseload?format=csv&amp;from=2026-02-23&amp;to=2026-03-01" in html


def test_drill_down_lists_the_cases_behind_a_row(client, supervisor, discharged, session):
    reached, other = discharged
    signed = sign_in(client, supervisor)
    html = signed.get(f"/reports?{PERIOD}").get_data(as_text=True)
    link = re.search(r'href="(/reports/tcm/cases\?[^"]+)"', html)
    assert link is not None
    listing = signed.get(link.group(1).replace("&amp;", "&"))
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert f"Case #{reached.id}<" in text
    assert f"Case #{other.id}<" not in text
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert event.details["case_ids"] == [reached.id]


def test_drill_down_of_a_missing_row_is_404(client, supervisor):
    resp = sign_in(client, supervisor).get(f"/reports/tcm/cases?{PERIOD}&row=3")
    assert resp.status_code == 404


def test_dashboard_is_for_supervisors_and_admins(client, session):
    worker = factories.SocialWorkerFactory()
    assert sign_in(client, worker).get(f"/reports?{PERIOD}").status_code == 403


def test_a_reversed_period_is_refused(client, supervisor):
    resp = sign_in(client, supervisor).get("/reports?from=2026-03-02&to=2026-03-01")
    assert resp.status_code == 400
