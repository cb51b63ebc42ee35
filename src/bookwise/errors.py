"""One error hierarchy for services, CLI and (later) HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class BookwiseError(Exception):
    """Base of every error a user may see; carries an HTTP status and a stable type."""

    status_code = 400
    type = "bad-request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(BookwiseError):
    """The named object does not exist."""

    status_code = 404
    type = "not-found"


class Conflict(BookwiseError):
    """The request collides with the current state (e.g. undo after a later change)."""

    status_code = 409
    type = "conflict"


class InvalidInput(BookwiseError):
    """A value is malformed or out of range."""

    status_code = 422
    type = "invalid-input"


class RequestTooLarge(BookwiseError):
    """The request names more items than one request may carry."""

    status_code = 413
    type = "request-too-large"


class Refused(BookwiseError):
    """The action is not allowed in the current state (e.g. changing an inheriting account)."""

    status_code = 409
    type = "refused"


def invalid_input(exc: ValidationError) -> InvalidInput:
    """One clear InvalidInput naming each invalid field and why."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return InvalidInput("; ".join(parts))
