"""Download CSV: any filtered list of accounts, in the columns of ``bookwise export accounts``.

The lists link here with their current filters (the accounts list and the assignment page
their rule and ownership filters, a segment's page its segment, My book ``mine``); the file is
what ``bookwise export accounts`` and ``GET /api/v1/export/accounts`` write for the same
filters: one streamed query, every cell formula-safe, read back by the import as it was.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import IO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from bookwise.assignments.predicates import owned_by
from bookwise.exporting import write_accounts_csv
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get
from bookwise.http.web.selecting import Filters

router = APIRouter(include_in_schema=False)
CHUNK = 64 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        with reading(request) as session:
            conditions, _ = chosen.conditions(session)
            if mine:
                conditions.append(owned_by(caller.user_id))
            write_accounts_csv(session, text, where=conditions, sort=sort)
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = _filename(segment=segment, mine=mine, assigned_to=assigned_to)
    return StreamingResponse(
        _chunks(spool),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


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
    return _UNSAFE.sub("-", stem).strip("-.")[:80] + ".csv"


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()
