"""discharge rules: why a task was cancelled; a case's discharge

Revision ID: c17_discharge
Revises: 3b8e1f0c9d2a
Create Date: 2026-12-01 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c17_discharge"
down_revision = "3b8e1f0c9d2a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=40), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discharged_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("discharge_disposition", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("discharge_disposition")
        batch_op.drop_column("discharged_at")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
