"""GET /api/v1/resources: the search contract (why, last_verified, hours, phones) over the
shipped sample directory."""

from __future__ import annotations

import pytest

from engine import directory
from tests.engine.directory.conftest import SAMPLE

from .conftest import Api


@pytest.fixture
def sample(session, clock) -> None:  # type: ignore[no-untyped-def]
    directory.import_package(session, package=directory.read_package(SAMPLE), clock=clock)


def test_each_result_carries_why_last_verified_hours_and_phone(api: Api, sample):
    resp = api.get("/api/v1/resources?need=food&postal_code=02119&age=30&language=Spanish")
    assert resp.status_code == 200, resp.get_json()
    [pantry] = resp.get_json()["resources"]
    assert pantry["why"] == [
        "meets the need food",
        "speaks Spanish",
        "serves postal code 02119",
        "about 1.7 km away",
    ]
    assert pantry["last_verified"] == "2026-10-15"
    assert pantry["hours"] == [{"days": ["TU", "TH"], "opens_at": "10:00", "closes_at": "14:00"}]
    assert pantry["phones"] == ["555-0101"]


def test_open_now_is_judged_in_the_site_zone(api: Api, sample, clock):
    # The clock's Monday 09:00 in New York: the meals (weekdays from 09:00) are open, the
    # pantry (Tuesday and Thursday) is not.
    resp = api.get("/api/v1/resources?need=food&open_now=true")
    assert [r["hsds_id"] for r in resp.get_json()["resources"]] == ["svc-meals"]


def test_neither_need_nor_words_is_a_400(api: Api, sample):
    assert api.get("/api/v1/resources?postal_code=02119").status_code == 400


def test_an_unknown_need_is_a_422(api: Api, sample):
    assert api.get("/api/v1/resources?need=unicorns").status_code == 422
