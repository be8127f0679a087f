"""FHIR R4 under /fhir/R4: read-only resources for the hospital record and the consult
order in. Only integration tokens (Bearer, with scope fhir:read / fhir:write) are accepted:
a person's session or ordinary token is refused. Errors are OperationOutcomes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.orm.session import Session

from engine import accounts
from engine.accounts.models import User
from engine.errors import CareBridgeError, ErrorKind
from web import deps
from web.auth import csrf
from web.errors import STATUS
from web.errors import _audit_refusal as audit_refusal

bp = Blueprint("fhir", __name__, url_prefix="/fhir/R4")
csrf.exempt(bp)
F = TypeVar("F", bound=Callable[..., Any])
FHIR_JSON = "application/fhir+json"

# OperationOutcome.issue.code per error kind.
_ISSUE = {
    ErrorKind.UNAUTHENTICATED: "login",
    ErrorKind.FORBIDDEN: "forbidden",
    ErrorKind.NOT_FOUND: "not-found",
    ErrorKind.CONFLICT: "conflict",
    ErrorKind.INVALID: "invalid",
    ErrorKind.BAD_REQUEST: "structure",
}


def outcome(status: int, code: str, text: str, details: Any = ()) -> Response:
    issues: list[dict[str, Any]] = [{"severity": "error", "code": code, "diagnostics": text}]
    for d in details or []:
        if isinstance(d, dict) and d.get("message"):
            issues.append(
                {
                    "severity": "error",
                    "code": code,
                    "diagnostics": str(d["message"]),
                    "expression": [str(d.get("field", ""))] if d.get("field") else None,
                }
            )
    body = {"resourceType": "OperationOutcome", "issue": [_compact(i) for i in issues]}
    return fhir_json(body, status)


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def fhir_json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = FHIR_JSON
    return response


@bp.errorhandler(CareBridgeError)
def _domain_error(exc: CareBridgeError) -> Response:
    status = STATUS[exc.kind]
    if status == 403:
        audit_refusal(exc)
    if exc.kind in (ErrorKind.INVALID, ErrorKind.BAD_REQUEST):
        status = 400  # FHIR: an invalid resource is a 400 with an OperationOutcome
    return outcome(status, _ISSUE[exc.kind], exc.public_message, exc.details)


def requires_scope(scope: str) -> Callable[[F], F]:
    """The view runs with g.user set when the request's Bearer token carries `scope`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.startswith("Bearer ") else ""
            if not token:
                return outcome(401, "login", "Send an integration token (Bearer).")
            with deps.transaction() as session:
                grant = accounts.grant_for_token(session, token, now=deps.clock().now())
                if grant is not None:
                    _ = grant.user.roles
                    session.expunge(grant.user)
            if grant is None:
                return outcome(401, "login", "Unknown, revoked or expired token.")
            user = grant.user
            if scope not in grant.scopes:
                return outcome(403, "forbidden", f"This token lacks the scope {scope}.")
            g.user = user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def actor(session: Session) -> User:
    """The token's user, attached to this request's session."""
    return session.merge(g.user, load=False)


from web.fhir import views  # noqa: E402,F401  (routes register on import)
