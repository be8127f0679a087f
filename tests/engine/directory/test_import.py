"""`carebridge directory import`: HSDS 3.0 CSV and JSON packages, counts, refusals with file,
row and reason, and re-import by HSDS id."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import directory
from engine.errors import Invalid
from engine.referrals import CommunityResource

from .conftest import HSDS, SAMPLE


def _service(session: Session, hsds_id: str) -> CommunityResource:
    return session.scalars(
        select(CommunityResource).where(CommunityResource.hsds_id == hsds_id)
    ).one()


def test_csv_package_counts_what_it_created(load):
    report = load(HSDS / "csv")
    assert report.created["organizations"] == 2
    assert report.created["services"] == 2
    assert report.created["service_at_locations"] == 2
    assert report.created["attributes"] == 2


def test_each_bad_row_is_refused_with_file_row_and_reason(load):
    refused = {(r.file, r.row): r.reason for r in load(HSDS / "csv").refused}
    assert refused == {
        ("organizations.csv", 4): "name is required",
        ("services.csv", 4): "organization_id o9 names no row of this directory",
        ("services.csv", 5): "minimum_age is above maximum_age",
        ("services.csv", 6): "assured_date must be a date YYYY-MM-DD",
        ("phones.csv", 3): "number is required",
        ("schedules.csv", 3): "byday must list days as MO,TU,WE,TH,FR,SA,SU",
        ("service_areas.csv", 3): "the service area must list postal codes",
        ("attributes.csv", 4): "taxonomy_term_id t9 names no row of this directory",
    }


def test_a_refused_service_leaves_no_row(session, load):
    load(HSDS / "csv")
    assert (
        session.scalar(
            select(func.count()).where(CommunityResource.hsds_id.in_(("s3", "s4", "s5")))
        )
        == 0
    )


def test_a_service_gets_its_need_address_phone_and_languages(session, load):
    load(HSDS / "csv")
    groceries = _service(session, "s1")
    assert (groceries.category, groceries.postal_code, groceries.phone) == (
        "food",
        "02118",
        "555-0111",
    )
    assert groceries.languages == ["Spanish", "English"]
    assert groceries.organization_name == "Maple Pantry"


def test_reimport_updates_by_hsds_id_and_creates_nothing(session, load):
    load(HSDS / "csv")
    before = session.scalar(select(func.count()).select_from(CommunityResource))
    again = load(HSDS / "csv")
    assert again.created == {}
    assert again.updated["services"] == 2
    assert session.scalar(select(func.count()).select_from(CommunityResource)) == before


def test_reimport_applies_a_changed_field(session, load, tmp_path):
    load(HSDS / "csv")
    changed = tmp_path / "pkg"
    changed.mkdir()
    (changed / "services.csv").write_text(
        "id,organization_id,name,status,assured_date\n"
        "s1,o1,Groceries and diapers,active,2026-03-01\n"
    )
    load(changed)
    groceries = _service(session, "s1")
    assert groceries.service_name == "Groceries and diapers"
    assert groceries.assured_date.isoformat() == "2026-03-01"


def test_json_package_is_flattened_and_imported(session, load):
    report = load(HSDS / "services.json")
    bus = _service(session, "j1")
    assert (bus.category, bus.postal_code, bus.min_age) == ("transportation", "02124", 18)
    assert bus.languages == ["Portuguese"]
    assert report.created["organizations"] == 1


def test_json_refusals_name_the_nested_object(load):
    [refusal] = load(HSDS / "services.json").refused
    assert refusal.file == "services.json#services[1].schedules[0]"
    assert refusal.reason == "closes_at must be after opens_at"


def test_the_shipped_sample_imports_without_refusals(session, load):
    report = load(SAMPLE)
    assert report.refused == []
    assert report.created["services"] == 6


def test_a_folder_without_hsds_tables_is_refused(tmp_path):
    with pytest.raises(Invalid):
        directory.read_package(tmp_path)
