"""process studio: drafts, a comment per version, the version new cases start on

Revision ID: c16_studio
Revises: c17_discharge
Create Date: 2026-12-01 23:55:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.db

revision = "c16_studio"
down_revision = "c13_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_drafts",
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("bpmn", sa.Text(), nullable=False),
        sa.Column(
            "forms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_process_drafts_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("process_key", name=op.f("pk_process_drafts")),
    )
    op.create_table(
        "process_current_versions",
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_process_current_versions_definition_id_process_definitions"),
        ),
        sa.PrimaryKeyConstraint("process_key", name=op.f("pk_process_current_versions")),
    )
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_column("comment")
    op.drop_table("process_current_versions")
    op.drop_table("process_drafts")
