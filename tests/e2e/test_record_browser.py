"""The record in a real browser: a social worker starts from the caseload, writes a
family-meeting note mentioning a nurse, and the nurse finds it in her inbox."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing: install Debian's chromium package",
    ),
]

FAMILY = "Notes-" + uuid.uuid4().hex[:4].upper()


def test_a_mention_in_a_family_meeting_note_reaches_the_nurses_inbox(sign_in, shoot) -> None:
    page = sign_in("alex")
    assert page.url.endswith("/caseload")  # a social worker's landing tab
    page.click("text=Open a new case")
    page.fill("#f-client-given_name", "Ines")
    page.fill("#f-client-family_name", FAMILY)
    page.fill("#f-client-birth_date", "1949-07-11")
    page.fill("#f-reason", "Family asks for help with going home.")
    page.click("text=Open case and start the pathway")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = page.url

    page.click("text=Write a note")
    page.select_option("#note-type", "family_meeting")
    page.fill(
        "#note-body", "Met the son and daughter; home with services. @kim please teach insulin."
    )
    page.fill("#note-minutes", "40")
    page.click("button:has-text('Sign and save')")
    page.wait_for_url(re.compile(r"/cases/\d+#notes-title$"))
    assert "Note saved and signed" in page.inner_text(".flashes")
    assert "@kim please teach insulin." in page.inner_text(".notes")
    shoot(page, "20-note-written")

    nurse = sign_in("kim")
    nurse.goto("/")
    row = nurse.locator(f"tr:has-text('{FAMILY}')").filter(has_text="Mentioned in a note")
    assert row.count() == 1
    shoot(nurse, "21-nurse-inbox-mention")
    row.locator("a.task-link").click()
    task_url = nurse.url
    assert "You were mentioned in a note." in nurse.inner_text(".note-task")
    nurse.click("text=Read the note on the case")
    assert "@kim please teach insulin." in nurse.inner_text(".notes")
    nurse.goto(task_url)
    nurse.click("button:has-text('Mark done')")
    nurse.wait_for_url(re.compile(r"/$"))
    assert nurse.locator(f"tr:has-text('{FAMILY}')").count() == 0
    # The mention opened the record only while it was open.
    assert nurse.goto(case_url).status == 403
