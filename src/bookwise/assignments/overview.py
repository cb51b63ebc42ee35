"""The CSM overview and the book and team totals, read from the counters the triggers keep.

Each function here is one or two statements whose cost grows with the number of users, not
of accounts (``models.counters``; "How the overview counts stay exact" in docs/concepts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, Field, field_serializer
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bookwise.assignments.predicates import Who
from bookwise.models import ACCOUNT_COUNT_ID, AccountCount, BookCount, CoverageCount, User
from bookwise.money import from_minor_units


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


def csm_overview(session: Session, *, role: str = "csm") -> CsmOverview:
    """Accounts and MRR per active CSM-seat user, and the team's totals.

    Read from the counters the triggers keep (``models.counters``): two statements whose
    cost grows with the number of users, not of accounts.
    """
    rows = session.execute(
        select(
            User.email,
            User.name,
            func.coalesce(BookCount.accounts, 0),
            func.coalesce(BookCount.mrr, 0),
        )
        .select_from(User)
        .outerjoin(BookCount, and_(BookCount.user_id == User.id, BookCount.role == role))
        .where(User.active.is_(True), User.csm_seat.is_(True))
        .order_by(User.email_fold)
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


def team_totals(session: Session, *, role: str = "csm") -> TeamTotals:
    """The team's totals from the counters: one statement."""
    # One row of scalars; a missing counter row reads as NULL, that is 0.
    team_accounts, team_mrr, total_accounts = session.execute(
        select(
            select(CoverageCount.accounts).where(CoverageCount.role == role).scalar_subquery(),
            select(CoverageCount.mrr).where(CoverageCount.role == role).scalar_subquery(),
            select(AccountCount.accounts)
            .where(AccountCount.id == ACCOUNT_COUNT_ID)
            .scalar_subquery(),
        )
    ).one()
    team = int(team_accounts or 0)
    return TeamTotals(team, int(team_mrr or 0), int(total_accounts or 0) - team)


def _units(minor: object) -> Decimal:
    amount = from_minor_units(int(minor or 0))  # type: ignore[call-overload]
    assert amount is not None
    return amount


def book_sizes(session: Session, *, role: str = "csm") -> dict[int, int]:
    """Open accounts per user in ``role`` (users who own none are left out): the counters."""
    rows = session.execute(
        select(BookCount.user_id, BookCount.accounts).where(
            BookCount.role == role, BookCount.accounts > 0
        )
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def book_totals(session: Session, *, user_id: int, role: str = "csm") -> tuple[int, Decimal]:
    """How many accounts ``user_id`` owns in ``role``, and their MRR: one counter row."""
    found = session.execute(
        select(BookCount.accounts, BookCount.mrr).where(
            BookCount.user_id == user_id, BookCount.role == role
        )
    ).one_or_none()
    count, mrr = found if found is not None else (0, 0)
    return int(count), _units(mrr)


def account_total(session: Session) -> int:
    """How many accounts there are: the counter, not a scan."""
    total = select(AccountCount.accounts).where(AccountCount.id == ACCOUNT_COUNT_ID)
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
