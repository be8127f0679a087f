"""audit head: the signed head of the keyed audit chain

Revision ID: c11b_audit
Revises: c17_discharge
Create Date: 2026-12-01 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "c11b_audit"
down_revision = "c17_discharge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Left empty: only the application holds the audit key that signs it. The first append
    # after an upgrade with existing rows rebuilds it and flags it (see engine/audit/models.py);
    # `carebridge audit rekey` re-signs a verified legacy chain.
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("rebuilt", sa.Boolean(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )


def downgrade() -> None:
    op.drop_table("audit_head")
