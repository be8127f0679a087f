"""inbox team queue index

Revision ID: 3b8e1f0c9d2a
Revises: 75927efafc2c
Create Date: 2026-11-29 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "3b8e1f0c9d2a"
down_revision = "75927efafc2c"
branch_labels = None
depends_on = None

OPEN_UNCLAIMED = "status = 'open' AND assignee_id IS NULL"


def upgrade() -> None:
    # One role's unclaimed open tasks in due order (the team queue), see engine/inbox/models.py.
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_human_tasks_team_queue",
            ["role", "due_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN_UNCLAIMED),
            sqlite_where=sa.text(OPEN_UNCLAIMED),
        )


def downgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_team_queue")
