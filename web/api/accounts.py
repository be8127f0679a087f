"""People's accounts: change your own password (ends all your sessions) and, for admins,
lift a sign-in lockout."""

from __future__ import annotations

from typing import Any

from engine import accounts, audit
from engine.errors import Invalid
from web import deps
from web.api import bp
from web.api.common import iso, json_body, require_roles, transaction, user


@bp.post("/account/password")
def change_password() -> Any:
    body = json_body()
    current, new = body.get("current_password"), body.get("new_password")
    if not isinstance(current, str) or not current:
        raise Invalid(
            "Give your current password.",
            code="invalid_password",
            details=[{"field": "current_password", "message": "This field is required."}],
        )
    me = user()
    now = deps.clock().now()
    with transaction() as session:
        ended = accounts.change_password(
            session,
            user=accounts.get_user(session, me.username),
            current_password=current,
            # Not text: refused by the length rule, naming the field.
            new_password=new if isinstance(new, str) else "",
            now=now,
        )
        audit.record(
            session,
            audit.AuditTag.PASSWORD_CHANGED,
            actor=audit.Actor(me.id, me.username),
            at=now,
            category="security",
            details={"sessions_ended": ended},
        )
    return "", 204


@bp.post("/users/<username>/unlock")
def unlock_user(username: str) -> Any:
    require_roles("admin")
    me = user()
    now = deps.clock().now()
    with transaction() as session:
        target = accounts.unlock(session, username=username, now=now)
        audit.record(
            session,
            audit.AuditTag.USER_UNLOCKED,
            actor=audit.Actor(me.id, me.username),
            at=now,
            category="security",
            details={"user_id": target.id},
        )
        return {
            "user": {
                "username": target.username,
                "locked": accounts.is_locked(target, now),
                "locked_until": iso(target.locked_until),
            }
        }
