"""Maps engine error kinds to HTTP statuses, once: JSON under /api/, a page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine.errors import BadRequest, CareBridgeError, Conflict, ErrorKind, NotFound

STATUS = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.INVALID: 422,
}


# deadlock_detected, serialization_failure, lock_not_available (SQLSTATE, PostgreSQL).
_CONCURRENT_WRITE_STATES = {"40P01", "40001", "55P03"}


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


def _someone_else(code: str) -> Conflict:
    """A concurrent writer the engine could not see got there first: 409, nothing written."""
    return Conflict("Someone else changed this at the same time. Reload and try again.", code=code)


def _no_such_row() -> NotFound:
    return NotFound("Nothing has that id: it is out of range.", code="id_out_of_range")


def init_app(app: Flask) -> None:
    @app.errorhandler(CareBridgeError)
    def domain_error(exc: CareBridgeError):  # type: ignore[no-untyped-def]
        status = STATUS[exc.kind]
        if wants_json():
            return jsonify(error_body(exc.code, exc.public_message, exc.details)), status
        return render_template(
            "error.html", status=status, message=exc.public_message, details=exc.details
        ), status

    @app.errorhandler(StaleDataError)
    def stale_write(exc: StaleDataError):  # type: ignore[no-untyped-def]
        # The engine turns the conflicts it sees into Conflict itself; this catches the one it
        # cannot see: a concurrent writer detected when the request's transaction commits.
        return domain_error(_someone_else("stale_instance"))

    @app.errorhandler(OperationalError)
    def concurrent_write(exc: OperationalError):  # type: ignore[no-untyped-def]
        # PostgreSQL ends one of two transactions that wait on each other's row locks (say, a
        # person completing a task while its interrupting timer fires) or that cannot be
        # serialized: the same "someone else got there first" as a version conflict. Nothing
        # was written. Any other database error stays a 500.
        if getattr(exc.orig, "sqlstate", None) not in _CONCURRENT_WRITE_STATES:
            raise exc
        return domain_error(_someone_else("concurrent_write"))

    @app.errorhandler(OverflowError)
    def number_out_of_range(exc: OverflowError):  # type: ignore[no-untyped-def]
        # A whole number past what the database stores (SQLite refuses to bind it): no row
        # can have it, whatever field carried it.
        return domain_error(_no_such_row())

    @app.errorhandler(DataError)
    def value_out_of_range(exc: DataError):  # type: ignore[no-untyped-def]
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
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if wants_json():
            return jsonify(error_body(code, exc.description or exc.name)), status
        return render_template(
            "error.html", status=status, message=exc.description or exc.name, details=[]
        ), status
