"""The accounts list: a rule filter, sortable columns you choose, pages, "Assign reps", "Set
policy" for the selection, the installation default policy, and "Add account"."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Query, Request

from bookwise.assignments.listing import AccountPage, list_accounts
from bookwise.assignments.plan import default_policy
from bookwise.assignments.roles import list_roles
from bookwise.errors import NotFound
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get, post
from bookwise.http.web import bulk
from bookwise.http.web.bulk import BulkForm
from bookwise.http.web.columns import COLUMNS, DEFAULT_COLUMNS, chosen_columns, owner_names
from bookwise.http.web.common import (
    USER_ERRORS,
    PageNumber,
    Pager,
    ShownError,
    csm_choices,
    href,
    page_number,
)
from bookwise.http.web.messages import redirect
from bookwise.http.web.selecting import Filters
from bookwise.http.web.templating import page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class AccountsView:
    """The list's filter, sort, page and columns: all in the query string."""

    where: str = ""
    sort: str = "name"
    page: int = 1
    cols: tuple[str, ...] = ()
    role: str = "csm"

    def link(self, **changes: Any) -> str:
        """This list with some values changed (sorting or filtering starts at page 1)."""
        view = replace(self, **changes)
        return href(
            "/accounts",
            {
                "where": view.where,
                "sort": view.sort if view.sort != "name" else None,
                "page": view.page if view.page > 1 else None,
                "cols": list(view.cols),
                "role": view.role if view.role != "csm" else None,
            },
        )

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The chosen column keys (the default set when none were chosen)."""
        return self.cols or DEFAULT_COLUMNS

    @staticmethod
    def from_url(url: str) -> AccountsView:
        """The view a list link (a form's ``back``) describes."""
        query = parse_qs(urlsplit(url).query)
        number = (query.get("page") or ["1"])[-1]
        return AccountsView(
            where=(query.get("where") or [""])[-1],
            sort=(query.get("sort") or ["name"])[-1],
            page=page_number(number),
            cols=tuple(query.get("cols") or ()),
            role=(query.get("role") or ["csm"])[-1],
        )


@get(router, "/accounts", role="viewer")
def accounts(
    request: Request,
    where: str = "",
    sort: str = "name",
    number: PageNumber = 1,
    cols: Annotated[list[str] | None, Query()] = None,
    role: str = "csm",
) -> Any:
    """Accounts matching the rule, a page at a time, with the chosen columns (the owners
    shown are those in ``role``)."""
    known = tuple(key for key in cols or () if key in COLUMNS)
    view = AccountsView(
        where=where, sort=sort or "name", page=number, cols=known, role=role.strip() or "csm"
    )
    return render(request, view)


def render(
    request: Request,
    view: AccountsView,
    *,
    error: ShownError | None = None,
    checked: Collection[str] = (),
) -> Any:
    """The list for ``view``; a bad rule or sort is shown beside the filter, not raised."""
    pager = Pager.of(view.page)
    listing: AccountPage | None = None
    rule_error: ShownError | None = None
    described = ""
    with reading(request) as session:
        roles = [role.name for role in list_roles(session)]
        try:
            if view.role not in roles:
                raise NotFound(f"no assignment role {view.role!r}; roles: {', '.join(roles)}")
            conditions, described = Filters(where=view.where, role=view.role).conditions(session)
            listing = list_accounts(
                session,
                where=conditions,
                sort=view.sort,
                limit=pager.size,
                offset=pager.offset,
                role=view.role,
            )
            pager = pager.showing(len(listing.items), listing.total)
        except USER_ERRORS as exc:
            rule_error = ShownError.of(exc)
        csms = csm_choices(session)
        default = default_policy(session)
        names = owner_names(session, listing)
    failed = error or rule_error
    return page(
        request,
        "accounts.html",
        failed.status if failed else 200,
        view=view,
        listing=listing,
        pager=pager,
        described=described,
        columns=chosen_columns(view.column_keys, role=view.role),
        all_columns=list(COLUMNS.values()),
        chosen=set(view.column_keys),
        csms=csms,
        names=names,
        default_policy=default,
        roles=roles,
        error=error,
        rule_error=rule_error,
        checked=set(checked),
        page_link=lambda number: view.link(page=number),
        sort_link=lambda key: view.link(sort=key, page=1),
    )


@post(router, "/accounts/preview", role="manager")
def ask_preview(form: Annotated[BulkForm, Form()], request: Request) -> Any:
    """Assign reps: a redirect to the preview's own address (post/redirect/get)."""
    return redirect(request, form.preview_href())


@get(router, "/preview/accounts", role="manager")
def preview(request: Request, caller: CallerDep, form: Annotated[BulkForm, Query()]) -> Any:
    """Preview assigning the ticked (or all matching) accounts to the CSMs chosen (a page
    of its own: ``/accounts/WORD`` is an account's address)."""
    view = AccountsView.from_url(form.back_path())
    return bulk.preview(
        request,
        caller,
        form,
        refused=lambda error: render(request, view, error=error, checked=form.refs),
    )
