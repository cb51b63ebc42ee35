"""/api/v1/import/users: create or update users by email from a CSV upload (issue 15).

The same service as ``bookwise import users`` and the import page, in the shape of
``POST /import/accounts``: ``dry_run`` first, the report line by line, ``Idempotency-Key``.
Only admins may call it (a file can make anyone an admin).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.http.api.common import IdempotencyKey, api_router, idempotent_responses, run_once
from bookwise.http.api.files import (
    ERRORS_SHOWN,
    ImportCounts,
    import_counts,
    safe_filename,
    upload_digest,
)
from bookwise.http.context import CallerDep, acting_user
from bookwise.http.routing import post
from bookwise.importing.users import import_users

router = api_router("import and export")


class UsersImportReport(ImportCounts):
    """What a users import read, created, updated and refused, line by line.

    ``created + updated + unchanged + failed == rows_read``. ``written`` is false for a dry run
    and when ``all_or_nothing`` refused the file because some rows failed: then nothing was
    changed. ``errors`` lists the first 1,000 problems (``error_count`` says how many).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "file": "users.csv",
                    "encoding": "utf-8",
                    "delimiter": ",",
                    "mapping": [
                        {"column": "Email", "field": "email"},
                        {"column": "Name", "field": "name"},
                        {"column": "Role", "field": "role"},
                    ],
                    "ignored_columns": ["Team"],
                    "rows_read": 3,
                    "created": 1,
                    "updated": 1,
                    "unchanged": 0,
                    "failed": 1,
                    "written": False,
                    "dry_run": True,
                    "errors": [
                        {
                            "line": 4,
                            "column": "Role",
                            "value": "boss",
                            "reason": "'boss' is not admin, manager or viewer",
                        }
                    ],
                    "error_count": 1,
                }
            ]
        },
    )


class UsersImportForm(BaseModel):
    """A users CSV upload (``multipart/form-data``) and how to read it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"file": "users.csv", "dry_run": True}]}
    )

    file: UploadFile = Field(
        description="The CSV file: a header with an email column, and any of name, role "
        "(admin, manager, viewer), csm_seat, active (true/false), external_id."
    )
    encoding: str | None = Field(
        default=None, max_length=40, description="Only if neither UTF-8 nor UTF-16 with a BOM."
    )
    all_or_nothing: bool = Field(default=False, description="Write nothing if any row is bad.")
    dry_run: bool = Field(default=False, description="Read and check the file; write nothing.")


@post(
    router,
    "/import/users",
    role="admin",
    upload=True,
    response_model=UsersImportReport,
    summary="Import users from CSV",
    responses=idempotent_responses("The import report.", 400, 409, 413),
)
def import_users_csv(
    request: Request,
    caller: CallerDep,
    form: Annotated[UsersImportForm, Form(media_type="multipart/form-data")],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Create or update users by email (case-insensitively). A column absent from the file
    leaves that field alone; users missing from the file are never deleted or deactivated.
    Bad rows are reported line by line and the good ones are kept (unless
    ``all_or_nothing``). Send ``dry_run`` first to see the mapping and the problems."""
    filename = safe_filename(form.file.filename)
    digest = upload_digest(form.file)
    encoding = form.encoding or None

    def work(session: Session) -> UsersImportReport:
        report = import_users(
            session,
            path=Path(filename),
            actor=acting_user(session, caller),
            encoding=encoding,
            all_or_nothing=form.all_or_nothing,
            dry_run=form.dry_run,
            stream=form.file.file,  # read from its start, also when the write is retried
            keep_errors=ERRORS_SHOWN,
        )
        return UsersImportReport(**import_counts(report, filename))

    identity = {
        "sha256": digest,
        "encoding": encoding,
        "all_or_nothing": form.all_or_nothing,
        "dry_run": form.dry_run,
    }
    return run_once(request, caller, idempotency_key, identity, work)
