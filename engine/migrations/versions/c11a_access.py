"""break-glass grants (record-level access)

Revision ID: c11a_access
Revises: c12_care_team
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c11a_access"
down_revision = "c12_care_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_break_glass_grants_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_break_glass_grants_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_break_glass_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_break_glass_grants_case_user", ["case_id", "user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_break_glass_grants_granted_at"), ["granted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_granted_at"))
        batch_op.drop_index("ix_break_glass_grants_case_user")
    op.drop_table("break_glass_grants")
