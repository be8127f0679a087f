"""Maps engine error kinds to HTTP statuses, once: JSON under /api/, a page elsewhere.

Only domain errors: a database conflict (version mismatch, deadlock, serialization failure,
lock timeout, SQLite busy) reaches here already turned into engine.errors.Conflict by the
request's unit of work (engine.uow), so 409 is decided in one place. Any other database error
is a 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import DataError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from engine import access
from engine.errors import BadRequest, CareBridgeError, ErrorKind, NotFound
from web import deps

log = logging.getLogger(__name__)

STATUS = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.INVALID: 422,
    ErrorKind.GONE: 410,
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz",)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details if details is not None else [],
        }
    }


def _audit_refusal(exc: CareBridgeError) -> None:
    """Every refused attempt leaves an audit row, in a transaction of its own: the
    request's transaction has rolled back with the refusal."""
    who = current_user.user if current_user and current_user.is_authenticated else None
    try:
        with deps.transaction() as session:
            access.record_refusal(
                session,
                actor=who,
                at=deps.clock().now(),
                action=f"{request.method} {request.path}"[:300],
                category=getattr(exc, "category", "access"),
                case_id=getattr(exc, "case_id", None),
                client_id=getattr(exc, "client_id", None),
                code=exc.code,
            )
    except (SQLAlchemyError, CareBridgeError):
        # The refusal stands either way; a database that cannot take the row must not turn
        # a 403 into a 500. The log keeps what the trail could not.
        log.exception("could not audit a refused %s %s", request.method, request.path)


def _no_such_row() -> NotFound:
    return NotFound("Nothing has that id: it is out of range.", code="id_out_of_range")


def init_app(app: Flask) -> None:
    @app.errorhandler(CareBridgeError)
    def domain_error(exc: CareBridgeError) -> ResponseReturnValue:
        status = STATUS[exc.kind]
        if status == 403:
            _audit_refusal(exc)
        if wants_json():
            return jsonify(error_body(exc.code, exc.public_message, exc.details)), status
        return render_template(
            "error.html",
            status=status,
            message=exc.public_message,
            details=exc.details,
            # A case page refused by the record-level rule offers break-glass access.
            break_glass_case=getattr(exc, "case_id", None)
            if isinstance(exc, access.RecordAccessDenied)
            else None,
        ), status

    @app.errorhandler(OverflowError)
    def number_out_of_range(exc: OverflowError) -> ResponseReturnValue:
        # A whole number past what the database stores (SQLite refuses to bind it): no row
        # can have it, whatever field carried it.
        return domain_error(_no_such_row())

    @app.errorhandler(DataError)
    def value_out_of_range(exc: DataError) -> ResponseReturnValue:
        # PostgreSQL's "data exception" class (SQLSTATE 22xxx) comes from a value the request
        # sent, and nothing was written (the transaction rolls back). An id past the column's
        # range (22003, e.g. above 2^31 for an integer key) names no row: 404; any other bad
        # value is a 400.
        state = getattr(exc.orig, "sqlstate", None) or ""
        if state == "22003":
            return domain_error(_no_such_row())
        if state.startswith("22"):
            return domain_error(
                BadRequest("A value in the request is not valid.", code="invalid_value")
            )
        raise exc

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        # Keep what the exception says in headers (Allow on a 405, Retry-After on a 429),
        # but not its Content-Type: the body is ours.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if wants_json():
            return jsonify(error_body(code, exc.description or exc.name)), status, headers
        return (
            render_template(
                "error.html", status=status, message=exc.description or exc.name, details=[]
            ),
            status,
            headers,
        )
