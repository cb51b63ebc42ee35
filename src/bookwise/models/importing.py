"""Scratch tables of a CSV import: rows live only inside the transaction of one import.

Each batch of the file is written here with one executemany (SQLite) or COPY (PostgreSQL);
the merge into ``accounts`` then runs a fixed number of set-based statements over them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base


class ImportRow(Base):
    """One good line of an import file, staged with its values and, later, its outcome."""

    __tablename__ = "import_rows"
    __table_args__ = (
        Index("ix_import_rows_external", "import_id", "external_id", "line"),
        Index("ix_import_rows_account", "import_id", "account_id"),
        Index("ix_import_rows_node", "import_id", "node_key"),
        Index("ix_import_rows_parent", "import_id", "parent_key"),
    )

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))
    name_fold: Mapped[str | None] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(255))
    mrr: Mapped[int | None] = mapped_column(BigInteger)
    health_score: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[int | None] = mapped_column(Integer)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(50))
    nps: Mapped[int | None] = mapped_column(Integer)
    csm_rating: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(50))
    renewal_date: Mapped[date | None] = mapped_column(Date)
    inherit_policy: Mapped[str | None] = mapped_column(String(10))
    parent_ref: Mapped[str | None] = mapped_column(String(100))
    custom: Mapped[str | None] = mapped_column(Text)  # JSON object text of the custom cells
    has_owners: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filled in by the merge:
    account_id: Mapped[int | None] = mapped_column(Integer)
    node_key: Mapped[int | None] = mapped_column(Integer)  # account id, or -line when new
    parent_key: Mapped[int | None] = mapped_column(Integer)
    moved: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str | None] = mapped_column(String(10))  # created | updated | unchanged
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    error_column: Mapped[str | None] = mapped_column(String(200))
    error_value: Mapped[str | None] = mapped_column(Text)
    error_reason: Mapped[str | None] = mapped_column(Text)


class ImportOwner(Base):
    """One owner named in a row's owner cell: an email or full name, or a user's external id.

    ``ref`` is the folded email or name (``by_email``) or the external id in its stored form;
    ``written`` is the cell's text, which error messages quote.
    """

    __tablename__ = "import_owners"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(320))
    by_email: Mapped[bool] = mapped_column(Boolean)
    written: Mapped[str] = mapped_column(String(320), default="", server_default="")
    user_id: Mapped[int | None] = mapped_column(Integer)


class ImportProblem(Base):
    """A value of the file that did not fit its field, found while reading the file."""

    __tablename__ = "import_problems"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
