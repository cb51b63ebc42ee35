"""My book: the accounts the signed-in CSM owns, with their count and MRR (read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from bookwise.assignments import queries
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get
from bookwise.http.web.columns import COLUMNS
from bookwise.http.web.common import USER_ERRORS, Pager, ShownError, href
from bookwise.http.web.selecting import Filters
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
    number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Any:
    """The caller's own accounts; a user without a CSM seat is told they own none."""
    pager = Pager.of(number)
    listing = None
    totals = None
    error: ShownError | None = None
    with reading(request) as session:
        totals = queries.book_totals(session, user_id=caller.user_id)
        try:
            mine, _ = Filters(assigned_to=caller.email).conditions(session)
            listing = queries.list_accounts(
                session, where=mine, sort=sort, limit=pager.size, offset=pager.offset
            )
            pager = pager.showing(len(listing.items), listing.total)
        except USER_ERRORS as exc:
            error = ShownError.of(exc)
    return page(
        request,
        "my_book.html",
        error.status if error else 200,
        listing=listing,
        accounts=totals[0],
        mrr=totals[1],
        pager=pager,
        sort=sort,
        columns=BOOK_COLUMNS,
        page_link=lambda n: href("/my-book", {"sort": sort if sort != "name" else None, "page": n}),
        sort_link=lambda key: href("/my-book", {"sort": key if key != "name" else None}),
        error=error,
    )
