"""c18_directory: today's flat directory rows become HSDS services with their ids kept (so
referrals still point at them), with an organisation, location, service area and phone."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from engine.schema import alembic_config

FLAT = (
    "INSERT INTO community_resources (id, organization_name, service_name, category, status,"
    " languages, postal_code, phone, address, created_at, updated_at) VALUES"
    " (:id, :org, :svc, 'food', 'active', '[]', :pc, :phone, :addr,"
    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def test_flat_rows_are_carried_over_with_their_ids(tmp_path):
    url = f"sqlite:///{tmp_path / 'flat.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "c17_discharge")
        conn.execute(
            text(FLAT),
            [
                {
                    "id": 7,
                    "org": "Eastside Food Bank",
                    "svc": "Groceries",
                    "pc": "10001",
                    "phone": "555-0100",
                    "addr": "1 Main St",
                },
                {
                    "id": 9,
                    "org": "eastside  food bank",
                    "svc": "Meals",
                    "pc": None,
                    "phone": None,
                    "addr": None,
                },
            ],
        )
        command.upgrade(cfg, "c18_directory")
        services = conn.execute(
            text("SELECT id, organization_id FROM community_resources ORDER BY id")
        ).all()
        assert [s.id for s in services] == [7, 9]
        assert services[0].organization_id == services[1].organization_id  # one organisation
        assert conn.execute(text("SELECT service_id, postal_code FROM service_areas")).all() == [
            (7, "10001")
        ]
        assert conn.execute(text("SELECT service_id, number FROM phones")).all() == [
            (7, "555-0100")
        ]
        assert (
            conn.execute(
                text(
                    "SELECT l.address FROM locations l JOIN service_at_locations s"
                    " ON s.location_id = l.id WHERE s.service_id = 7"
                )
            ).scalar_one()
            == "1 Main St"
        )
    engine.dispose()


def test_the_migration_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "c18_directory")
        command.downgrade(cfg, "c17_discharge")
        tables = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
        )
        assert "organizations" not in tables
        assert "community_resources" in tables
    engine.dispose()
