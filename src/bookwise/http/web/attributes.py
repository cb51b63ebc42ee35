"""Attributes and Roles (admins): the custom account attributes and the assignment roles.

The same services as ``bookwise attributes add|rename|list`` and ``bookwise roles add|list``
(and ``/api/v1/attributes``, ``/api/v1/roles``), with their checks and messages. Each form
redirects back to its page saying what it did (post/redirect/get); a refused form shows the
page again with why and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from bookwise.accounts.service import declare_attribute, list_attributes
from bookwise.assignments.roles import add_role, list_roles
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.common import USER_ERRORS, ShownError
from bookwise.http.web.messages import redirect
from bookwise.http.web.templating import page
from bookwise.models import ATTRIBUTE_TYPES
from bookwise.segments.service import rename_attribute

router = APIRouter(include_in_schema=False)


def _changed(
    request: Request,
    work: Callable[[Session], str],
    back: str,
    shown: Callable[[ShownError, dict[str, Any]], Any],
    typed: dict[str, Any],
) -> Any:
    """Run one change and redirect to ``back`` saying what it did; refused, the page again
    (``shown``) with why and what was typed."""
    try:
        message = writing(request, work)
    except USER_ERRORS as exc:
        return shown(ShownError.of(exc), typed)
    return redirect(request, back, message)


# --- custom attributes -----------------------------------------------------------------------


@get(router, "/attributes", role="admin")
def attributes(request: Request) -> Any:
    """Every custom attribute, with the forms to declare and rename one."""
    return _attributes_page(request)


def _attributes_page(
    request: Request, error: ShownError | None = None, typed: dict[str, Any] | None = None
) -> Any:
    with reading(request) as session:
        rows = [
            {
                "name": d.name,
                "type": d.type,
                "choices": d.choices or [],
                "description": d.description,
            }
            for d in list_attributes(session)
        ]
    return page(
        request,
        "attributes.html",
        error.status if error else 200,
        attributes=rows,
        types=ATTRIBUTE_TYPES,
        error=error,
        typed=typed or {},
    )


@post(router, "/attributes/add", role="admin")
def add_attribute(
    request: Request,
    caller: CallerDep,
    name: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "text",
    choices: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Any:
    """Declare a custom attribute (choices, comma-separated, for a choice attribute only)."""
    options = [c.strip() for c in choices.split(",") if c.strip()] or None

    def work(session: Session) -> str:
        row = declare_attribute(
            session,
            name=name,
            type=type,
            choices=options,
            description=description.strip(),
            actor=acting_user(session, caller),
        )
        return f"Declared the custom attribute {row.name} ({row.type})."

    typed = {"name": name, "type": type, "choices": choices, "description": description}
    return _changed(request, work, "/attributes", _attributes_page_for(request), typed)


@post(router, "/attributes/rename", role="admin")
def rename(
    request: Request,
    caller: CallerDep,
    old: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
) -> Any:
    """Rename a custom attribute in every account, and rewrite the segment rules using it."""

    def work(session: Session) -> str:
        rewritten = rename_attribute(session, old=old, new=new, actor=acting_user(session, caller))
        rules = f" Segment rules rewritten: {', '.join(rewritten)}." if rewritten else ""
        return f"Renamed the custom attribute {old.strip()} to {new.strip()}.{rules}"

    typed = {"old": old, "new": new}
    return _changed(request, work, "/attributes", _attributes_page_for(request), typed)


def _attributes_page_for(request: Request) -> Callable[[ShownError, dict[str, Any]], Any]:
    return lambda error, typed: _attributes_page(request, error, typed)


# --- assignment roles ------------------------------------------------------------------------


@get(router, "/roles", role="admin")
def roles(request: Request) -> Any:
    """Every assignment role, with the form to add one."""
    return _roles_page(request)


def _roles_page(
    request: Request, error: ShownError | None = None, typed: dict[str, Any] | None = None
) -> Any:
    with reading(request) as session:
        rows = [
            {"name": r.name, "inheritable": r.inheritable, "description": r.description}
            for r in list_roles(session)
        ]
    return page(
        request,
        "roles.html",
        error.status if error else 200,
        roles=rows,
        error=error,
        typed=typed or {},
    )


@post(router, "/roles/add", role="admin")
def add_assignment_role(
    request: Request,
    caller: CallerDep,
    name: Annotated[str, Form()] = "",
    inheritable: Annotated[bool, Form()] = False,
    description: Annotated[str, Form()] = "",
) -> Any:
    """Add an assignment role beside csm (inheritable: children that inherit follow it)."""

    def work(session: Session) -> str:
        role = add_role(
            session,
            name=name,
            inheritable=inheritable,
            description=description,
            actor=acting_user(session, caller),
        )
        if role.inheritable:
            return (
                f"Added the role {role.name}, inheritable: after assigning it, apply it to "
                "inheriting children with the inheritance operation."
            )
        return f"Added the role {role.name}."

    typed = {"name": name, "inheritable": inheritable, "description": description}
    return _changed(
        request, work, "/roles", lambda error, typed: _roles_page(request, error, typed), typed
    )
