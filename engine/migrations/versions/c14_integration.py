"""hospital integration: processed HL7 messages, admissions, integration errors

Token scopes (fhir:read, fhir:write, hl7) live in api_tokens.scopes, added by c11c_sessions.

Revision ID: c14_integration
Revises: c11c_sessions
Create Date: 2026-12-01 23:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c14_integration"
down_revision = "c11c_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hl7_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=20), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("ack_text", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("received_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_hl7_messages_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hl7_messages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_messages")),
        sa.UniqueConstraint("control_id", name=op.f("uq_hl7_messages_control_id")),
    )
    op.create_table(
        "admissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("visit_number", sa.String(length=40), nullable=True),
        sa.Column("admitted_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("discharged_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("control_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_admissions_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admissions")),
    )
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admissions_client_id"), ["client_id"], unique=False)
    op.create_table(
        "integration_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("control_id", sa.String(length=64), nullable=True),
        sa.Column("message_type", sa.String(length=20), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_errors")),
    )
    with op.batch_alter_table("integration_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integration_errors_at"), ["at"], unique=False)
    op.create_table(
        "consults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=True),
        sa.Column("opened_case", sa.Boolean(), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_consults_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_consults_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["users.id"], name=op.f("fk_consults_received_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consults")),
    )
    with op.batch_alter_table("consults", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consults_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consults", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consults_case_id"))
    op.drop_table("consults")
    with op.batch_alter_table("integration_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_errors_at"))
    op.drop_table("integration_errors")
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admissions_client_id"))
    op.drop_table("admissions")
    op.drop_table("hl7_messages")
