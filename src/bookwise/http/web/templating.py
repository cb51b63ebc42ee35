"""Jinja2 set-up shared by every page: filters and the values every template sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates

from bookwise.http.context import Caller, current_caller
from bookwise.http.roles import allows
from bookwise.http.web.common import outcome_label
from bookwise.http.web.messages import forget_flash, take_flash
from bookwise.money import from_minor_units


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M")


def _number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _money(value: int | Decimal | str | None) -> str:
    """Minor units (int) or currency units (Decimal, decimal string) as ``12,345.00``."""
    if value is None or value == "":
        return ""
    amount = from_minor_units(value) if isinstance(value, int) else Decimal(str(value))
    return f"{amount:,}"


def _day(value: date | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def _field(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def account_ref(row: Any) -> str:
    """How a form names an account for the services: external id, else ``#id``."""
    external = _field(row, "external_id")
    if external and not str(external).startswith("#"):
        return str(external)
    return f"#{_field(row, 'id')}"


def account_href(row: Any) -> str:
    """The page of an account row (or per-id outcome): by external id, else ``#id``."""
    ref = account_ref(row)
    if "/" in ref:  # a decoded %2F would split the path: name the account by id instead
        ref = f"#{_field(row, 'id') or _field(row, 'account_id')}"
    return "/accounts/" + quote(ref, safe="")


def item_href(item: Any) -> str:
    """The page of the account a per-id outcome is about ("" when it was not found)."""
    account_id = _field(item, "account_id")
    return "" if account_id is None else f"/accounts/%23{account_id}"


def can(caller: Caller | None, role: str) -> bool:
    """True when the caller may use controls that need ``role`` (hides write buttons)."""
    return caller is not None and caller.signed_in and allows(caller.role, role)  # type: ignore[arg-type]


def configure_templates(templates: Jinja2Templates) -> None:
    """Filters (``when``, ``number``, ``money``, ``day``) and globals every page uses."""
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    templates.env.filters["when"] = _when
    templates.env.filters["number"] = _number
    templates.env.filters["money"] = _money
    templates.env.filters["day"] = _day
    templates.env.globals["nav"] = NAV
    templates.env.globals["api_docs"] = API_DOCS
    templates.env.globals["account_href"] = account_href
    templates.env.globals["account_ref"] = account_ref
    templates.env.globals["item_href"] = item_href
    templates.env.globals["can"] = can
    templates.env.globals["outcome_label"] = outcome_label


NAV = (
    ("/assignment", "Account assignment", "viewer"),
    ("/accounts", "Accounts", "viewer"),
    ("/segments", "Segments", "viewer"),
    ("/operations", "Operations", "viewer"),
    ("/my-book", "My book", "viewer"),
    ("/reports/team", "Team report", "viewer"),
    ("/import", "Import", "manager"),
    ("/users", "Users", "admin"),
)
API_DOCS = "/api/v1/docs"
"""The interactive API reference (Swagger UI), linked from every page's header."""


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Any:
    """Render a page with the caller (for the nav and the CSRF token) in its context."""
    caller: Caller = current_caller(request)
    templates: Jinja2Templates = request.app.state.templates
    flash = take_flash(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = templates.TemplateResponse(
        request,
        template,
        {"caller": caller, "flash": flash, "here_url": here, **context},
        status_code=status_code,
    )
    forget_flash(request, response)
    return response
