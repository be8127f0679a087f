"""inbox: task drafts (encrypted), a note that a reassignment dropped a draft

Revision ID: c19_inbox
Revises: c17_discharge
Create Date: 2026-12-01 23:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c19_inbox"
down_revision = "c16_studio"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("saved_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_tasks.id"], name=op.f("fk_task_drafts_task_id_human_tasks")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_task_drafts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_drafts")),
        sa.UniqueConstraint("task_id", "user_id", name=op.f("uq_task_drafts_task_id")),
    )
    with op.batch_alter_table("task_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_drafts_task_id"), ["task_id"], unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("draft_discarded_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_column("draft_discarded_at")
    with op.batch_alter_table("task_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_drafts_task_id"))
    op.drop_table("task_drafts")
