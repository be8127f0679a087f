"""Domain errors. They carry a stable code, a message safe to show a clinician
(never patient data) and a kind; the web layer maps kinds to HTTP statuses once."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    BAD_REQUEST = "bad_request"
    GONE = "gone"  # it existed, and no longer may be used (an expired link)


class CareBridgeError(Exception):
    kind: ErrorKind = ErrorKind.INVALID
    code: str = "error"

    def __init__(
        self,
        public_message: str,
        *,
        code: str | None = None,
        kind: ErrorKind | None = None,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
    ) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        self.details = details if details is not None else []


class NotFound(CareBridgeError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class Conflict(CareBridgeError):
    """A stale write or an action that no longer applies (task already completed, ...)."""

    kind = ErrorKind.CONFLICT
    code = "conflict"


class Forbidden(CareBridgeError):
    kind = ErrorKind.FORBIDDEN
    code = "forbidden"


class Invalid(CareBridgeError):
    """Input that fails validation; `details` names the fields/elements."""

    kind = ErrorKind.INVALID
    code = "invalid"


class Gone(CareBridgeError):
    kind = ErrorKind.GONE


class BadRequest(CareBridgeError):
    kind = ErrorKind.BAD_REQUEST
    code = "bad_request"


class ScriptError(CareBridgeError):
    """A diagram script or expression was refused by the sandbox or failed."""

    kind = ErrorKind.INVALID
    code = "script_error"
