"""API tokens: list (your own; an admin everyone's) and revoke (your own; an admin any).
Tokens are issued by the operator (`carebridge token create`), never through the API."""

from __future__ import annotations

from typing import Any

from flask import request

from engine import accounts, audit
from engine.accounts import ApiToken
from web import deps
from web.api import bp
from web.api.common import iso, transaction, user


def token_json(row: ApiToken, now: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": row.user.username,
        "name": row.name,
        "scopes": sorted(row.scope_set),
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
        "status": accounts.token_status(row, now),
    }


@bp.get("/tokens")
def list_tokens() -> Any:
    me = user()
    # An admin sees every token unless asking for their own (?mine=1).
    everyone = me.has_role("admin") and request.args.get("mine") not in ("1", "true")
    now = deps.clock().now()
    with transaction() as session:
        rows = accounts.list_tokens(session, actor=me, everyone=everyone)
        return {"tokens": [token_json(r, now) for r in rows]}


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int) -> Any:
    me = user()
    now = deps.clock().now()
    with transaction() as session:
        row = accounts.revoke_token(session, token_id=token_id, actor=me, now=now)
        audit.record(
            session,
            audit.AuditTag.TOKEN_REVOKED,
            actor=audit.Actor(me.id, me.username),
            at=now,
            category="security",
            details={"token_id": row.id, "owner_id": row.user_id},
        )
    return "", 204
