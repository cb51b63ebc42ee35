"""One error hierarchy for services, CLI and (later) HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class BookwiseError(Exception):
    """Base of every error a user may see: an HTTP status, a stable type and a title."""

    status_code = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(BookwiseError):
    """The named object does not exist."""

    status_code = 404
    type = "not-found"
    title = "Not found"


class Conflict(BookwiseError):
    """The request collides with the current state (e.g. undo after a later change)."""

    status_code = 409
    type = "conflict"
    title = "Conflict"


class InvalidInput(BookwiseError):
    """A value is malformed or out of range."""

    status_code = 422
    type = "invalid-input"
    title = "Invalid input"


class InvalidRule(InvalidInput):
    """A rule that cannot be read or does not type-check; points at the offending text."""

    type = "invalid-rule"
    title = "Invalid rule"

    def __init__(
        self,
        reason: str,
        *,
        text: str | None = None,
        span: tuple[int, int] | None = None,
        path: str | None = None,
    ) -> None:
        self.reason = reason
        self.text = text
        self.span = span
        self.path = path
        details: dict[str, Any] = {"reason": reason}
        if span is not None:
            details["position"] = span[0]
            details["end"] = span[1]
        if path is not None:
            details["path"] = path
        super().__init__(self._render(), details=details)

    def with_text(self, text: str) -> InvalidRule:
        """The same error, now able to show where in ``text`` it is."""
        if self.text is not None:
            return self
        return type(self)(self.reason, text=text, span=self.span, path=self.path)

    def caret(self) -> str:
        """The rule's line with ``^`` under the offending part (empty without a position)."""
        if self.text is None or self.span is None:
            return ""
        start, end = self.span
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", start)
        line_end = len(self.text) if line_end == -1 else line_end
        line = self.text[line_start:line_end]
        width = max(1, min(end, line_end) - start)
        return f"  {line}\n  {' ' * (start - line_start)}{'^' * width}"

    def _render(self) -> str:
        where = ""
        if self.text is not None and self.span is not None:
            start = self.span[0]
            line = self.text.count("\n", 0, start) + 1
            column = start - (self.text.rfind("\n", 0, start) + 1) + 1
            where = f" (line {line}, column {column})" if line > 1 else f" (column {column})"
        elif self.path is not None:
            where = f" (at {self.path})"
        caret = self.caret()
        return f"invalid rule: {self.reason}{where}" + (f"\n{caret}" if caret else "")


class RuleTooBig(InvalidRule):
    """A rule past the budget both databases can run (docs/rule-language.md#limits)."""


class RequestTooLarge(BookwiseError):
    """The request names more items than one request may carry."""

    status_code = 413
    type = "request-too-large"
    title = "Request too large"


class TooCostly(BookwiseError):
    """A request's statement ran past the statement time limit and was cancelled."""

    status_code = 503
    type = "too-costly"
    title = "Too costly"


class Refused(BookwiseError):
    """The action is not allowed in the current state (e.g. changing an inheriting account)."""

    status_code = 409
    type = "refused"
    title = "Refused"


def invalid_input(exc: ValidationError) -> InvalidInput:
    """One clear InvalidInput naming each invalid field and why."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return InvalidInput("; ".join(parts))
