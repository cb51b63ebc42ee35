"""CSV downloads for the API and the pages: written whole, then streamed.

Every export (``bookwise export …``, ``/api/v1/export/…`` and the pages' "Download CSV")
runs one service function that streams its query (``yield_per``) into a text stream. Over
HTTP that stream is a spooled temporary file (memory up to :data:`SPOOL_BYTES`, disk beyond),
sent in :data:`CHUNK` pieces once the read transaction has ended: an error (an unknown account,
a statement timeout) is still a clear 4xx/5xx instead of a 200 cut off half way, and the
database connection is not held while a slow client downloads.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, TextIO

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from bookwise.http.context import reading

CHUNK = 64 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def csv_download(
    request: Request, write: Callable[[Session, TextIO], object], filename: str
) -> StreamingResponse:
    """Run ``write(session, stream)`` in one read transaction and send what it wrote as the
    attachment ``filename`` (UTF-8, no BOM, the writer's line ends kept)."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        with reading(request) as session:
            write(session, text)
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spooled_download(spool, download_name(filename))


def spooled_download(spool: IO[bytes], filename: str) -> StreamingResponse:
    """Send a finished spool (read from its start, closed once sent) as CSV ``filename``."""
    return StreamingResponse(
        _chunks(spool),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def download_name(name: str) -> str:
    """``name`` with anything but letters, digits, ``.``, ``_`` and ``-`` made a ``-``."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    cleaned = _UNSAFE.sub("-", stem).strip("-.")[:80] or "export"
    return f"{cleaned}.{extension}" if extension else cleaned


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()
