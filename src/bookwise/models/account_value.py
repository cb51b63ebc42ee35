"""Effective-dated history of the account fields reports read (issue 16).

One row per (account, field, period): the value the field held from ``valid_from`` until
``valid_to`` (open while NULL), with the value it replaced (``previous``), who changed it and
through what. Values are stored as text in one column: every report field is a short number,
a word or a date, and one narrow row per change is smaller than typed columns (docs/concepts.md
"Value history" gives the reasons and docs/performance.md the bytes per change).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, UTCDateTime, one_of

VALUE_HISTORY_FIELDS = (
    "mrr",
    "health_score",
    "tier",
    "lifecycle_stage",
    "nps",
    "csm_rating",
    "region",
    "renewal_date",
    "parent_id",
)
"""The account columns whose past values are kept (the report fields and the parent link)."""

VALUE_SOURCES = ("backfill", "create", "edit", "api", "import", "move", "undo", "demo", "survey")
"""How a value changed: ``backfill`` (migration 0015), ``create``/``edit`` (a person, CLI or
page), ``api``, ``import``, ``move`` (set-parent), ``undo``, ``demo``, ``survey`` (later)."""

OPEN_VALUE = text("valid_to IS NULL")


class AccountValue(Base):
    """The value of one field of one account over one period; closed, never overwritten."""

    __tablename__ = "account_values"
    __table_args__ = (
        CheckConstraint(one_of("field", VALUE_HISTORY_FIELDS), name="field"),
        CheckConstraint(one_of("source", VALUE_SOURCES), name="source"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        # An account's history of a field, and its value on a date, are one range of this.
        Index("ix_account_values_account", "account_id", "field", "valid_from"),
        # Triggers: "which accounts' health changed since T" is one range of this index.
        Index("ix_account_values_changed", "field", "valid_from"),
        # At most one open row per (account, field): what the writer compares against. It
        # holds the current values only, so it does not grow with the changes.
        Index(
            "uq_account_values_open",
            "account_id",
            "field",
            unique=True,
            sqlite_where=OPEN_VALUE,
            postgresql_where=OPEN_VALUE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(String(50))
    previous: Mapped[str | None] = mapped_column(String(50))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    import_id: Mapped[int | None] = mapped_column(Integer)
