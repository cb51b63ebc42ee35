"""Add an account and edit one: forms checked as the CLI and the API check them.

Post/redirect/get: a saved form redirects (303) to the account page, so a refresh never
posts it again; a refused one comes back with each error beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bookwise.accounts.schemas import STANDARD_FIELDS, AccountFields
from bookwise.accounts.service import (
    create_account,
    find_account_by_name,
    get_account,
    list_attributes,
    update_account,
)
from bookwise.assignments.inheritance import inherit_into_new_account
from bookwise.errors import BookwiseError, Conflict, InvalidInput, NotFound
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.common import ShownError, href
from bookwise.http.web.templating import account_href, page
from bookwise.models import Account, AttributeDefinition
from bookwise.money import format_money, to_minor_units

router = APIRouter(include_in_schema=False)

MAX_FIELD = 1000
"""Longer form values are cut (each field's own limit refuses them with a message)."""


@dataclass
class AccountForm:
    """What the form shows and posts: text values by field, errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str) -> str:
        """The error beside field ``name`` ("" when it is fine)."""
        return self.errors.get(name, "")


async def _posted(request: Request) -> AccountForm:
    """The posted form (read by a dependency: the routes stay synchronous, off the loop)."""
    data = await request.form()
    values = {
        key: str(value)[:MAX_FIELD]
        for key, value in data.items()
        if isinstance(value, str) and not key.startswith("custom.")
    }
    custom = {
        key.removeprefix("custom."): str(value)[:MAX_FIELD]
        for key, value in data.items()
        if isinstance(value, str) and key.startswith("custom.")
    }
    return AccountForm(values=values, custom=custom)


def _from_account(account: Account, definitions: list[AttributeDefinition]) -> AccountForm:
    values = {key: "" for key in STANDARD_FIELDS}
    for key in STANDARD_FIELDS:
        value = getattr(account, key)
        if value is not None:
            values[key] = format_money(value) if key == "mrr" else str(value)
    custom = {}
    for definition in definitions:
        value = (account.custom or {}).get(definition.name)
        if value is None:
            custom[definition.name] = ""
        elif definition.type == "money":
            custom[definition.name] = format_money(value)
        elif definition.type == "boolean":
            custom[definition.name] = "true" if value else "false"
        else:
            custom[definition.name] = str(value)
    return AccountForm(values=values, custom=custom)


def _checked(form: AccountForm) -> AccountFields | None:
    """The standard fields validated; None with the errors put beside their fields."""
    standard = {key: form.values.get(key, "") for key in STANDARD_FIELDS}
    try:
        # Money is read by bookwise.money, whose refusal is an InvalidInput, not a pydantic error.
        to_minor_units(standard["mrr"], field="mrr") if standard["mrr"].strip() else None
    except InvalidInput as exc:
        form.errors["mrr"] = exc.message.removeprefix("mrr: ")
        standard["mrr"] = ""
    try:
        fields = AccountFields.model_validate(standard)
    except ValidationError as exc:
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "name"
            form.errors.setdefault(where, error["msg"].removeprefix("Value error, "))
        return None
    return None if form.errors else fields


def _place(form: AccountForm, exc: BookwiseError) -> None:
    """Put a service's refusal beside the field it is about (else at the top)."""
    message = exc.message
    if message.startswith("custom."):
        name, _, why = message.partition(": ")
        form.errors[name] = why
    elif isinstance(exc, Conflict) and "external id" in message:
        form.errors["external_id"] = message
    else:
        form.errors["form"] = message


def _form_page(
    request: Request, form: AccountForm, *, account: dict[str, Any] | None, status: int = 200
) -> Any:
    with reading(request) as session:
        definitions = list_attributes(session)
        attributes = [
            {"name": d.name, "type": d.type, "choices": d.choices or [], "help": d.description}
            for d in definitions
        ]
    general = form.error("form")
    return page(
        request,
        "account_form.html",
        status,
        form=form,
        account=account,
        attributes=attributes,
        error=ShownError(message=general, status=status) if general else None,
        action=f"{account['href']}/edit" if account else "/accounts/new",
        cancel=account["href"] if account else "/accounts",
    )


def _standard_changes(form: AccountForm) -> dict[str, str]:
    return {key: form.values.get(key, "") for key in STANDARD_FIELDS}


# --- adding --------------------------------------------------------------------------------


@get(router, "/accounts/new", role="manager")
def new_account(request: Request, parent: str = "") -> Any:
    """The empty form (``?parent=REF``: a child of that account)."""
    return _form_page(request, AccountForm(values={"parent": parent[:MAX_FIELD]}), account=None)


Posted = Annotated[AccountForm, Depends(_posted)]


@post(router, "/accounts/new", role="manager")
def add_account(request: Request, caller: CallerDep, form: Posted) -> Any:
    """Add the account; under a parent it takes what it inherits at once (as on the CLI)."""
    fields = _checked(form)
    policy = form.values.get("inherit_policy", "")
    if policy not in ("", "inherit", "own"):
        form.errors["inherit_policy"] = "choose inherit, own or the installation default"
    if fields is None or form.errors:
        return _form_page(request, form, account=None, status=422)
    fields = fields.model_copy(update={"inherit_policy": policy or None})

    def work(session: Session) -> tuple[str, int | None]:
        actor = acting_user(session, caller)
        parent_text = form.values.get("parent", "").strip()
        try:
            parent = find_account_by_name(session, parent_text) if parent_text else None
        except (InvalidInput, NotFound) as exc:
            raise _FieldError("parent", exc.message) from None
        account = create_account(
            session, fields=fields, parent=parent, custom=form.custom, actor=actor
        )
        inherited = inherit_into_new_account(session, account=account, actor=actor)
        return account_href(account), inherited.operation_id if inherited else None

    try:
        here, operation = writing(request, work)
    except _FieldError as exc:
        form.errors[exc.field] = exc.message
        return _form_page(request, form, account=None, status=422)
    except (InvalidInput, NotFound, Conflict) as exc:
        _place(form, exc)
        return _form_page(request, form, account=None, status=exc.status_code)
    return RedirectResponse(href(here, {"done": "added", "operation": operation}), 303)


class _FieldError(Exception):
    """A refusal that belongs beside one field of the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# --- editing -------------------------------------------------------------------------------


def _about(account: Account) -> dict[str, Any]:
    return {"name": account.name, "href": account_href(account)}


@get(router, "/accounts/{ref}/edit", role="manager")
def edit_account(request: Request, ref: str) -> Any:
    """The form filled with the account's values."""
    with reading(request) as session:
        account = get_account(session, ref)
        form = _from_account(account, list_attributes(session))
        about = _about(account)
    return _form_page(request, form, account=about)


@post(router, "/accounts/{ref}/edit", role="manager")
def save_account(request: Request, caller: CallerDep, ref: str, form: Posted) -> Any:
    """Save the changed fields (one ``account.updated`` event) and go back to the account."""
    with reading(request) as session:
        about = _about(get_account(session, ref))
    if _checked(form) is None:
        return _form_page(request, form, account=about, status=422)

    def work(session: Session) -> tuple[str, bool]:
        account = get_account(session, ref)
        changed = update_account(
            session,
            account=account,
            changes=_standard_changes(form),
            custom=form.custom,
            actor=acting_user(session, caller),
        )
        return account_href(account), bool(changed)

    try:
        here, changed = writing(request, work)
    except (InvalidInput, NotFound, Conflict) as exc:
        _place(form, exc)
        return _form_page(request, form, account=about, status=exc.status_code)
    return RedirectResponse(href(here, {"done": "saved" if changed else "unchanged"}), 303)
