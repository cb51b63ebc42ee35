"""/api/v1/import/accounts (CSV upload, the import report) and /api/v1/export/accounts (CSV)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, TextIO

from fastapi import Form, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput
from bookwise.exporting import write_accounts_csv
from bookwise.http.api.common import (
    IdempotencyKey,
    api_router,
    idempotent_responses,
    problems,
    run_once,
)
from bookwise.http.api.filters import QueryFilter, Sort
from bookwise.http.context import CallerDep, acting_user
from bookwise.http.downloads import csv_download
from bookwise.http.routing import get, post
from bookwise.importing import report as reports
from bookwise.importing.accounts import ImportOptions, import_accounts
from bookwise.importing.mapping import parse_overrides

router = api_router("import and export")
ERRORS_SHOWN = 1000
CHUNK = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class ColumnMapping(BaseModel):
    """Which field a column of the file fed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"column": "ARR (USD)", "field": "mrr"}]}
    )

    column: str = Field(description="The CSV file's column.")
    field: str = Field(description="The account field it fills.")


class ImportProblem(BaseModel):
    """One problem of the file: physical line, column, the value, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"line": 4, "column": "Health Score", "value": "101", "reason": "at most 100"}
            ]
        }
    )

    line: int = Field(description="The file's line number.")
    column: str = Field(description="The column at fault.")
    value: str = Field(description="As in the file (formula-like text is prefixed with ').")
    reason: str = Field(description="What is wrong, and how to fix it.")


class ImportCounts(BaseModel):
    """What every import reports: the file as read, the counts, and the first problems."""

    file: str = Field(description="The uploaded file's name.")
    encoding: str = Field(description="The text encoding the file was read with.")
    delimiter: str = Field(description="The column delimiter the file was read with.")
    mapping: list[ColumnMapping] = Field(description="Which column fills which field.")
    ignored_columns: list[str] = Field(description="Columns that fill no field.")
    rows_read: int = Field(description="How many data rows were read.")
    created: int = Field(description="Rows created (or that would be, in a dry run).")
    updated: int = Field(description="Rows updated (or that would be).")
    unchanged: int = Field(description="Rows that change nothing.")
    failed: int = Field(description="Rows refused (see `errors`).")
    written: bool = Field(description="True when the import was saved.")
    dry_run: bool = Field(description="True for a dry run: nothing was written.")
    errors: list[ImportProblem] = Field(description="The first problems, one per row and column.")
    error_count: int = Field(description="How many problems there are in all.")


def import_counts(report: reports.ImportReport, filename: str) -> dict[str, Any]:
    """The fields of :class:`ImportCounts`, from the service's report."""
    return {
        "file": filename,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "mapping": [ColumnMapping(column=c, field=f) for c, f in report.mapping],
        "ignored_columns": report.ignored,
        "rows_read": report.rows_read,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "written": report.written,
        "dry_run": report.dry_run,
        "errors": [ImportProblem(**problem.__dict__) for problem in report.errors],
        "error_count": report.error_count,
    }


class ImportReport(ImportCounts):
    """What an import read, created, updated and refused, line by line.

    ``created + updated + unchanged + failed == rows_read``. ``written`` is false for a dry run
    and when ``all_or_nothing`` refused the file because some rows failed: then nothing was
    changed. ``errors`` lists the first 1,000 problems (``error_count`` says how many there
    are). ``operation_id`` is the ownership change (undo it with POST /operations/{id}/undo).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "file": "accounts.csv",
                    "encoding": "utf-8",
                    "delimiter": ",",
                    "mapping": [
                        {"column": "Account ID", "field": "external_id"},
                        {"column": "Account Name", "field": "name"},
                        {"column": "CSM", "field": "csms"},
                    ],
                    "ignored_columns": ["Notes"],
                    "rows_read": 3,
                    "created": 1,
                    "updated": 1,
                    "unchanged": 0,
                    "failed": 1,
                    "written": True,
                    "dry_run": False,
                    "operation_id": 57,
                    "owners": {"assigned": 1, "unassigned": 0},
                    "has_owner_column": True,
                    "ignored_owner_columns": [],
                    "warnings": [],
                    "errors": [
                        {
                            "line": 4,
                            "column": "MRR",
                            "value": "12,5",
                            "reason": "'12,5' is ambiguous; use '.' for decimals",
                        }
                    ],
                    "error_count": 1,
                }
            ]
        },
    )

    operation_id: int | None = Field(
        description="The ownership operation the import ran, if it changed owners."
    )
    owners: dict[str, int] = Field(description="Owner changes by outcome (owner columns only).")
    has_owner_column: bool = Field(
        description="False when no column names owners: the owners were left unchanged."
    )
    ignored_owner_columns: list[str] = Field(
        description="Ignored columns whose name suggests owners (csm, owner, manager)."
    )
    warnings: list[str] = Field(
        description="What not to miss, e.g. `owners unchanged: no owner column` and how to map "
        "an ignored owner-like column."
    )


class ImportForm(BaseModel):
    """A CSV upload (``multipart/form-data``) and how to read it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"file": "accounts.csv", "map": ["ARR (USD)=mrr"], "dry_run": True}]
        }
    )

    file: UploadFile = Field(
        description="The CSV file: bookwise's own export, Salesforce, HubSpot, …"
    )
    map: list[Annotated[str, StringConstraints(max_length=300)]] = Field(
        default_factory=list,
        max_length=200,
        description="`SOURCE=FIELD`: feed column SOURCE into FIELD (a field, custom.NAME, "
        "owner_ids or ignore). Repeatable.",
        examples=[["ARR (USD)=mrr"]],
    )
    encoding: str | None = Field(
        default=None, max_length=40, description="Only if neither UTF-8 nor UTF-16 with a BOM."
    )
    date_format: str | None = Field(
        default=None, max_length=40, description="Dates such as `%d/%m/%Y` (default ISO)."
    )
    all_or_nothing: bool = Field(default=False, description="Write nothing if any row is bad.")
    dry_run: bool = Field(default=False, description="Read and check the file; write nothing.")


def _report_out(report: reports.ImportReport, filename: str) -> ImportReport:
    return ImportReport(
        **import_counts(report, filename),
        operation_id=report.operation_id,
        owners=report.owner_counts,
        has_owner_column=bool(report.has_owner_column),
        ignored_owner_columns=report.ignored_owner_columns,
        warnings=report.owner_warnings,
    )


def safe_filename(name: str | None) -> str:
    """The upload's own file name without any directory or odd character (for messages)."""
    base = _UNSAFE.sub("_", Path(name or "").name).strip(" .")[:100]
    return base or "upload.csv"


def upload_digest(upload: UploadFile) -> str:
    """The upload's SHA-256 (what makes a retry the same), read where the upload is.

    The import reads the upload's own spooled file too: a copy under /tmp outlived an import
    that was killed (issue 14), while the spool is unlinked from the start (an anonymous
    temporary file), so nothing is left behind whatever happens to the process.
    """
    digest = hashlib.sha256()
    upload.file.seek(0)
    while chunk := upload.file.read(CHUNK):
        digest.update(chunk)
    upload.file.seek(0)
    return digest.hexdigest()


def _overrides(pairs: list[str]) -> dict[str, str]:
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InvalidInput(f"map {pair!r}: expected SOURCE=FIELD, e.g. 'ARR (USD)=mrr'")
    return parse_overrides(pairs)


@post(
    router,
    "/import/accounts",
    role="manager",
    upload=True,
    response_model=ImportReport,
    summary="Import accounts from CSV",
    responses=idempotent_responses("The import report.", 400, 404, 409, 413),
)
def import_accounts_csv(
    request: Request,
    caller: CallerDep,
    form: Annotated[ImportForm, Form(media_type="multipart/form-data")],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Create or update accounts by external id. A column absent from the file leaves that
    field alone; an empty cell clears it; accounts missing from the file are never deleted.
    The owner column (emails separated by ``;``) becomes the exact set of CSMs. Bad rows are
    reported line by line and the good ones are kept (unless ``all_or_nothing``)."""
    options = ImportOptions(
        encoding=form.encoding or None,
        date_format=form.date_format or None,
        overrides=_overrides(form.map),
        all_or_nothing=form.all_or_nothing,
        dry_run=form.dry_run,
        keep_errors=ERRORS_SHOWN,
    )
    filename = safe_filename(form.file.filename)
    digest = upload_digest(form.file)

    def work(session: Session) -> ImportReport:
        report = import_accounts(
            session,
            path=Path(filename),
            actor=acting_user(session, caller),
            options=options,
            stream=form.file.file,  # read from its start, also when the write is retried
        )
        return _report_out(report, filename)

    identity = {"sha256": digest, "options": options.__dict__}
    return run_once(request, caller, idempotency_key, identity, work)


@get(
    router,
    "/export/accounts",
    role="viewer",
    summary="Export accounts as CSV",
    response_class=StreamingResponse,
    responses={
        **problems(404),
        200: {
            "description": "UTF-8 CSV (CRLF, every cell quoted): bookwise's export marker line, "
            "the header, one row per account. Text a spreadsheet would run as a formula is "
            "prefixed with `'`; `POST /import/accounts` reads the file back as it was.",
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": '"external_id","name","parent_external_id","domain","mrr",…\r\n'
                    '"ACME-1","Acme Corp","","acme.example","5000.00",…\r\n',
                }
            },
        },
    },
)
def export_accounts_csv(
    request: Request, filters: QueryFilter, sort: Sort = "name"
) -> StreamingResponse:
    """Every account ``GET /accounts`` would list with the same filters (all pages), in the
    columns ``POST /import/accounts`` reads back, custom attributes included."""

    def write(session: Session, stream: TextIO) -> int:
        where, _ = filters.conditions(session)
        return write_accounts_csv(session, stream, where=where, sort=sort)

    return csv_download(request, write, "accounts.csv")
