"""A file uploaded for a web import: kept in the database between its preview and its apply.

The import page shows a dry run of the file first and imports exactly that file when the
person applies it. Between the two requests the file lives in ``import_upload_chunks`` (never
in a file of its own under /tmp, which would outlive a killed server): applying or cancelling
deletes it, and any upload left by an abandoned preview is deleted by the next upload once it
is older than :data:`KEEP_FOR`. After the apply, the row keeps the report and the per-line
error CSV (formula-safe) for download, as long.

Reading the file back, it is spooled into an anonymous temporary file (unlinked from the
start), as the API's own upload is: nothing is left behind whatever happens to the process.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput, NotFound
from bookwise.importing.accounts import ImportOptions, import_accounts
from bookwise.importing.mapping import parse_overrides
from bookwise.importing.report import SCREEN_ERRORS, ImportReport
from bookwise.importing.users import import_users
from bookwise.models import ImportUpload, ImportUploadChunk, User, utcnow

KEEP_FOR = timedelta(hours=2)
"""How long an upload (or, once applied, its report) is kept: then the next upload deletes it."""
CHUNK_BYTES = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
FILE, ERRORS = "file", "errors"
Kind = Literal["accounts", "users"]
KINDS: tuple[Kind, ...] = ("accounts", "users")
GONE = (
    "this upload is gone: it was cancelled, or is older than {hours} hours; upload the file again"
)


@dataclass(frozen=True)
class UploadOptions:
    """How to read an uploaded file, as the import page's form gives them."""

    encoding: str = ""
    date_format: str = ""
    map: tuple[str, ...] = ()
    all_or_nothing: bool = False

    def __post_init__(self) -> None:
        """Bad options are refused before the file is stored (as ``ImportOptions`` does)."""
        self.import_options(dry_run=True)

    @staticmethod
    def of(
        *, encoding: str = "", date_format: str = "", map_text: str = "", all_or_nothing: bool
    ) -> UploadOptions:
        """The options from the form's fields (``map_text``: one SOURCE=FIELD per line)."""
        lines = tuple(line.strip() for line in map_text.splitlines() if line.strip())
        for line in lines:
            source, sep, target = line.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise InvalidInput(
                    f"column mapping {line!r}: write one SOURCE=FIELD per line, e.g. ARR (USD)=mrr"
                )
        return UploadOptions(encoding.strip(), date_format.strip(), lines, all_or_nothing)

    def import_options(self, *, dry_run: bool) -> ImportOptions:
        """The accounts import's options."""
        return ImportOptions(
            encoding=self.encoding or None,
            date_format=self.date_format or None,
            overrides=parse_overrides(self.map),
            all_or_nothing=self.all_or_nothing,
            dry_run=dry_run,
        )

    def to_json(self) -> str:
        """As stored with the upload."""
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> UploadOptions:
        """As stored with the upload."""
        data: dict[str, Any] = json.loads(text)
        data["map"] = tuple(data.get("map") or ())
        return UploadOptions(**data)


@dataclass(frozen=True)
class Upload:
    """An upload as the pages show it."""

    token: str
    kind: Kind
    filename: str
    size: int
    options: UploadOptions
    report: dict[str, Any] | None = field(default=None)

    @property
    def applied(self) -> bool:
        """True once the file was imported (then only its report is kept)."""
        return self.report is not None


def store_upload(
    session: Session,
    *,
    stream: BinaryIO,
    filename: str,
    kind: str,
    options: UploadOptions,
    actor: User,
) -> Upload:
    """Keep ``stream`` (read in chunks, never whole) for its preview and apply; deletes the
    uploads left over from abandoned previews first."""
    if kind not in KINDS:
        raise InvalidInput(f"import {kind!r}? choose accounts or users")
    purge_expired(session)
    row = ImportUpload(
        token=secrets.token_urlsafe(24),
        user_id=actor.id,
        kind=kind,
        filename=filename,
        sha256="",
        size=0,
        options=options.to_json(),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    digest = hashlib.sha256()
    stream.seek(0)
    row.size = _store_chunks(session, row.id, FILE, stream, digest)
    if row.size == 0:
        raise InvalidInput(f"{filename} is empty: choose the CSV file to import")
    row.sha256 = digest.hexdigest()
    session.flush()
    return _shown(row)


def _store_chunks(
    session: Session, upload_id: int, part: str, stream: IO[bytes], digest: Any = None
) -> int:
    size = 0
    seq = 0
    while chunk := stream.read(CHUNK_BYTES):
        session.execute(
            insert(ImportUploadChunk),
            {"upload_id": upload_id, "part": part, "seq": seq, "data": chunk},
        )
        if digest is not None:
            digest.update(chunk)
        size += len(chunk)
        seq += 1
    return size


def purge_expired(session: Session) -> None:
    """Delete every upload (file, report, errors) older than :data:`KEEP_FOR`."""
    old = select(ImportUpload.id).where(ImportUpload.created_at < utcnow() - KEEP_FOR)
    session.execute(delete(ImportUploadChunk).where(ImportUploadChunk.upload_id.in_(old)))
    session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - KEEP_FOR))


def _row(session: Session, token: str, actor: User, *, lock: bool = False) -> ImportUpload:
    query = select(ImportUpload).where(ImportUpload.token == token)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    # Someone else's upload is as good as gone: its file is theirs to apply.
    if row is None or row.user_id != actor.id or row.created_at < utcnow() - KEEP_FOR:
        raise NotFound(GONE.format(hours=int(KEEP_FOR.total_seconds() // 3600)))
    return row


def _shown(row: ImportUpload) -> Upload:
    return Upload(
        token=row.token,
        kind="users" if row.kind == "users" else "accounts",
        filename=row.filename,
        size=row.size,
        options=UploadOptions.from_json(row.options),
        report=json.loads(row.report) if row.report else None,
    )


def get_upload(session: Session, token: str, *, actor: User) -> Upload:
    """The caller's own upload (NotFound when gone, or another person's)."""
    return _shown(_row(session, token, actor))


def change_options(session: Session, token: str, *, options: UploadOptions, actor: User) -> None:
    """Read the stored file differently (encoding, date format, column mapping, …)."""
    row = _row(session, token, actor, lock=True)
    if row.report is not None:
        raise InvalidInput("this file was imported already; upload it again to import it again")
    row.options = options.to_json()
    session.flush()


def cancel_upload(session: Session, token: str, *, actor: User) -> str:
    """Delete the upload (its file, or its report) now; returns its file name."""
    row = _row(session, token, actor, lock=True)
    session.execute(delete(ImportUploadChunk).where(ImportUploadChunk.upload_id == row.id))
    session.delete(row)
    session.flush()
    return row.filename


def preview_upload(
    session: Session, token: str, *, actor: User, errors: IO[str] | None = None
) -> ImportReport:
    """The dry run of the stored file: what applying would do (``errors``: every problem)."""
    row = _row(session, token, actor)
    if row.report is not None:
        raise InvalidInput("this file was imported already; upload it again to import it again")
    return _run(session, row, actor=actor, dry_run=True, errors=errors)


def apply_upload(session: Session, token: str, *, actor: User) -> dict[str, Any]:
    """Import the stored file; delete it and keep the report and error CSV instead.

    Applying twice (a second click, a resubmitted form) imports once: the second returns the
    report of the first.
    """
    row = _row(session, token, actor, lock=True)
    if row.report is not None:
        return dict(json.loads(row.report))
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        report = _run(session, row, actor=actor, dry_run=False, errors=text)
        text.flush()
        text.detach()
        spool.seek(0)
        session.execute(
            delete(ImportUploadChunk).where(
                ImportUploadChunk.upload_id == row.id, ImportUploadChunk.part == FILE
            )
        )
        _store_chunks(session, row.id, ERRORS, spool)
    shown = report_dict(report, row.filename)
    row.report = json.dumps(shown)
    session.flush()
    return shown


def report_dict(report: ImportReport, filename: str) -> dict[str, Any]:
    """The report as pages show it (and as the upload keeps it)."""
    shown = report.as_dict()
    shown["file"] = filename
    shown["error_count"] = report.error_count
    shown["error_file"] = None
    return shown


def error_chunks(session: Session, token: str, *, actor: User) -> Iterator[bytes]:
    """The applied import's per-line error CSV, chunk by chunk."""
    row = _row(session, token, actor)
    if row.report is None:
        raise InvalidInput("this file is not imported yet: its preview lists its problems")
    query = (
        select(ImportUploadChunk.data)
        .where(ImportUploadChunk.upload_id == row.id, ImportUploadChunk.part == ERRORS)
        .order_by(ImportUploadChunk.seq)
    )
    yield from session.scalars(query.execution_options(yield_per=1))


def _run(
    session: Session, row: ImportUpload, *, actor: User, dry_run: bool, errors: IO[str] | None
) -> ImportReport:
    options = UploadOptions.from_json(row.options)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        query = (
            select(ImportUploadChunk.data)
            .where(ImportUploadChunk.upload_id == row.id, ImportUploadChunk.part == FILE)
            .order_by(ImportUploadChunk.seq)
        )
        for chunk in session.scalars(query.execution_options(yield_per=1)):
            spool.write(chunk)
        spool.seek(0)
        stream: BinaryIO = spool  # type: ignore[assignment]
        path = Path(row.filename)
        if row.kind == "users":
            report = import_users(
                session,
                path=path,
                actor=actor,
                encoding=options.encoding or None,
                all_or_nothing=options.all_or_nothing,
                dry_run=dry_run,
                errors=errors,  # type: ignore[arg-type]
                stream=stream,
            )
        else:
            report = import_accounts(
                session,
                path=path,
                actor=actor,
                options=options.import_options(dry_run=dry_run),
                errors=errors,  # type: ignore[arg-type]
                stream=stream,
            )
    report.errors = report.errors[:SCREEN_ERRORS]
    return report
