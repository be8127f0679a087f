"""directory in HSDS 3.0 shape: organisations, locations, phones, schedules, service areas,
taxonomy; the flat community_resources rows become HSDS services (same ids, so referrals keep
pointing at them); the client's interpreter need

Revision ID: c18_directory
Revises: c17_discharge
Create Date: 2026-12-01 23:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "c18_directory"
down_revision = "c19_inbox"
branch_labels = None
depends_on = None


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _hsds_id(table: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint("hsds_id", name=op.f(f"uq_{table}_hsds_id"))


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("webhook_url", sa.String(length=300), nullable=True),
        _pk("organizations"),
        _hsds_id("organizations"),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        _fk("locations", "organization_id", "organizations"),
        _pk("locations"),
        _hsds_id("locations"),
    )
    op.create_index(op.f("ix_locations_postal_code"), "locations", ["postal_code"])
    with op.batch_alter_table("community_resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hsds_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("url", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_community_resources_hsds_id"), ["hsds_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_community_resources_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
        )
    op.create_table(
        "service_at_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        _fk("service_at_locations", "location_id", "locations"),
        _fk("service_at_locations", "service_id", "community_resources"),
        _pk("service_at_locations"),
        _hsds_id("service_at_locations"),
        sa.UniqueConstraint(
            "service_id", "location_id", name=op.f("uq_service_at_locations_service_id")
        ),
    )
    op.create_index(
        op.f("ix_service_at_locations_service_id"), "service_at_locations", ["service_id"]
    )
    op.create_table(
        "phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=True),
        _fk("phones", "location_id", "locations"),
        _fk("phones", "organization_id", "organizations"),
        _fk("phones", "service_id", "community_resources"),
        _pk("phones"),
        _hsds_id("phones"),
    )
    op.create_index(op.f("ix_phones_service_id"), "phones", ["service_id"])
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("byday", sa.String(length=40), nullable=False),
        sa.Column("opens_at", sa.String(length=5), nullable=False),
        sa.Column("closes_at", sa.String(length=5), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _fk("schedules", "location_id", "locations"),
        _fk("schedules", "service_id", "community_resources"),
        _pk("schedules"),
        _hsds_id("schedules"),
    )
    op.create_index(op.f("ix_schedules_service_id"), "schedules", ["service_id"])
    op.create_table(
        "service_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        _fk("service_areas", "service_id", "community_resources"),
        _pk("service_areas"),
        sa.UniqueConstraint("service_id", "postal_code", name=op.f("uq_service_areas_service_id")),
    )
    op.create_index(op.f("ix_service_areas_service_id"), "service_areas", ["service_id"])
    op.create_index(op.f("ix_service_areas_postal_code"), "service_areas", ["postal_code"])
    op.create_table(
        "taxonomy_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hsds_id", sa.String(length=100), nullable=True),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("taxonomy", sa.String(length=100), nullable=True),
        sa.Column("need", sa.String(length=40), nullable=True),
        _pk("taxonomy_terms"),
        _hsds_id("taxonomy_terms"),
    )
    op.create_index(op.f("ix_taxonomy_terms_need"), "taxonomy_terms", ["need"])
    op.create_table(
        "service_taxonomies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        _fk("service_taxonomies", "service_id", "community_resources"),
        _fk("service_taxonomies", "term_id", "taxonomy_terms"),
        _pk("service_taxonomies"),
        sa.UniqueConstraint("service_id", "term_id", name=op.f("uq_service_taxonomies_service_id")),
    )
    op.create_index(op.f("ix_service_taxonomies_service_id"), "service_taxonomies", ["service_id"])
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interpreter_needed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _carry_over_flat_rows()


def _carry_over_flat_rows() -> None:
    """Each flat row keeps its id as an HSDS service; its organisation name, address,
    postal code and phone become an organisation, a location, a service area and a phone."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, organization_name, email, address, postal_code, phone"
            " FROM community_resources ORDER BY id"
        )
    ).all()
    orgs: dict[str, int] = {}
    for rid, org_name, email, address, postal_code, phone in rows:
        key = " ".join(org_name.split()).casefold()
        if key not in orgs:
            orgs[key] = bind.execute(
                sa.text("INSERT INTO organizations (name, email) VALUES (:n, :e) RETURNING id"),
                {"n": org_name, "e": email},
            ).scalar_one()
        org_id = orgs[key]
        bind.execute(
            sa.text("UPDATE community_resources SET organization_id = :o WHERE id = :i"),
            {"o": org_id, "i": rid},
        )
        if address or postal_code:
            loc_id = bind.execute(
                sa.text(
                    "INSERT INTO locations (organization_id, address, postal_code)"
                    " VALUES (:o, :a, :p) RETURNING id"
                ),
                {"o": org_id, "a": address, "p": postal_code},
            ).scalar_one()
            bind.execute(
                sa.text(
                    "INSERT INTO service_at_locations (service_id, location_id) VALUES (:s, :l)"
                ),
                {"s": rid, "l": loc_id},
            )
        if postal_code:
            bind.execute(
                sa.text("INSERT INTO service_areas (service_id, postal_code) VALUES (:s, :p)"),
                {"s": rid, "p": postal_code},
            )
        if phone:
            bind.execute(
                sa.text("INSERT INTO phones (service_id, number) VALUES (:s, :n)"),
                {"s": rid, "n": phone},
            )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("interpreter_needed")
    for table in (
        "service_taxonomies",
        "taxonomy_terms",
        "service_areas",
        "schedules",
        "phones",
        "service_at_locations",
    ):
        op.drop_table(table)
    with op.batch_alter_table("community_resources", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_community_resources_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_community_resources_hsds_id"), type_="unique")
        batch_op.drop_column("url")
        batch_op.drop_column("organization_id")
        batch_op.drop_column("hsds_id")
    op.drop_table("locations")
    op.drop_table("organizations")
