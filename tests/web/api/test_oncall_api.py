"""GET/POST /on-call and DELETE /on-call/<id>: the rota's contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import UserFactory
from tests.web.api.conftest import Api

SHIFT = {
    "role": "social_worker",
    "user": "alex",
    "starts_at": "2026-03-02T08:00:00-05:00",
    "ends_at": "2026-03-02T20:00:00-05:00",
}


def _add(api: Api, who: str = "supervisor", **changes):
    return api.post("/api/v1/on-call", who, {**SHIFT, **changes})


def test_a_supervisor_adds_a_shift(api):
    resp = _add(api)
    assert resp.status_code == 201
    body = resp.get_json()
    shift = body["shift"]
    assert body["id"] == shift["id"]
    assert (shift["role"], shift["user"]) == ("social_worker", "alex")
    assert shift["starts_at"] == "2026-03-02T13:00:00+00:00"


def test_an_admin_adds_a_shift(api):
    assert _add(api, "admin").status_code == 201


def test_a_social_worker_may_not_write_the_rota(api):
    assert _add(api, "sw").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2026-03-02T07:00:00-05:00"}, "ends_at"),
        ({"starts_at": "2026-03-02T08:00:00"}, "starts_at"),
        ({"user": "ghost"}, "user"),
        ({"user": "kim"}, "user"),  # a nurse is not a social worker
        ({"role": "pilot"}, "role"),
    ],
)
def test_a_bad_shift_is_422_naming_the_field(api, changes, field):
    resp = _add(api, **changes)
    assert resp.status_code == 422
    assert field in {d["field"] for d in resp.get_json()["error"]["details"]}


def test_the_list_filters_by_instant_and_role(api):
    _add(api)
    _add(
        api, user="sam", starts_at="2026-03-02T20:00:00-05:00", ends_at="2026-03-03T08:00:00-05:00"
    )
    resp = api.get("/api/v1/on-call?role=social_worker&at=2026-03-02T21:00:00-05:00")
    assert [s["user"] for s in resp.get_json()["shifts"]] == ["sam"]


def test_gaps_of_the_crisis_roles_in_the_next_14_days(api, clock):
    # The clock stands at 2026-03-02 14:00 UTC; alex covers 13:00–01:00 UTC.
    _add(api)
    body = api.get("/api/v1/on-call").get_json()
    social = [g for g in body["gaps"] if g["role"] == "social_worker"]
    assert social == [
        {
            "role": "social_worker",
            "starts_at": "2026-03-03T01:00:00+00:00",
            "ends_at": (clock.now() + timedelta(days=14)).isoformat(),
        }
    ]
    assert {g["role"] for g in body["gaps"]} == {"social_worker", "supervisor", "physician"}


def test_delete_is_204_then_404(api):
    shift_id = _add(api).get_json()["shift"]["id"]
    assert (
        api.client.delete(f"/api/v1/on-call/{shift_id}", headers=api.as_("sw")).status_code == 403
    )
    resp = api.client.delete(f"/api/v1/on-call/{shift_id}", headers=api.as_("supervisor"))
    assert resp.status_code == 204
    assert api.get("/api/v1/on-call").get_json()["shifts"] == []
    again = api.client.delete(f"/api/v1/on-call/{shift_id}", headers=api.as_("supervisor"))
    assert again.status_code == 404


def test_a_stat_task_goes_to_whoever_is_on_call_for_its_role(api):
    UserFactory(username="riley", role_keys=("social_worker",))
    _add(api, user="riley", starts_at="2026-03-02T00:00:00Z", ends_at="2026-03-03T00:00:00Z")
    opened = api.through_assessment(
        cssrs={"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
    )
    assert api.open_task(opened["id"], "crisis_response")["assignee"] == "riley"
