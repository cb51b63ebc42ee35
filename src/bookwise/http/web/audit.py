"""Audit pages: one operation and every owner it changed (filtered, paged, as CSV), a CSM's
book on a date, and an account's owners on a date."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from bookwise.accounts.service import get_account
from bookwise.assignments.history import (
    CHANGE_SORTING,
    ChangeFilter,
    OperationChange,
    all_operation_changes,
    book_page,
    get_operation,
    operation_changes,
    owners_on,
    parameter_names,
    parameter_words,
)
from bookwise.csvsafe import SafeCsvWriter
from bookwise.dates import DATE_FORMS, parse_date, today
from bookwise.errors import InvalidInput
from bookwise.http.context import reading
from bookwise.http.routing import get
from bookwise.http.web.common import (
    USER_ERRORS,
    PageNumber,
    Pager,
    ShownError,
    csm_choices,
    href,
)
from bookwise.http.web.operations import NOT_UNDONE_HERE
from bookwise.http.web.templating import page
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)
CHANGES_PAGE = 50
BOOK_PAGE = 50
CSV_COLUMNS = [
    "action",
    "at",
    "account_id",
    "external_id",
    "account",
    "user_name",
    "user",
    "role",
    "source",
    "reason",
    "is_primary",
]
Text = Annotated[str, Query(max_length=300)]


def _day(text: str, field: str) -> date | None:
    return parse_date(text, field=field) if text.strip() else None


class ChangeQuery:
    """The detail page's filters as the query string carries them (also the CSV's)."""

    def __init__(self, owner: str, action: str, account: str, sort: str) -> None:
        self.owner = owner.strip()
        self.action = action if action in ("open", "close") else ""
        self.account = account.strip()
        self.sort = sort if sort.lstrip("-") in CHANGE_SORTING.columns else "account"

    def params(self) -> dict[str, str]:
        """The non-empty filters, for links."""
        values = {"owner": self.owner, "action": self.action, "account": self.account}
        if self.sort != "account":
            values["sort"] = self.sort
        return {key: value for key, value in values.items() if value}

    def build(self, session: Any) -> ChangeFilter:
        """The service's filter; an unknown owner is NotFound."""
        return ChangeFilter(
            owner_id=get_user(session, self.owner).id if self.owner else None,
            action=self.action or None,
            account=self.account or None,
        )


@get(router, "/operations/{operation_id}", role="viewer")
def operation_detail(
    request: Request,
    operation_id: int,
    owner: Text = "",
    action: Text = "",
    account: Text = "",
    sort: Text = "account",
    number: PageNumber = 1,
) -> Any:
    """One operation: who, when, what it was asked, and every owner it opened or closed."""
    query = ChangeQuery(owner, action, account, sort)
    pager = Pager.of(number, CHANGES_PAGE)
    error = None
    with reading(request) as session:
        operation = get_operation(session, operation_id=operation_id)  # else a 404 page
        undoes = get_operation(session, operation_id=operation.undoes) if operation.undoes else None
        names = parameter_names(session, [operation])
        try:
            changes = operation_changes(
                session,
                operation_id=operation_id,
                filters=query.build(session),
                sort=query.sort,
                limit=pager.size,
                offset=pager.offset,
            )
            rows, total = changes.items, changes.total
        except USER_ERRORS as exc:
            error, rows, total = ShownError.of(exc), [], 0
    here = f"/operations/{operation_id}"
    return page(
        request,
        "operation.html",
        error.status if error else 200,
        operation=operation,
        undoes=undoes,
        words=parameter_words(operation, names),
        changes=rows,
        query=query,
        error=error,
        pager=pager.showing(len(rows), total),
        link=lambda n: href(here, {**query.params(), "page": n}),
        sort_link=lambda key: href(
            here, {**query.params(), "sort": f"-{key}" if query.sort == key else key}
        ),
        csv_link=href(f"{here}/changes.csv", query.params()),
        here=here,
        undone_here=operation.kind not in NOT_UNDONE_HERE,
    )


@get(router, "/operations/{operation_id}/changes.csv", role="viewer")
def operation_changes_csv(
    request: Request,
    operation_id: int,
    owner: Text = "",
    action: Text = "",
    account: Text = "",
    sort: Text = "account",
) -> Any:
    """Every change the filters select, as a formula-safe CSV file (bookwise.csvsafe)."""
    query = ChangeQuery(owner, action, account, sort)
    # One statement, read (in batches of the driver's) before the session closes; the file
    # goes out a thousand rows at a time. Unknown operation or owner: an error page.
    with reading(request) as session:
        get_operation(session, operation_id=operation_id)
        filters = query.build(session)
        rows = list(
            all_operation_changes(
                session, operation_id=operation_id, filters=filters, sort=query.sort
            )
        )
    name = f"operation-{operation_id}-changes.csv"
    return StreamingResponse(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(rows: list[OperationChange], batch: int = 1000) -> Iterator[str]:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, marker=True)
    writer.writerow(CSV_COLUMNS)
    for start in range(0, len(rows), batch):
        for row in rows[start : start + batch]:
            values = row.model_dump()
            writer.writerow(values[key] for key in CSV_COLUMNS)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@get(router, "/csms/book", role="viewer")
def book_on_date(
    request: Request,
    csm: Text = "",
    on: Text = "",
    number: PageNumber = 1,
) -> Any:
    """A CSM's book at the end of a day: pick the CSM (by name) and the day."""
    pager = Pager.of(number, BOOK_PAGE)
    error, rows, total, user = None, [], None, None
    day = today()
    with reading(request) as session:
        choices = csm_choices(session)
        try:
            day = _day(on, "date") or today()
            if csm.strip():
                user = get_user(session, csm.strip())
                found = book_page(
                    session, user=user, day=day, limit=pager.size, offset=pager.offset
                )
                rows, total = found.items, found.total
            user_shown = (user.name or user.email, user.email) if user else None
        except USER_ERRORS as exc:
            error, user_shown = ShownError.of(exc), None
    params = {"csm": csm.strip(), "on": on.strip()}
    return page(
        request,
        "book_on.html",
        error.status if error else 200,
        choices=choices,
        csm=csm.strip(),
        on=on.strip() or day.isoformat(),
        day=day,
        user=user_shown,
        rows=rows,
        error=error,
        pager=pager.showing(len(rows), total),
        link=lambda n: href("/csms/book", {**params, "page": n}),
        date_forms=DATE_FORMS,
    )


@get(router, "/accounts/{ref}/owners", role="viewer")
def owners_on_date(request: Request, ref: str, on: Text = "") -> Any:
    """An account's owners at the end of a day, each with since when, why and by whom."""
    error, rows = None, []
    with reading(request) as session:
        account = get_account(session, ref)  # else a 404 page
        summary = {"name": account.name, "external_id": account.external_id, "id": account.id}
        day = today()
        try:
            if not on.strip():
                raise InvalidInput(f"pick a day ({DATE_FORMS})")
            day = parse_date(on, field="date")
            rows = owners_on(session, account=account, day=day)
        except USER_ERRORS as exc:
            error = ShownError.of(exc)
    return page(
        request,
        "owners_on.html",
        error.status if error and on.strip() else 200,
        account=summary,
        rows=rows,
        day=day,
        on=on.strip(),
        error=error if on.strip() else None,
    )
