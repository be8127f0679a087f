"""The process studio in a real browser: an administrator starts a new process, adds a user
task in the social-worker lane, sees the check's problems in a list that selects the element,
picks a form in the panel, saves the draft and deploys version 1."""

from __future__ import annotations

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

# Adds a user task inside the lane, connected from the start event, through bpmn-js's own
# modeling services (what dragging from the palette does).
ADD_TASK = """() => {
  const m = window.carebridgeStudio;
  const registry = m.get("elementRegistry");
  const lane = registry.get("lane_social_worker");
  const start = registry.get("start");
  const shape = m.get("elementFactory").createShape({ type: "bpmn:UserTask" });
  const task = m.get("modeling").createShape(shape, { x: 320, y: 160 }, lane.parent);
  m.get("modeling").updateLabel(task, "Call the client");
  m.get("modeling").connect(start, task);
  return task.id;
}"""


def test_an_admin_draws_checks_saves_and_deploys_a_new_process(sign_in, shoot) -> None:
    page = sign_in("admin")
    key = "e2e_studio_" + uuid.uuid4().hex[:6]
    page.goto(f"/admin/processes/new?key={key}")
    if page.locator("script[src*='bpmn-modeler']").count() == 0:
        pytest.skip("bpmn-js is not built (scripts/build_assets.sh needs npm)")
    page.wait_for_function("() => window.carebridgeStudio !== undefined")
    task_id = page.evaluate(ADD_TASK)

    page.click("#studio-validate")
    problem = page.locator("#studio-problems li button", has_text=task_id).first
    problem.wait_for()
    problem.click()
    page.locator("#studio-props select").first.wait_for()
    assert page.locator("#studio-props code").inner_text() == task_id

    page.locator("#studio-props select").first.select_option("intake.schema.json")
    page.fill("#studio-comment", "First draft of the studio test")
    page.click("#studio-save")
    page.locator("#draft-status", has_text="Draft saved by admin").wait_for()
    shoot(page, "studio-editor")

    page.click("#studio-deploy")
    page.locator("#studio-versions", has_text="First draft of the studio test").wait_for()
    assert "v1" in page.locator("#studio-versions").inner_text()
