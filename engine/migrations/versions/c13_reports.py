"""reports: indexes the quality reports read (a period's work, discharges, referrals, screens)

Revision ID: c13_reports
Revises: c17_discharge
Create Date: 2026-12-01 23:50:00.000000
"""

from alembic import op

revision = "c13_reports"
down_revision = "c12b_record"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_human_tasks_created_at", "human_tasks", ["created_at"]),
    ("ix_human_tasks_completed_at", "human_tasks", ["completed_at"]),
    ("ix_human_tasks_priority_created", "human_tasks", ["priority", "created_at"]),
    ("ix_cases_primary_social_worker_status", "cases", ["primary_social_worker_id", "status"]),
    ("ix_cases_discharged_at", "cases", ["discharged_at"]),
    ("ix_referrals_requested_at", "referrals", ["requested_at"]),
    ("ix_assessments_administered_at", "assessments", ["administered_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
