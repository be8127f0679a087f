"""Maps engine error kinds to HTTP statuses, once: JSON under /api/, a page elsewhere.

Only domain errors: a database conflict (version mismatch, deadlock, serialization failure,
lock timeout, SQLite busy) reaches here already turned into engine.errors.Conflict by the
request's unit of work (engine.uow), so 409 is decided in one place. Any other database error
is a 500."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine.errors import CareBridgeError, ErrorKind

STATUS = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.INVALID: 422,
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


def init_app(app: Flask) -> None:
    @app.errorhandler(CareBridgeError)
    def domain_error(exc: CareBridgeError):  # type: ignore[no-untyped-def]
        status = STATUS[exc.kind]
        if wants_json():
            return jsonify(error_body(exc.code, exc.public_message, exc.details)), status
        return render_template(
            "error.html", status=status, message=exc.public_message, details=exc.details
        ), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if wants_json():
            return jsonify(error_body(code, exc.description or exc.name)), status
        return render_template(
            "error.html", status=status, message=exc.description or exc.name, details=[]
        ), status
