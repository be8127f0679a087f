"""The inbox a worker clears all day, in a real browser: drafts that survive an expired
session, STAT work first, a list that updates itself, five tasks handed over at once, and
a phone-sized screen."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing: install Debian's chromium package",
    ),
]

TODAY = date.today().isoformat()
PHQ9_ITEM9 = {f"q{i}": 0 for i in range(1, 9)} | {"q9": 1}


def _family() -> str:
    return "Live-" + uuid.uuid4().hex[:6].upper()


def _open_case(page, family: str) -> int:  # type: ignore[no-untyped-def]
    """A case opened through the JSON API with the page's own session; its intake task id."""
    body = {
        "client": {"given_name": "Rosa", "family_name": family, "birth_date": "1958-04-02"},
        "reason": "Lives alone; fall at home.",
        "pathway": "care_pathway",
    }
    resp = page.request.post("/api/v1/cases", data=body)
    assert resp.status == 201, resp.text()
    case_id = resp.json()["id"]
    tasks = page.request.get(f"/api/v1/cases/{case_id}").json()["case"]["tasks"]
    [intake] = [t for t in tasks if t["bpmn_id"] == "intake" and t["status"] == "open"]
    return int(intake["id"])


def test_a_draft_survives_reopening_and_an_expired_session(sign_in, shoot) -> None:
    page = sign_in("alex")
    task_id = _open_case(page, _family())
    page.goto(f"/tasks/{task_id}")
    page.fill("#f-reason_for_referral", "Daughter worried; stairs at home are hard.")
    page.locator("#draft-status", has_text="Draft saved").wait_for(timeout=15_000)

    page.reload()
    assert "Restored draft from" in page.inner_text("#draft-restored")
    assert (
        page.input_value("#f-reason_for_referral") == "Daughter worried; stairs at home are hard."
    )

    page.fill("#f-referral_date", TODAY)
    page.select_option("#f-referral_source", "physician")
    page.select_option("#f-living_situation", "alone")
    page.fill("#f-primary_language", "Spanish")
    page.check('input[name="interpreter_needed"][value="true"]')
    page.check('input[name="consent_to_social_work"][value="client"]')
    page.context.clear_cookies()  # the session ends while the form is open
    page.click("button:has-text('Complete intake')")
    dialog = page.locator("#reauth")
    dialog.wait_for(state="visible")
    shoot(page, "20-reauth-dialog")
    page.fill("#reauth-password", DEMO_PASSWORD)
    page.click("button:has-text('Sign in and submit')")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    assert "Intake completed" in page.inner_text(".flashes")
    resp = page.request.get(f"/api/v1/tasks/{task_id}")
    assert resp.json()["task"]["status"] == "completed"
    assert page.request.get(f"/api/v1/tasks/{task_id}/draft").status == 404


def test_stat_work_comes_first_with_its_acknowledge_button_on_a_phone(
    sign_in, browser, server, shoot
) -> None:
    page = sign_in("morgan")
    intake = page.request.get(f"/api/v1/tasks/{_open_case(page, _family())}").json()["task"]
    # PHQ-9 item 9 answered 1: a stat suicide-risk screen, due in 15 minutes.
    resp = page.request.post(
        f"/api/v1/cases/{intake['case_id']}/screenings",
        data={"instrument": "phq9", "answers": PHQ9_ITEM9},
    )
    assert resp.status == 201, resp.text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/?view=all")
    shoot(page, "21-stat-first-phone")
    first = page.locator("table.tasks tbody tr").first
    assert "row-stat" in (first.get_attribute("class") or "")
    button = first.locator("button:has-text('Acknowledge')")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert box["y"] + box["height"] <= 844  # visible without scrolling
    # The demo's overdue routine work comes after every stat task, not before.
    rows = page.locator("table.tasks tbody tr")
    classes = [rows.nth(i).get_attribute("class") or "" for i in range(rows.count())]
    late = [i for i, c in enumerate(classes) if "row-overdue" in c and "row-stat" not in c]
    stat = [i for i, c in enumerate(classes) if "row-stat" in c]
    assert late, "the demo data should include overdue work"
    assert max(stat) < min(late)


def test_a_task_created_by_the_api_appears_without_reload(sign_in, shoot) -> None:
    page = sign_in("alex")
    page.goto("/")
    marker = page.evaluate("window.__noReload = 'still here'")
    assert marker == "still here"
    family = _family()
    _open_case(page, family)
    page.locator(f"table.tasks td:has-text('Rosa {family}')").wait_for(timeout=25_000)
    assert page.evaluate("window.__noReload") == "still here"  # the same document
    assert re.match(r"^\(\d+\) Inbox", page.title())
    shoot(page, "22-live-inbox")


def test_a_supervisor_reassigns_five_tasks_at_once(sign_in, shoot) -> None:
    page = sign_in("morgan")
    family = _family()
    ids = [_open_case(page, f"{family}{n}") for n in range(5)]
    page.goto(f"/?view=all&client={family}")
    for task_id in ids:
        page.check(f"input.bulk-pick[value='{task_id}']")
    assert page.inner_text("#bulk-count") == "5"
    page.select_option("#bulk-user", "sam")
    page.fill("#bulk-note", "Alex is away; the clients expect a call this week.")
    page.click("#bulk-submit")
    page.locator("#bulk-result", has_text="5 tasks reassigned").wait_for()
    shoot(page, "23-bulk-reassigned")
    for task_id in ids:
        assert page.request.get(f"/api/v1/tasks/{task_id}").json()["task"]["assignee"] == "sam"


def test_the_inbox_does_not_scroll_sideways_at_320_px(server, browser) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640}, base_url=server)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "alex")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"^{re.escape(server)}/(caseload)?$"))  # workers: caseload
    _open_case(page, _family())
    page.goto("/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    action = page.locator("table.tasks tbody tr td.actions button").first
    box = action.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 320
    context.close()
