"""Download CSV: any filtered list of accounts, in the columns of ``bookwise export accounts``;
the users (``bookwise export users``) and an account's or a CSM's history (``export history``).

The lists link here with their current filters (the accounts list and the assignment page
their rule and ownership filters, a segment's page its segment, My book ``mine``); the file is
what ``bookwise export accounts`` and ``GET /api/v1/export/accounts`` write for the same
filters: one streamed query, every cell formula-safe, read back by the import as it was.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TextIO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from bookwise.assignments.predicates import owned_by
from bookwise.dates import parse_date
from bookwise.exporting import write_accounts_csv, write_history_csv, write_users_csv
from bookwise.http.context import CallerDep
from bookwise.http.downloads import csv_download
from bookwise.http.routing import get
from bookwise.http.web.selecting import Filters

router = APIRouter(include_in_schema=False)


@get(router, "/export/accounts.csv", role="viewer")
def export_accounts(
    request: Request,
    caller: CallerDep,
    where: str = "",
    assigned_to: str = "",
    not_assigned_to: str = "",
    who: str = "",
    role: str = "csm",
    segment: str = "",
    mine: bool = False,
    sort: str = "name",
) -> StreamingResponse:
    """Every account the list's filters match (all pages), as a CSV download."""
    filters = Filters(
        assigned_to=assigned_to, not_assigned_to=not_assigned_to, who=who, where=where, role=role
    )
    chosen = filters.account_filter()
    if segment.strip():
        chosen = replace(chosen, segment=segment.strip())

    def write(session: Session, stream: TextIO) -> int:
        conditions, _ = chosen.conditions(session)
        if mine:
            conditions.append(owned_by(caller.user_id))
        return write_accounts_csv(session, stream, where=conditions, sort=sort)

    name = _filename(segment=segment, mine=mine, assigned_to=assigned_to)
    return csv_download(request, write, name)


def _filename(*, segment: str, mine: bool, assigned_to: str) -> str:
    """What the download is called: the list it came from."""
    if mine:
        stem = "my-book"
    elif segment.strip():
        stem = "segment-" + segment.strip()
    elif assigned_to.strip():
        stem = "book-" + assigned_to.strip().split("@")[0]
    else:
        stem = "accounts"
    return stem + ".csv"


@get(router, "/users/export.csv", role="admin")
def export_users(request: Request) -> StreamingResponse:
    """Every user, active or not, as ``bookwise export users`` writes them (the Users page's
    download; the page is an admin's, so is its file)."""
    return csv_download(
        request, lambda session, stream: write_users_csv(session, stream), "users.csv"
    )


@get(router, "/export/history.csv", role="viewer")
def export_history(
    request: Request, account: str = "", csm: str = "", on: str = "", role: str = "csm"
) -> StreamingResponse:
    """An account's ownership timeline (its owners on ``on``), or a CSM's book on ``on``, as
    ``bookwise export history`` writes it: the account page's and the book page's download."""
    day = parse_date(on, field="on") if on.strip() else None

    def write(session: Session, stream: TextIO) -> int:
        return write_history_csv(
            session, stream, account=account or None, csm=csm or None, on=day, role=role
        )

    stem = f"book-{csm.split('@')[0]}" if csm else f"history-{account}"
    return csv_download(request, write, f"{stem}.csv")
