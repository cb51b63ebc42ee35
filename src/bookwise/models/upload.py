"""A CSV file uploaded on the import page, kept only between its preview and its apply.

The web import shows a dry run first and imports exactly that file when the person applies
it, so the file must outlive one request. It is kept here, in the database, in chunks, never
in a file under /tmp: applying or cancelling deletes the file, and the next upload deletes
any left by an abandoned preview once they are older than ``importing.uploads.KEEP_FOR``.
After the apply, the same row keeps the report and its per-line error CSV for download, for
that long too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, UTCDateTime, utcnow


class ImportUpload(Base):
    """One uploaded file: who, what kind, how to read it; after the apply, its report."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # accounts | users
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    options: Mapped[str] = mapped_column(Text)  # JSON: encoding, date_format, map, …
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    report: Mapped[str | None] = mapped_column(Text)  # JSON, once applied


class ImportUploadChunk(Base):
    """A piece of an upload's file (``part`` file) or of its error report (``errors``)."""

    __tablename__ = "import_upload_chunks"

    upload_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[str] = mapped_column(String(10), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
