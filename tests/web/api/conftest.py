"""Helpers for the JSON API tests: users with Bearer headers, valid form data and a small
driver that takes a case forward through the API itself."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from engine.demo_forms import AHC_NO_NEEDS, CSSRS_HIGH, CSSRS_NONE
from tests.factories import (
    AdminFactory,
    NurseFactory,
    SocialWorkerFactory,
    SupervisorFactory,
    UserFactory,
)

# forms/intake.schema.json: every required field, valid values.
INTAKE: dict[str, Any] = {
    "referral_date": "2026-03-01",
    "referral_source": "physician",
    "reason_for_referral": "Discharge planning: lives alone after a fall.",
    "living_situation": "alone",
    "primary_language": "English",
    "interpreter_needed": False,
    "consent_to_social_work": "client",
}

# The shared sample answers (engine.demo_forms), under the names these tests use.
NO_RISK_CSSRS = CSSRS_NONE
HIGH_RISK_CSSRS = CSSRS_HIGH
NO_NEEDS_AHC = AHC_NO_NEEDS

# forms/assessment.schema.json with the instruments encoded as in CARE.md's last section.
ASSESSMENT: dict[str, Any] = {
    "assessment_date": "2026-03-02",
    "setting": "bedside",
    "family_and_support": "Daughter visits weekly.",
    "finances": "Pension; insured.",
    "housing": "Rents a flat, second floor, no lift.",
    "coping": "Worried about managing stairs.",
    "strengths": "Organised, motivated.",
    "goals": "Go home safely.",
    "phq2": {"q1": 0, "q2": 1},
    "cssrs": NO_RISK_CSSRS,
    "ahc_hrsn": NO_NEEDS_AHC,
}


def assessment(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(ASSESSMENT)
    data.update(overrides)
    return data


def new_case_body(**client: Any) -> dict[str, Any]:
    person = {"given_name": "Rosa", "family_name": "Diaz", "birth_date": "1958-04-02"}
    person.update(client)
    return {"client": person, "reason": "Lives alone; fall at home.", "pathway": "care_pathway"}


@dataclass
class Api:
    """The test client plus ready Bearer headers for one user of each role."""

    client: Any
    headers: dict[str, dict[str, str]]
    users: dict[str, Any]

    def as_(self, who: str) -> dict[str, str]:
        return self.headers[who]

    def get(self, url: str, who: str = "sw", **kw: Any) -> Any:
        return self.client.get(url, headers=self.as_(who), **kw)

    def post(self, url: str, who: str = "sw", json: Any = None, **kw: Any) -> Any:
        return self.client.post(url, headers=self.as_(who), json=json, **kw)

    # ---- driving a case through the API ------------------------------------------
    def open_case(self, who: str = "sw", **client: Any) -> dict[str, Any]:
        resp = self.post("/api/v1/cases", who, new_case_body(**client))
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def case(self, case_id: int, who: str = "sw") -> dict[str, Any]:
        resp = self.get(f"/api/v1/cases/{case_id}", who)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["case"]

    def join_team(self, case_id: int, who: str, case_role: str = "other") -> None:
        """Put a user on the case's care team through the API (as an admin)."""
        body = {"user": self.users[who].username, "case_role": case_role}
        resp = self.post(f"/api/v1/cases/{case_id}/team", "admin", body)
        assert resp.status_code == 201, resp.get_json()

    def open_task(self, case_id: int, bpmn_id: str, who: str = "admin") -> dict[str, Any]:
        tasks = [
            t
            for t in self.case(case_id, who)["tasks"]
            if t["status"] == "open" and t["bpmn_id"] == bpmn_id
        ]
        assert len(tasks) == 1, tasks
        return tasks[0]

    def complete(self, task_id: int, data: dict[str, Any], who: str = "sw") -> Any:
        return self.post(f"/api/v1/tasks/{task_id}/complete", who, {"data": data})

    def through_assessment(self, cssrs: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new case with intake and assessment done; returns the POST /cases body."""
        opened = self.open_case()
        intake = self.open_task(opened["id"], "intake")
        assert self.complete(intake["id"], INTAKE).status_code == 200
        task = self.open_task(opened["id"], "assessment")
        resp = self.complete(task["id"], assessment(cssrs=cssrs or NO_RISK_CSSRS))
        assert resp.status_code == 200, resp.get_json()
        return opened


@pytest.fixture
def api(client, api_as) -> Api:  # type: ignore[no-untyped-def]
    users = {
        "sw": SocialWorkerFactory(username="alex"),
        "sw2": SocialWorkerFactory(username="sam"),
        "nurse": NurseFactory(username="kim"),
        "supervisor": SupervisorFactory(username="morgan"),
        "admin": AdminFactory(username="admin"),
        "nobody": UserFactory(username="visitor"),
    }
    return Api(client, {k: api_as(u) for k, u in users.items()}, users)
