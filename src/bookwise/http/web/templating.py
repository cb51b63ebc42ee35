"""Jinja2 set-up shared by every page: filters and the values every template sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from bookwise.http.context import Caller, current_caller


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M")


def _number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def configure_templates(templates: Jinja2Templates) -> None:
    """Filters every page uses: ``when`` (UTC time, minutes), ``number`` (thousands)."""
    templates.env.filters["when"] = _when
    templates.env.filters["number"] = _number
    templates.env.globals["nav"] = NAV


NAV = (
    ("/assignment", "Account assignment", "viewer"),
    ("/accounts", "Accounts", "viewer"),
    ("/segments", "Segments", "viewer"),
    ("/operations", "Operations", "viewer"),
    ("/my-book", "My book", "viewer"),
    ("/users", "Users", "admin"),
)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Any:
    """Render a page with the caller (for the nav and the CSRF token) in its context."""
    caller: Caller = current_caller(request)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, {"caller": caller, **context}, status_code=status_code
    )
