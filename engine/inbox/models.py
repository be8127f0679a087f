"""The inbox projection: one row per human task that is or was READY."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

PRIORITIES = ("routine", "urgent", "asap", "stat")
# bpmn: a user/manual task of a workflow. escalation: a standalone task the alarm ladder
# creates (engine.alarms) for a stat task nobody acknowledged; it has no workflow behind it.
# cosign: an intern's note awaiting a supervisor's co-signature. mention: "mentioned in a
# note" for the user named with @username (engine.notes); neither has a workflow.
KINDS = ("bpmn", "escalation", "cosign", "mention")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}

if TYPE_CHECKING:
    from engine.accounts.models import User


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "spiff_task_id"),
        # Inbox views: mine, team queue, overdue; each ordered by due date then id (keyset).
        Index("ix_human_tasks_open_assignee_due", "status", "assignee_id", "due_at", "id"),
        Index("ix_human_tasks_open_role_due", "status", "role", "assignee_id", "due_at", "id"),
        Index("ix_human_tasks_open_due", "status", "due_at", "id"),
        # The team queue (one role's unclaimed tasks) in due order. Partial: PostgreSQL does not
        # treat `assignee_id IS NULL` as an equality for ordering, so the index above makes it
        # sort every unclaimed task of the role; this one hands the first page over directly.
        # The alarm ladder's due scan: open stat tasks whose next escalation step is due.
        Index("ix_human_tasks_next_escalation", "next_escalation_at"),
        # The quality reports (engine.reports): work created / completed in a period, stat
        # tasks of a period.
        Index("ix_human_tasks_created_at", "created_at"),
        Index("ix_human_tasks_completed_at", "completed_at"),
        Index("ix_human_tasks_priority_created", "priority", "created_at"),
        Index(
            "ix_human_tasks_team_queue",
            "role",
            "due_at",
            "id",
            postgresql_where=text("status = 'open' AND assignee_id IS NULL"),
            sqlite_where=text("status = 'open' AND assignee_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="bpmn", server_default="bpmn")
    # Empty for an escalation task (no workflow behind it).
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(255))
    process_key: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|completed|cancelled
    # Why the engine closed a task without it being completed: `do_not_contact` (client
    # outreach stopped by the flag), `discharged` (inpatient-only work ended at discharge),
    # `resolved` (an escalation whose task was acknowledged or completed), `original_closed`
    # (an escalation whose task was cancelled).
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    priority: Mapped[str] = mapped_column(String(10), default="routine")
    priority_rank: Mapped[int] = mapped_column(default=0)
    # Every piece of work has a deadline (a default when the diagram names none): keeps the
    # inbox's keyset ordering on a NOT NULL column, which its indexes serve directly.
    due_at: Mapped[datetime]
    form: Mapped[str | None] = mapped_column(String(255))
    ui_form: Mapped[str | None] = mapped_column(String(255))
    variable: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How the assignee was chosen when the task was created: rota, on_call_flag, continuity,
    # fallback (a supervisor as safety net: people of the task's role may still work it).
    assigned_by: Mapped[str | None] = mapped_column(String(20))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The alarm ladder of a stat task (engine.alarms): the step reached and when the next is due.
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    next_escalation_at: Mapped[datetime | None]
    escalates_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    # What the person did, for a task without a workflow to hold its form (an escalation).
    outcome: Mapped[dict[str, Any] | None]
    note_id: Mapped[int | None] = mapped_column(ForeignKey("progress_notes.id"), index=True)
    # The latest handoff note given when the task was reassigned (history: handoffs).
    handoff_note: Mapped[str | None] = mapped_column(Text)
    # When a reassignment dropped someone else's unsent draft (engine.drafts): the new holder
    # is told, so they can ask the previous one what was gathered.
    draft_discarded_at: Mapped[datetime | None]

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def workflow_task_id(self) -> str:
        """The workflow task's id. Only an escalation task has none, and no command that
        drives a workflow ever reaches one (they are found through their instance)."""
        if self.spiff_task_id is None:
            raise ValueError(f"human task {self.id} has no workflow task")
        return self.spiff_task_id
