"""The supervisors' dashboard in a real browser: charts drawn, a drill-down listing the cases
behind a row, and heat on an admin diagram."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing: install Debian's chromium package",
    ),
]


def test_the_dashboard_draws_its_charts_and_drills_down_to_cases(sign_in, shoot) -> None:
    page = sign_in("morgan")
    page.goto("/reports")
    section = page.locator("#report-tasks")
    assert section.locator("svg.report-chart rect.bar").count() > 0
    assert page.locator("svg.report-chart").first.bounding_box()["height"] > 0
    shoot(page, "20-reports-dashboard")

    first_row = section.locator("table.report tbody tr").first
    task_name = first_row.locator("td").nth(1).inner_text().strip()
    first_row.locator("td a").first.click()
    page.wait_for_url(re.compile(r"/reports/tasks/cases\?"))
    cases = page.locator("table.report-cases tbody tr a")
    assert cases.count() > 0
    shoot(page, "21-reports-drill-down")
    cases.first.click()
    page.wait_for_url(re.compile(r"/cases/\d+"))
    assert task_name in page.inner_text("main")  # the case holds a task of that row


def test_an_admin_diagram_is_coloured_by_its_open_tasks(sign_in, shoot) -> None:
    page = sign_in("admin")
    page.goto("/admin/processes")
    page.locator(".process:has(code:text-is('care_pathway')) tbody tr a").first.click()
    if page.locator("script[src*='bpmn-navigated-viewer']").count() == 0:
        pytest.skip("bpmn-js is not built in this checkout")
    page.locator(".diagram[data-heat='shown']").wait_for()
    shoot(page, "22-admin-diagram-heat")
    assert page.locator(".diagram[data-heat-src]").get_attribute("data-heat") == "shown"
