"""Who gets urgent work: the rota first, then ever wider safety nets, so that a stat task
always has a person (even at 03:00 on a holiday with an empty rota).

Several people on call for a role: the one whose shift started first takes it (ties: the
shift added first). It is predictable for the team and needs no count of open work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.models import Role, User
from engine.oncall.services import on_call_now


@dataclass(frozen=True)
class Pick:
    """`assignee_id` holds the task; `alert_ids` are told about it (the assignee included).
    `how`: rota | on_call_flag | fallback (a supervisor or other safety net)."""

    assignee_id: int | None
    how: str
    alert_ids: list[int] = field(default_factory=list)


def _active_with_role(session: Session, role: str) -> list[int]:
    return list(
        session.scalars(
            select(User.id)
            .join(User.roles)
            .where(Role.key == role, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _flagged_on_call(session: Session, role: str) -> list[int]:
    """Users flagged on call with no shift times (the older mechanism): kept as a step after
    the rota so installations that used it keep working."""
    return list(
        session.scalars(
            select(User.id)
            .join(User.roles)
            .where(Role.key == role, User.on_call.is_(True), User.active.is_(True))
            .order_by(User.id)
        )
    )


def _supervisors(session: Session, at: datetime) -> Pick | None:
    on_call = on_call_now(session, role="supervisor", at=at)
    if on_call:
        return Pick(on_call[0], "fallback", [on_call[0]])
    everyone = _active_with_role(session, "supervisor")
    if everyone:  # nobody on call: one holds it, all of them are alerted
        return Pick(everyone[0], "fallback", everyone)
    admins = _active_with_role(session, "admin")
    if admins:  # a site without supervisors still puts the task before a person
        return Pick(admins[0], "fallback", admins)
    return None


def pick_for_role(session: Session, *, role: str | None, at: datetime) -> Pick:
    """The holder of a new stat/asap task of `role`: on call now → flagged on call → the
    supervisor on call → every active supervisor (the lowest id holds it)."""
    if role:
        on_call = on_call_now(session, role=role, at=at)
        if on_call:
            return Pick(on_call[0], "rota", [on_call[0]])
        flagged = _flagged_on_call(session, role)
        if flagged:
            return Pick(flagged[0], "on_call_flag", [flagged[0]])
    return _supervisors(session, at) or Pick(None, "none", [])


def pick_escalation_target(session: Session, *, role: str, at: datetime) -> Pick:
    """A rung of the alarm ladder. supervisor: on call → every active supervisor.
    physician: on call → every active physician → the supervisors."""
    on_call = on_call_now(session, role=role, at=at)
    if on_call:
        return Pick(on_call[0], "rota", [on_call[0]])
    if role != "supervisor":
        everyone = _active_with_role(session, role)
        if everyone:
            return Pick(everyone[0], "fallback", everyone)
    return _supervisors(session, at) or Pick(None, "none", [])
