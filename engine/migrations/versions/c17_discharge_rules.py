"""discharge rules: why a task was cancelled; a case's discharge; client flag history

Revision ID: c17_discharge
Revises: 3b8e1f0c9d2a
Create Date: 2026-12-01 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c17_discharge"
down_revision = "c10b_alarm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_flag_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_case_flag_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_flag_events_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_flag_events")),
    )
    with op.batch_alter_table("case_flag_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_flag_events_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=40), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discharged_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("discharge_disposition", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_flag_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_flag_events_case_id"))
    op.drop_table("case_flag_events")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("discharge_disposition")
        batch_op.drop_column("discharged_at")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
