"""the social worker's record: progress notes and addenda, collaterals, handoffs, interns

Revision ID: c12b_record
Revises: c17_discharge
Create Date: 2026-12-01 23:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "c12b_record"
down_revision = "c14_integration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("preferred_language", sa.String(length=40), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.Column("consent_scope", sa.String(length=200), nullable=True),
        sa.Column("consent_expires_on", sa.Date(), nullable=True),
        sa.Column("is_legal_decision_maker", sa.Boolean(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_case_contacts_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_contacts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_contacts")),
    )
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_contacts_case_id"), ["case_id"], unique=False)

    op.create_table(
        "progress_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("note_type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("participants", engine.db.JSONType, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("fields", engine.db.JSONType, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("needs_cosign", sa.Boolean(), nullable=False),
        sa.Column("cosigned_by_id", sa.Integer(), nullable=True),
        sa.Column("cosigned_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_progress_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_progress_notes_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["case_contacts.id"],
            name=op.f("fk_progress_notes_contact_id_case_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["cosigned_by_id"], ["users.id"], name=op.f("fk_progress_notes_cosigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_progress_notes_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_notes")),
    )
    with op.batch_alter_table("progress_notes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_progress_notes_case_signed", ["case_id", "signed_at", "id"], unique=False
        )

    op.create_table(
        "note_addenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_note_addenda_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["progress_notes.id"], name=op.f("fk_note_addenda_note_id_progress_notes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addenda")),
    )
    with op.batch_alter_table("note_addenda", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_addenda_note_id"), ["note_id"], unique=False)

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_handoffs_by_id_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_handoffs_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_handoffs_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_tasks.id"], name=op.f("fk_handoffs_task_id_human_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_handoffs_to_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_task_id"), ["task_id"], unique=False)

    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handoff_note", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_human_tasks_note_id"), ["note_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_human_tasks_note_id_progress_notes"),
            "progress_notes",
            ["note_id"],
            ["id"],
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("admitted_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("expected_discharge_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_intern", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("supervisor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_supervisor_id_users"), "users", ["supervisor_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("expected_discharge_at")
        batch_op.drop_column("admitted_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_supervisor_id_users"), type_="foreignkey")
        batch_op.drop_column("supervisor_id")
        batch_op.drop_column("is_intern")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_human_tasks_note_id_progress_notes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_human_tasks_note_id"))
        batch_op.drop_column("handoff_note")
        batch_op.drop_column("note_id")
    for table, indexes in (
        ("handoffs", ["ix_handoffs_task_id", "ix_handoffs_case_id"]),
        ("note_addenda", ["ix_note_addenda_note_id"]),
        ("progress_notes", ["ix_progress_notes_case_signed"]),
        ("case_contacts", ["ix_case_contacts_case_id"]),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
