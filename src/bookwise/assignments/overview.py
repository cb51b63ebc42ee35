"""The CSM overview and the book and team totals, read from the counters the triggers keep.

Each function here is one or two statements whose cost grows with the number of users, not
of accounts (``models.counters``; "How the overview counts stay exact" in docs/concepts.md).

The statements are SQLAlchemy Core over the few columns they read, named below, so that
``bookwise csms`` runs without the ORM and the models (about 0.1 s of start-up,
docs/performance.md "CLI start-up"). They take a Session or a bare Connection alike;
tests/assignments/test_overview_tables.py checks each column against the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_serializer
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    column,
    func,
    select,
)
from sqlalchemy import table as table_clause

from bookwise.money import from_minor_units

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bookwise.assignments.predicates import Who
    from bookwise.models import User

ACCOUNT_COUNT_ID = 1  # the one row of ``account_count`` (models.counters.ACCOUNT_COUNT_ID)

# The columns read here, by name (the tables are defined in bookwise.models).
USERS = table_clause(
    "users",
    column("id", Integer),
    column("email", String),
    column("email_fold", String),
    column("name", String),
    column("active", Boolean),
    column("csm_seat", Boolean),
)
BOOK_COUNTS = table_clause(
    "book_counts",
    column("user_id", Integer),
    column("role", String),
    column("accounts", Integer),
    column("mrr", BigInteger),
)
COVERAGE_COUNTS = table_clause(
    "coverage_counts",
    column("role", String),
    column("accounts", Integer),
    column("mrr", BigInteger),
)
ACCOUNT_COUNT = table_clause("account_count", column("id", Integer), column("accounts", Integer))


class CsmRow(BaseModel):
    """One active CSM-seat user with the size of their book."""

    email: str = Field(description="The CSM's email (secondary: people are named by `name`).")
    name: str = Field(description="The CSM's name.")
    accounts: int = Field(
        description="How many accounts the CSM owns (co-owned ones count in full)."
    )
    mrr: Decimal = Field(
        description="The MRR of those accounts, a decimal string in currency units."
    )

    @field_serializer("mrr")
    def _money(self, value: Decimal) -> str:
        return str(value)


class CsmOverview(BaseModel):
    """Every active CSM-seat user's book, plus team totals counted once per account."""

    items: list[CsmRow] = Field(description="One row per active user with a CSM seat.")
    total: int = Field(description="How many CSMs there are (all pages).")
    team_accounts: int = Field(description="How many distinct accounts the CSMs own together.")
    team_mrr: Decimal = Field(description="The MRR of those distinct accounts.")
    unassigned_accounts: int = Field(description="How many accounts no active user owns.")
    counting: str = Field(
        default="each co-owner gets full credit; team totals count distinct accounts",
        description="How co-owned accounts are counted, in words.",
    )

    @field_serializer("team_mrr")
    def _money(self, value: Decimal) -> str:
        return str(value)


def csm_overview(session: Session | Connection, *, role: str = "csm") -> CsmOverview:
    """Accounts and MRR per active CSM-seat user, and the team's totals.

    Read from the counters the triggers keep (``models.counters``): two statements whose
    cost grows with the number of users, not of accounts.
    """
    users, books = USERS.c, BOOK_COUNTS.c
    rows = session.execute(
        select(
            users.email,
            users.name,
            func.coalesce(books.accounts, 0),
            func.coalesce(books.mrr, 0),
        )
        .select_from(USERS)
        .outerjoin(BOOK_COUNTS, and_(books.user_id == users.id, books.role == role))
        .where(users.active.is_(True), users.csm_seat.is_(True))
        .order_by(users.email_fold)
    ).all()
    team = team_totals(session, role=role)
    return CsmOverview(
        items=[CsmRow(email=e, name=n, accounts=int(c), mrr=_units(m)) for e, n, c, m in rows],
        total=len(rows),
        team_accounts=team.team_accounts,
        team_mrr=_units(team.team_mrr),
        unassigned_accounts=team.unassigned_accounts,
    )


@dataclass(frozen=True)
class TeamTotals:
    """Accounts with an active owner in a role (and their MRR), and those without one."""

    team_accounts: int
    team_mrr: int
    unassigned_accounts: int


def team_totals(session: Session | Connection, *, role: str = "csm") -> TeamTotals:
    """The team's totals from the counters: one statement."""
    return team_of(*session.execute(select(*team_columns(role))).one())


def team_columns(role: Any) -> tuple[ColumnElement[Any], ...]:
    """The counters ``team_of`` reads, as scalar subqueries (``role``: a value or a bind
    parameter), to select alone or beside other columns."""
    coverage, counted = COVERAGE_COUNTS.c, ACCOUNT_COUNT.c
    return (
        select(coverage.accounts).where(coverage.role == role).scalar_subquery(),
        select(coverage.mrr).where(coverage.role == role).scalar_subquery(),
        select(counted.accounts).where(counted.id == ACCOUNT_COUNT_ID).scalar_subquery(),
    )


def team_of(team_accounts: Any, team_mrr: Any, total_accounts: Any) -> TeamTotals:
    """TeamTotals from the values of ``team_columns`` (a missing counter row reads as NULL,
    that is 0)."""
    team = int(team_accounts or 0)
    return TeamTotals(team, int(team_mrr or 0), int(total_accounts or 0) - team)


def book_accounts(user_id: Any, role: Any) -> ColumnElement[Any]:
    """How many accounts ``user_id`` (a column: correlated) owns in ``role``: a scalar
    subquery on the counters, NULL for a user who never owned one."""
    books = BOOK_COUNTS.c
    return (
        select(books.accounts).where(books.user_id == user_id, books.role == role).scalar_subquery()
    )


def _units(minor: object) -> Decimal:
    amount = from_minor_units(int(minor or 0))  # type: ignore[call-overload]
    assert amount is not None
    return amount


def book_sizes(session: Session, *, role: str = "csm") -> dict[int, int]:
    """Open accounts per user in ``role`` (users who own none are left out): the counters."""
    books = BOOK_COUNTS.c
    rows = session.execute(
        select(books.user_id, books.accounts).where(books.role == role, books.accounts > 0)
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def book_totals(session: Session, *, user_id: int, role: str = "csm") -> tuple[int, Decimal]:
    """How many accounts ``user_id`` owns in ``role``, and their MRR: one counter row."""
    books = BOOK_COUNTS.c
    found = session.execute(
        select(books.accounts, books.mrr).where(books.user_id == user_id, books.role == role)
    ).one_or_none()
    count, mrr = found if found is not None else (0, 0)
    return int(count), _units(mrr)


def account_total(session: Session) -> int:
    """How many accounts there are: the counter, not a scan."""
    counted = ACCOUNT_COUNT.c
    total = select(counted.accounts).where(counted.id == ACCOUNT_COUNT_ID)
    return int(session.scalar(total) or 0)


def not_assigned_total(
    overview: CsmOverview | TeamTotals, *, user: User, who: Who, book: int, role: str = "csm"
) -> int | None:
    """How many accounts are not assigned to ``user`` (per ``who``), from counts already made.

    Counting these lists directly scans every account (seconds at a million). The overview has
    counted the accounts with and without an active owner, and ``book`` is the number of
    accounts ``user`` owns: no-one's accounts are the overview's unassigned ones, and every
    account of an active user's book has an active owner, so "other CSMs" is the team's
    accounts minus that book and "all" is every account minus it. None when the numbers do not
    say (an inactive user's accounts may or may not have another owner): count instead.
    """
    if role != "csm":
        return None
    if who == "no-one":
        return overview.unassigned_accounts
    if not user.active:
        return None
    if who == "others":
        return overview.team_accounts - book
    return overview.team_accounts + overview.unassigned_accounts - book
