"""Directory search for crafted clients: hard filters, then need match, service area,
distance between postal-code centroids; open now in the site's zone; reasons and
last_verified on every result. The shipped sample directory is the data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import directory, referrals
from engine.calendar import Site
from engine.errors import Invalid

from .conftest import SAMPLE

ZONE = Site().zone
# Tuesday 2026-03-03, 15:00 UTC = 10:00 in New York: the pantry (TU,TH 10-14) is open.
TUESDAY_10AM = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
# Friday 2026-03-06, 23:30 UTC = 18:30 in New York: only the 24-hour services are open.
FRIDAY_EVENING = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)


@pytest.fixture
def find(session, load):  # type: ignore[no-untyped-def]
    load(SAMPLE)

    def run(now: datetime = TUESDAY_10AM, **filters):  # type: ignore[no-untyped-def]
        return directory.search(session, now=now, zone=ZONE, **filters)

    return run


def hsds_ids(matches) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.resource.hsds_id for m in matches]


def test_the_primary_need_ranks_before_a_secondary_term(find):
    # The DV service is also tagged emergency shelter: it comes after the housing service.
    assert hsds_ids(find(need="housing")) == ["svc-shelter", "svc-dv"]


def test_interpersonal_safety_is_the_safety_need(find):
    assert hsds_ids(find(need="interpersonal_safety")) == ["svc-dv"]


def test_the_service_area_ranks_before_distance(find):
    # 02115 is served by the meals service only; the pantry is as close but does not serve it.
    assert hsds_ids(find(need="food", postal_code="02115")) == ["svc-meals", "svc-pantry"]


def test_distance_between_centroids_ranks_services_outside_the_area(session, clock):
    for name, postal_code in (("Far pantry", "02130"), ("Near pantry", "02118")):
        referrals.save_resource(
            session,
            data={
                "organization_name": name,
                "service_name": "Groceries",
                "category": "food",
                "postal_code": postal_code,
            },
            actor=None,
            clock=clock,
        )
    matches = directory.search(
        session, now=TUESDAY_10AM, zone=ZONE, need="food", postal_code="02120"
    )
    assert [m.resource.organization_name for m in matches] == ["Near pantry", "Far pantry"]
    assert matches[0].distance_km < matches[1].distance_km


def test_equal_distance_goes_to_the_most_recently_verified(find):
    # Both food services share one location and neither serves 02139.
    assert hsds_ids(find(need="food", postal_code="02139")) == ["svc-pantry", "svc-meals"]


def test_age_outside_eligibility_is_filtered_out(find):
    assert hsds_ids(find(need="food", age=30)) == ["svc-pantry"]


def test_a_language_the_service_does_not_list_filters_it_out(find):
    assert hsds_ids(find(need="utilities", language="Spanish")) == []
    assert hsds_ids(find(need="utilities", language="portuguese")) == ["svc-energy"]


def test_open_now_uses_the_schedules_in_the_site_zone(find):
    assert hsds_ids(find(need="food", open_now=True)) == ["svc-pantry", "svc-meals"]
    assert hsds_ids(find(now=FRIDAY_EVENING, need="food", open_now=True)) == []
    assert hsds_ids(find(now=FRIDAY_EVENING, need="safety", open_now=True)) == ["svc-dv"]


def test_each_result_says_why_it_matched(find):
    [match] = find(need="food", postal_code="02118", age=70, language="English", q="lunch")
    assert match.why == [
        "meets the need food",
        "matches “lunch”",
        "age 70 is within 60–any",
        "speaks English",
        "serves postal code 02118",
        "about 0.0 km away",
    ]
    assert match.resource.assured_date.isoformat() == "2026-09-01"


def test_words_search_without_a_need(find):
    assert hsds_ids(find(q="shut-off")) == ["svc-energy"]


def test_an_unknown_need_is_refused(find):
    with pytest.raises(Invalid):
        find(need="unicorns")
