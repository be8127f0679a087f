"""The README's promise in a real browser: a social worker takes a new client from intake
through the assessment, a supervisor reassigns overdue work, an administrator deploys a
diagram (a broken one first)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest

from engine.settings import ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing: install Debian's chromium package",
    ),
]

TODAY = date.today().isoformat()
# Unique per run, so the test can also run against a long-lived server (CAREBRIDGE_E2E_URL).
FAMILY = "Testa-" + uuid.uuid4().hex[:4].upper()
CLIENT = f"Rosa {FAMILY}"


def _diagram_drawn(page) -> bool:
    """bpmn-js draws an SVG when its files were built (scripts/build_assets.sh); otherwise
    the page lists the steps instead."""
    if page.locator("script[src*='bpmn-navigated-viewer']").count() == 0:
        return page.locator("ol.steps").count() > 0
    page.locator(".diagram svg").first.wait_for()
    return True


def test_the_login_page(server, browser, shoot) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    page.goto("/cases")
    assert "/login?next=" in page.url  # signed-out visitors are sent to sign in
    assert page.locator("label[for=username]").inner_text() == "Username"
    shoot(page, "00-login")
    context.close()


def test_a_social_worker_takes_a_new_case_through_intake_and_assessment(sign_in, shoot) -> None:
    page = sign_in("alex")
    shoot(page, "01-inbox-alex")

    # A new case starts the pathway; the intake lands with alex (primary social worker).
    page.click("text=Open a new case")
    page.fill("#f-client-given_name", "Rosa")
    page.fill("#f-client-family_name", FAMILY)
    page.fill("#f-client-birth_date", "1958-04-02")
    page.fill("#f-client-preferred_language", "Spanish")
    page.fill("#f-reason", "Lives alone; daughter worried about the discharge next week.")
    shoot(page, "02-new-case")
    page.click("text=Open case and start the pathway")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert f"Case opened for {CLIENT}. Next: Intake, with Alex Rivera" in page.inner_text(
        ".flashes"
    )
    assert _diagram_drawn(page)
    shoot(page, "03-case")

    # Intake: one invalid submission first; the error sits beside the field, input is kept.
    page.click(".case-main .task-list a:has-text('Intake')")
    page.select_option("#f-referral_source", "physician")
    page.fill("#f-reason_for_referral", "Discharge planning; lives alone.")
    page.select_option("#f-living_situation", "alone")
    page.fill("#f-primary_language", "Spanish")
    page.check('input[name="interpreter_needed"][value="true"]')
    page.check('input[name="consent_to_social_work"][value="client"]')
    page.click("button:has-text('Complete intake')")
    error = page.locator("#f-referral_date-error")
    assert error.is_visible()
    assert "required" in error.inner_text()
    assert page.input_value("#f-primary_language") == "Spanish"
    assert page.is_checked('input[name="consent_to_social_work"][value="client"]')
    assert page.evaluate("document.activeElement.id") == "error-summary"
    shoot(page, "04-intake-invalid")
    page.fill("#f-referral_date", TODAY)
    page.click("button:has-text('Complete intake')")
    page.wait_for_url(re.compile(r"/$"))
    notice = page.inner_text(".flashes")
    assert "Intake completed. Next: Psychosocial assessment, with Alex Rivera" in notice

    # Assessment: C-SSRS questions 3-5 appear only after a yes to question 2.
    page.click(f"tr:has-text('{CLIENT}') a.task-link")
    page.wait_for_load_state()  # forms.js (deferred) hides the conditional questions on load
    assert page.locator("#f-cssrs-q3").is_hidden()
    page.check("#f-cssrs-q2-0")  # yes
    assert page.locator("#f-cssrs-q3").is_visible()
    page.check("#f-cssrs-q2-1")  # no
    assert page.locator("#f-cssrs-q3").is_hidden()
    page.fill("#f-assessment_date", TODAY)
    page.check('input[name="setting"][value="bedside"]')
    for field, text in {
        "family_and_support": "Daughter visits weekly.",
        "finances": "Pension.",
        "housing": "Rented flat, second floor, no lift.",
        "coping": "Coping.",
        "strengths": "Close to neighbours.",
        "goals": "Go home safely.",
    }.items():
        page.fill(f"#f-{field}", text)
    answers = {
        "cssrs.q1": "false",
        "cssrs.q6": "false",
        "phq2.q1": "0",
        "phq2.q2": "1",
        "ahc_hrsn.q1": "steady",
        "ahc_hrsn.q3": "never",
        "ahc_hrsn.q4": "never",
        "ahc_hrsn.q5": "false",
        "ahc_hrsn.q6": "no",
    }
    for name, value in answers.items():
        page.check(f'input[name="{name}"][value="{value}"]')
    # Five answers plus "declined" (main's declined answers) is more than a row of radios:
    # the safety questions are selects.
    for name in ("ahc_hrsn.q7", "ahc_hrsn.q8", "ahc_hrsn.q9", "ahc_hrsn.q10"):
        page.select_option(f'select[name="{name}"]', "1")
    shoot(page, "05-assessment")
    page.click("button:has-text('Complete psychosocial assessment')")
    page.wait_for_url(re.compile(r"/$"))
    assert "Next: Care plan, with Alex Rivera" in page.inner_text(".flashes")
    # ... and the care plan is in alex's own queue.
    assert page.locator(f"tr:has-text('{CLIENT}') a.task-link").inner_text() == "Care plan"
    shoot(page, "06-inbox-next-step")

    page.click("nav.main-nav >> text=Cases")
    assert page.locator(f"td:has-text('{CLIENT}')").count() == 1
    shoot(page, "07-cases")


def test_a_supervisor_reassigns_an_overdue_task(sign_in, shoot) -> None:
    page = sign_in("morgan")
    page.click("nav.tabs >> text=Overdue")
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() >= 1, "the demo data should include overdue work"
    shoot(page, "08-overdue-morgan")
    rows.first.locator("a:has-text('Reassign')").click()  # in place, from the inbox row
    page.wait_for_url(re.compile(r"/tasks/\d+#reassign$"))
    held_by = page.inner_text(".task-facts div:has-text('Held by') dd")
    options = page.locator("#reassign-user option")
    target = next(
        options.nth(i).get_attribute("value")
        for i in range(options.count())
        if options.nth(i).inner_text().strip() != held_by.strip()
    )
    page.select_option("#reassign-user", target)
    page.click("button:has-text('Reassign')")
    page.wait_for_load_state()
    assert "is now with" in page.inner_text(".flashes")
    assert page.inner_text(".task-facts div:has-text('Held by') dd").strip() != held_by.strip()
    shoot(page, "09-reassigned")


def test_an_admin_sees_a_broken_diagrams_errors_then_deploys_version_n_plus_1(
    sign_in, shoot, tmp_path
) -> None:
    page = sign_in("admin")
    page.click("nav.main-nav >> text=Admin")
    versions = page.locator(".process:has(code:text-is('care_pathway')) tbody tr")
    before = versions.count()

    pathway = (ROOT / "processes" / "care_pathway.bpmn").read_text()
    screening = (ROOT / "processes" / "screening_response.bpmn").read_text()
    # Break the first gateway condition of the shipped screening response.
    flow = re.search(
        r'<bpmn:sequenceFlow id="([^"]+)"[^>]*>\s*<bpmn:conditionExpression[^>]*>([^<]+)<',
        screening,
    )
    assert flow is not None
    broken = tmp_path / "screening_response.bpmn"
    broken.write_text(screening.replace(flow.group(2), "risk == = 'high'", 1))
    page.set_input_files("#bpmn", str(broken))
    page.click("button:has-text('Validate and deploy')")
    problems = page.locator("#deploy-problems")
    problems.wait_for()
    assert flow.group(1) in problems.inner_text()  # the element id, with its line
    if page.locator("script[src*='bpmn-navigated-viewer']").count():
        page.locator(".diagram-upload .cb-error").first.wait_for()  # the element is marked
    shoot(page, "10-admin-broken-diagram")

    fixed = tmp_path / "fixed" / "care_pathway.bpmn"
    fixed.parent.mkdir()
    fixed.write_text(
        pathway.replace(
            'name="Care pathway" isExecutable',
            f'name="Care pathway (site revision {FAMILY})" isExecutable',
        )
    )
    page.set_input_files("#bpmn", str(fixed))
    page.click("button:has-text('Validate and deploy')")
    page.wait_for_url(re.compile(r"/admin/processes$"))
    assert f"care_pathway: version {before + 1} deployed." in page.inner_text(".flashes")
    assert versions.count() == before + 1
    shoot(page, "11-admin-deployed")
