"""/api/v1/export/users and /api/v1/export/history: the files ``bookwise export users`` and
``bookwise export history`` write, from the same service functions (formula-safe, streamed
from the database, sent once written: see ``bookwise.http.downloads``)."""

from __future__ import annotations

from typing import Annotated, Any, TextIO

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from bookwise.exporting import write_history_csv, write_users_csv
from bookwise.http.api.common import api_router, problems
from bookwise.http.api.days import Day
from bookwise.http.api.filters import Email, RoleName
from bookwise.http.downloads import csv_download
from bookwise.http.routing import get

router = api_router("import and export")


def _csv_response(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "UTF-8 CSV (CRLF, every cell quoted): bookwise's export marker line, "
            f"the header, {description}. Text a spreadsheet would run as a formula is "
            "prefixed with `'`.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": example}},
        }
    }


@get(
    router,
    "/export/users",
    role="viewer",
    summary="Export users as CSV",
    response_class=StreamingResponse,
    responses={
        **problems(),
        **_csv_response(
            "one row per user (active or not), by email; `POST /import/users` reads it back",
            '"email","name","role","csm_seat","active","external_id"\r\n'
            '"ana@example.com","Ana Lima","manager","true","true",""\r\n',
        ),
    },
)
def export_users_csv(request: Request) -> StreamingResponse:
    """Every user, active or not (the built-in ones left out), in the columns
    ``POST /import/users`` reads back: what ``GET /users`` lists, as a file."""
    return csv_download(
        request, lambda session, stream: write_users_csv(session, stream), "users.csv"
    )


@get(
    router,
    "/export/history",
    role="viewer",
    summary="Export ownership history as CSV",
    response_class=StreamingResponse,
    responses={
        **problems(400, 404),
        **_csv_response(
            "one row per assignment row (owner, role, from, to, source, reason, actor, operations)",
            '"account_external_id","account_name","user","role","started_at",…\r\n'
            '"ACME-1","Acme Corp","ana@example.com","csm","2026-01-05T09:12:00+00:00",…\r\n',
        ),
    },
)
def export_history_csv(
    request: Request,
    account: Annotated[
        str | None,
        Query(
            max_length=100,
            description="An account (external id, or `#id`): its ownership timeline, oldest "
            "first. Give this or `csm`.",
        ),
    ] = None,
    csm: Annotated[
        Email | None,
        Query(
            description="A CSM (email or full name): their book on `on`. Give this or `account`."
        ),
    ] = None,
    on: Annotated[
        Day | None,
        Query(
            description="With `account`: only its owners at the end of that day; with `csm`: "
            "the day of the book (default today). YYYY-MM-DD, today or yesterday."
        ),
    ] = None,
    role: Annotated[RoleName, Query(description="With `csm`: the role of the book.")] = "csm",
) -> StreamingResponse:
    """An account's ownership timeline (or its owners on a day), or a CSM's book on a day,
    as ``bookwise export history`` writes it. Naming both or neither is a 400."""

    def write(session: Session, stream: TextIO) -> int:
        return write_history_csv(session, stream, account=account, csm=csm, on=on, role=role)

    return csv_download(request, write, _history_name(account=account, csm=csm))


def _history_name(*, account: str | None, csm: str | None) -> str:
    if csm:
        return f"book-{csm.split('@')[0]}.csv"
    return f"history-{account or 'account'}.csv"
