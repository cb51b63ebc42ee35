"""My book: the accounts the signed-in CSM owns, with their count and MRR (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from bookwise.assignments.listing import list_accounts
from bookwise.assignments.overview import book_totals
from bookwise.assignments.predicates import owned_by
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get
from bookwise.http.web.columns import COLUMNS
from bookwise.http.web.common import USER_ERRORS, PageNumber, Pager, ShownError, SortedLinks
from bookwise.http.web.templating import page

router = APIRouter(include_in_schema=False)
BOOK_COLUMNS = [
    COLUMNS[key]
    for key in ("external_id", "tier", "lifecycle_stage", "mrr", "health_score", "renewal_date")
]


@get(router, "/my-book", role="viewer")
def my_book(
    request: Request,
    caller: CallerDep,
    sort: str = "name",
    number: PageNumber = 1,
) -> Any:
    """The caller's own accounts; a user without a CSM seat is told they own none."""
    pager = Pager.of(number)
    listing = None
    error: ShownError | None = None
    with reading(request) as session:
        accounts, mrr = book_totals(session, user_id=caller.user_id)
        try:
            # The condition book_totals counted: its count is this listing's total.
            listing = list_accounts(
                session,
                where=[owned_by(caller.user_id)],
                sort=sort,
                limit=pager.size,
                offset=pager.offset,
                with_total=False,
            )
            pager = pager.showing(len(listing.items), accounts)
        except USER_ERRORS as exc:
            error = ShownError.of(exc)
    links = SortedLinks("/my-book", sort)
    return page(
        request,
        "my_book.html",
        error.status if error else 200,
        listing=listing,
        accounts=accounts,
        mrr=mrr,
        pager=pager,
        sort=sort,
        columns=BOOK_COLUMNS,
        page_link=links.page,
        sort_link=links.sorted_by,
        error=error,
    )
