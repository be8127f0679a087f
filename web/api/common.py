"""What every API view shares: the transaction, body parsing and the JSON shapes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy.orm.session import Session

from engine.accounts import Credential
from engine.accounts.models import User
from engine.errors import BadRequest, Forbidden
from engine.tasks_view import TaskSummary
from web import deps
from web.converters import MAX_ID

F = TypeVar("F", bound=Callable[..., Any])

# Everyone who works on cases; `admin` is added where the brief allows it.
CLINICAL_ROLES = ("social_worker", "nurse", "physician", "case_manager", "supervisor")


def public(view: F) -> F:
    """Mark a view of the API blueprint as reachable without signing in."""
    view.public = True  # type: ignore[attr-defined]
    return view


def token_scopes(*scopes: str) -> Callable[[F], F]:
    """Let tokens with one of `scopes` (and no `api` scope) reach this view; any other view is
    closed to them. People and `api` tokens are unaffected (their roles decide)."""

    def mark(view: F) -> F:
        view.token_scopes = scopes  # type: ignore[attr-defined]
        return view

    return mark


def credential() -> Credential:
    """How the caller authenticated (set by the blueprint's before_request)."""
    return g.credential


def user() -> User:
    """The signed-in engine user (set by the blueprint's before_request)."""
    return g.user


def require_roles(*roles: str) -> None:
    if not user().has_role(*roles):
        raise Forbidden("Your role does not allow this.", code="role_required")


@contextmanager
def transaction() -> Iterator[Session]:
    """One request = one unit of work (web.deps.transaction)."""
    with deps.transaction() as session:
        yield session


def json_body() -> dict[str, Any]:
    """The request's JSON object body, or a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object as the request body.", code="invalid_json")
    return body


def int_arg(
    name: str, *, default: int | None = None, low: int | None = None, high: int | None = None
) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"The parameter '{name}' must be a whole number.", code="bad_parameter"
        ) from None
    if (
        (low is not None and value < low)
        or (high is not None and value > high)
        or abs(value) > MAX_ID
    ):
        raise BadRequest(f"The parameter '{name}' is out of range.", code="bad_parameter")
    return value


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def task_json(task: TaskSummary, now: datetime) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "bpmn_id": task.bpmn_id,
        "process_key": task.process_key,
        "case_id": task.case_id,
        "client_id": task.client_id,
        "client_name": task.client_name,
        "role": task.role,
        "assignee": task.assignee,
        "priority": task.priority,
        "due_at": iso(task.due_at),
        "created_at": iso(task.created_at),
        "status": task.status,
        "cancel_reason": task.cancel_reason,
        "overdue": task.is_overdue(now),
        "kind": task.kind,
        "acknowledged_at": iso(task.acknowledged_at),
        "acknowledged_by": task.acknowledged_by,
        "escalates_task_id": task.escalates_task_id,
        "client_flags": dict(task.client_flags),
    }
