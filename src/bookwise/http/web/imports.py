"""Import on the web: upload a CSV, see its dry run, apply exactly that file, see the result.

Post/redirect/get throughout: the upload, Apply, the options and Cancel each answer with a
redirect to a page that only reads, so a refresh never imports a file twice. Between the
preview and the apply the file is kept in the database (``importing.uploads``), never under
/tmp. Only the roles that may import (manager, admin) reach these pages.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from typing import IO, Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput
from bookwise.http.api.files import safe_filename
from bookwise.http.context import CallerDep, Forbidden, acting_user, reading, writing
from bookwise.http.downloads import spooled_download
from bookwise.http.roles import allows
from bookwise.http.routing import get, post
from bookwise.http.web.bulk import undo_href
from bookwise.http.web.common import USER_ERRORS, ShownError, href
from bookwise.http.web.templating import page
from bookwise.importing import uploads
from bookwise.importing.report import ImportReport
from bookwise.importing.uploads import KEEP_FOR, Upload, UploadOptions

router = APIRouter(include_in_schema=False)
SPOOL_BYTES = 8 * 1024 * 1024
KEEP_HOURS = int(KEEP_FOR.total_seconds() // 3600)


@get(router, "/import", role="manager")
def import_form(request: Request, cancelled: str = "") -> Any:
    """The upload form: what to import, the file, and how to read it."""
    notice = f"Cancelled: {cancelled} was not imported, and is deleted." if cancelled else ""
    return _form_page(request, notice=notice)


def _form_page(
    request: Request,
    *,
    kind: str = "accounts",
    options: UploadOptions | dict[str, Any] | None = None,
    error: ShownError | None = None,
    notice: str = "",
) -> Any:
    """The upload form (``options``: as typed, when they were refused)."""
    return page(
        request,
        "import.html",
        error.status if error else 200,
        kind=kind,
        options=options or UploadOptions(),
        error=error,
        notice=notice,
        keep_hours=KEEP_HOURS,
    )


@post(router, "/import", role="manager", upload=True)
def upload_file(
    request: Request,
    caller: CallerDep,
    file: Annotated[UploadFile | None, File()] = None,
    kind: Annotated[str, Form()] = "accounts",
    encoding: Annotated[str, Form(max_length=40)] = "",
    date_format: Annotated[str, Form(max_length=40)] = "",
    map_text: Annotated[str, Form(alias="map", max_length=20_000)] = "",
    all_or_nothing: Annotated[bool, Form()] = False,
) -> Any:
    """Keep the file for its preview, then show the preview (a redirect: PRG)."""
    try:
        options = UploadOptions.of(
            encoding=encoding,
            date_format=date_format,
            map_text=map_text,
            all_or_nothing=all_or_nothing,
        )
        if kind == "users" and not allows(caller.role, "admin"):
            raise Forbidden(f"importing users needs the admin role; you are a {caller.role}")
        if file is None or not file.filename:
            raise InvalidInput("choose the CSV file to import")
        upload = file

        def work(session: Session) -> Upload:
            return uploads.store_upload(
                session,
                stream=upload.file,
                filename=safe_filename(upload.filename),
                kind=kind,
                options=options,
                actor=acting_user(session, caller),
            )

        stored = writing(request, work)
    except USER_ERRORS as exc:
        typed = {
            "encoding": encoding,
            "date_format": date_format,
            "map": map_text.splitlines(),
            "all_or_nothing": all_or_nothing,
        }
        return _form_page(request, kind=kind, options=typed, error=ShownError.of(exc))
    return RedirectResponse(f"/import/{stored.token}", status_code=303)


@get(router, "/import/{token}", role="manager")
def upload_page(request: Request, caller: CallerDep, token: str) -> Any:
    """The dry run of the upload (mapping, counts, first problems; Apply), or its result."""
    with reading(request) as session:
        upload = uploads.get_upload(session, token, actor=acting_user(session, caller))
    if upload.report is not None:
        return _result_page(request, upload, upload.report)
    report: ImportReport | None = None
    error: ShownError | None = None

    def work(session: Session) -> ImportReport:
        return uploads.preview_upload(session, token, actor=acting_user(session, caller))

    try:
        report = writing(request, work)  # a dry run: its savepoint is rolled back
    except USER_ERRORS as exc:
        error = ShownError.of(exc)
    shown = uploads.report_dict(report, upload.filename) if report else None
    return page(
        request,
        "import_preview.html",
        200,
        upload=upload,
        report=shown,
        error=error,
        keep_hours=KEEP_HOURS,
        size=_size(upload.size),
        errors_href=f"/import/{token}/errors.csv",
    )


def _result_page(request: Request, upload: Upload, report: dict[str, Any]) -> Any:
    operation = report.get("operation_id")
    here = f"/import/{upload.token}"
    return page(
        request,
        "import_result.html",
        upload=upload,
        report=report,
        keep_hours=KEEP_HOURS,
        errors_href=f"{here}/errors.csv",
        operation_href=f"/operations/{operation}" if operation else "",
        undo_href=undo_href(operation, here) if operation else "",
    )


@post(router, "/import/{token}/options", role="manager")
def change_options(
    request: Request,
    caller: CallerDep,
    token: str,
    encoding: Annotated[str, Form(max_length=40)] = "",
    date_format: Annotated[str, Form(max_length=40)] = "",
    map_text: Annotated[str, Form(alias="map", max_length=20_000)] = "",
    all_or_nothing: Annotated[bool, Form()] = False,
) -> Any:
    """Read the kept file differently, and preview it again."""
    # Bad options are an error page (Back keeps what was typed); the kept file is unchanged.
    options = UploadOptions.of(
        encoding=encoding,
        date_format=date_format,
        map_text=map_text,
        all_or_nothing=all_or_nothing,
    )

    def work(session: Session) -> None:
        uploads.change_options(session, token, options=options, actor=acting_user(session, caller))

    writing(request, work)
    return RedirectResponse(f"/import/{token}", status_code=303)


@post(router, "/import/{token}/apply", role="manager")
def apply_upload(request: Request, caller: CallerDep, token: str) -> Any:
    """Import the kept file; then its result (a redirect: a refresh never imports again)."""

    def work(session: Session) -> None:
        uploads.apply_upload(session, token, actor=acting_user(session, caller))

    # A file that cannot be read as it is: the preview shows why (nothing was imported). A
    # gone upload is the 404 page.
    with contextlib.suppress(InvalidInput):
        writing(request, work)
    return RedirectResponse(f"/import/{token}", status_code=303)


@post(router, "/import/{token}/cancel", role="manager")
def cancel_upload(request: Request, caller: CallerDep, token: str) -> Any:
    """Delete the kept file (or the kept report) now."""

    def work(session: Session) -> str:
        return uploads.cancel_upload(session, token, actor=acting_user(session, caller))

    filename = writing(request, work)
    return RedirectResponse(href("/import", {"cancelled": filename}), status_code=303)


@get(router, "/import/{token}/errors.csv", role="manager")
def error_report(request: Request, caller: CallerDep, token: str) -> StreamingResponse:
    """Every problem of the file, one line each (line, column, value, reason), formula-safe:
    the import's, once applied; before, the dry run's."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with reading(request) as session:
            upload = uploads.get_upload(session, token, actor=acting_user(session, caller))
            if upload.applied:
                for chunk in uploads.error_chunks(
                    session, token, actor=acting_user(session, caller)
                ):
                    spool.write(chunk)
        if not upload.applied:
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="")

            def work(session: Session) -> None:
                actor = acting_user(session, caller)
                uploads.preview_upload(session, token, actor=actor, errors=text)

            writing(request, work)
            text.flush()
            text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = upload.filename.removesuffix(".csv") + ".errors.csv"
    return spooled_download(spool, name)


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024)):,} KB"
    return f"{size / (1024 * 1024):,.1f} MB"
