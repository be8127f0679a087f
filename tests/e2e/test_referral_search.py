"""A social worker sends a referral to a service chosen from the directory search in the
Send referral form (the sample directory `carebridge init --demo` loads)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.demo_forms import AHC_FOOD_HOUSING, INTAKE, assessment, care_plan

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing: install Debian's chromium package",
    ),
]


def _open_task(api: Any, case_id: int, bpmn_id: str) -> int:
    case = api.get(f"/api/v1/cases/{case_id}").json()["case"]
    # Several send_referral tasks open in the plan's order of needs: the first is the first need.
    return min(
        int(t["id"]) for t in case["tasks"] if t["status"] == "open" and t["bpmn_id"] == bpmn_id
    )


def _complete(api: Any, case_id: int, bpmn_id: str, data: dict[str, Any]) -> None:
    task_id = _open_task(api, case_id, bpmn_id)
    resp = api.post(f"/api/v1/tasks/{task_id}/complete", data={"data": data})
    assert resp.ok, resp.text()


def test_a_referral_is_sent_to_a_service_chosen_from_search(sign_in, shoot) -> None:
    page = sign_in("alex")
    api = page.request
    family = "Busca-" + uuid.uuid4().hex[:4].upper()
    opened = api.post(
        "/api/v1/cases",
        data={
            "client": {"given_name": "Lucia", "family_name": family, "birth_date": "1950-05-05"},
            "reason": "Food insecurity after discharge",
            "pathway": "care_pathway",
        },
    )
    assert opened.status == 201, opened.text()
    case_id = opened.json()["id"]
    _complete(api, case_id, "intake", {**INTAKE, "primary_language": "Spanish"})
    _complete(api, case_id, "assessment", assessment(ahc=AHC_FOOD_HOUSING))
    _complete(api, case_id, "care_plan", care_plan(("food", "housing")))

    page.goto(f"/tasks/{_open_task(api, case_id, 'send_referral')}")
    page.check("#f-referral_made-0")
    page.select_option("#f-need", "food")
    page.fill("#f-resource_id-postal", "02119")
    page.fill("#f-resource_id-language", "Spanish")
    page.click("#f-resource_id-search")
    first = page.locator(".resource-result").first
    first.wait_for()
    text = first.inner_text()
    assert "Weekly food pantry" in text
    assert "Tue, Thu 10:00–14:00" in text  # hours
    assert "555-0101" in text  # phone
    assert "speaks Spanish" in text  # why
    shoot(page, "referral-search")
    first.get_by_role("button", name="Choose").click()
    assert page.input_value("#f-organisation_name") == "Harbor Street Food Collective"
    page.check("#f-contact_made")
    page.check("#f-consent_to_share_recorded")
    page.click("form.schema-form button[type=submit]")
    page.wait_for_load_state()

    referrals = api.get(f"/api/v1/cases/{case_id}/referrals").json()["referrals"]
    [food] = [r for r in referrals if r["need"] == "food"]
    assert food["status"] == "requested"
    assert food["service_name"] == "Weekly food pantry"
