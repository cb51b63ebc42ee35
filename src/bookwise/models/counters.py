"""Counters of the CSM overview, kept exact by database triggers (migration 0008).

Nothing in the application writes these tables: triggers on ``assignments``, ``accounts`` and
``users`` change them in the same statement as the rows they count, and
``bookwise.assignments.counters.recount_book_totals`` rebuilds them from scratch. A missing
row counts as zero.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base

ACCOUNT_COUNT_ID = 1  # the one row of ``account_count``


class BookCount(Base):
    """One user's open rows in one role (``accounts``) and the MRR of those accounts."""

    __tablename__ = "book_counts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    mrr: Mapped[int] = mapped_column(BigInteger, default=0)


class CoverageCount(Base):
    """Accounts with at least one active owner in ``role``, and their MRR (each counted once)."""

    __tablename__ = "coverage_counts"

    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    mrr: Mapped[int] = mapped_column(BigInteger, default=0)


class AccountCount(Base):
    """How many accounts exist: one row, ``id = 1``."""

    __tablename__ = "account_count"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
