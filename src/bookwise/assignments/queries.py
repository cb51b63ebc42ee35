"""Read side of the assignment screen: the CSM overview and the account listings.

Ownership words (SEMANTICS.md): an account is *assigned to X* when X has an open row;
*no-one* when no active user has an open ``csm`` row (rows of deactivated users kept with
``--keep`` are flagged ``owner_inactive``); *other CSMs* when an active user other than X owns it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, field_serializer
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput
from bookwise.models import Account, Assignment, User
from bookwise.money import format_money, from_minor_units

Who = Literal["no-one", "others", "all"]
WHO_CHOICES: tuple[Who, ...] = ("no-one", "others", "all")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

SORT_COLUMNS: dict[str, Any] = {
    "name": Account.name_fold,
    "external_id": Account.external_id,
    "mrr": Account.mrr,
    "health_score": Account.health_score,
    "tier": Account.tier,
    "lifecycle_stage": Account.lifecycle_stage,
    "nps": Account.nps,
    "csm_rating": Account.csm_rating,
    "region": Account.region,
    "renewal_date": Account.renewal_date,
    "created_at": Account.created_at,
    "depth": Account.depth,
    "id": Account.id,
}


def owned_by(user_id: Any, role: str = "csm") -> ColumnElement[bool]:
    """SQL: ``user_id`` has an open ``role`` row on the account."""
    # IN over the user's book (a partial index range), not a correlated EXISTS per account:
    # the book is small next to the table, and NOT IN becomes one hash/ephemeral lookup.
    return Account.id.in_(
        select(Assignment.account_id).where(
            Assignment.user_id == user_id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
        )
    )


def owned_by_anyone_active(role: str = "csm", *, account: Any = Account) -> ColumnElement[bool]:
    """SQL: some active user has an open ``role`` row on ``account`` (or an alias of it)."""
    # A join, not ``user_id IN (active users)``: with IN, SQLite probes the unique index
    # once per active user for every account (200× the work at 200 CSMs).
    return exists(_active_owner_rows(select(Assignment.id), role, account))


def active_owner_count(role: str = "csm", *, account: Any = Account) -> ColumnElement[int]:
    """SQL: how many active users own ``account`` in ``role`` (a scalar subquery)."""
    counted = _active_owner_rows(select(func.count(Assignment.id)), role, account)
    return counted.scalar_subquery()


def _active_owner_rows(query: Select[Any], role: str, account: Any) -> Select[Any]:
    return (
        query.join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id == account.id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
            User.active.is_(True),
        )
        # Correlated with the account only, even inside a statement that joins assignments.
        .correlate(account)
    )


@dataclass(frozen=True)
class OwnershipFilter:
    """The assignment screen's filters; all of them narrow, none widens."""

    assigned_to: User | None = None
    not_assigned_to: User | None = None
    who: Who = "all"
    unassigned: bool = False
    role: str = "csm"

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on ``Account`` for this filter."""
        found: list[ColumnElement[bool]] = []
        if self.who not in WHO_CHOICES:
            raise InvalidInput(f"who must be one of {', '.join(WHO_CHOICES)}, not {self.who!r}")
        if self.assigned_to is not None:
            found.append(owned_by(self.assigned_to.id, self.role))
        if self.unassigned:
            found.append(~owned_by_anyone_active(self.role))
        if self.not_assigned_to is not None:
            mine = owned_by(self.not_assigned_to.id, self.role)
            anyone = owned_by_anyone_active(self.role)
            if self.who == "no-one":
                found.append(~anyone)
            elif self.who == "others":
                found.append(and_(anyone, ~mine))
            elif self.not_assigned_to.active:
                found.append(~mine)
            else:
                found.append(or_(~anyone, and_(anyone, ~mine)))
        return found

    def describe(self) -> str:
        """The filter in words, stored on operations that used it."""
        parts = []
        if self.assigned_to is not None:
            parts.append(f"assigned to {self.assigned_to.email}")
        if self.unassigned:
            parts.append("assigned to no-one")
        if self.not_assigned_to is not None:
            parts.append(f"not assigned to {self.not_assigned_to.email} (who: {self.who})")
        if self.role != "csm":
            parts.append(f"role {self.role}")
        return ", ".join(parts) or "all accounts"


def account_ids(where: list[ColumnElement[bool]]) -> Select[Any]:
    """A Select of the ids of every account matching ``where`` (a selection for bulk work)."""
    return select(Account.id).where(*where)


class AccountRow(BaseModel):
    """An account as listings show it."""

    id: int
    external_id: str | None
    name: str
    parent_id: int | None
    depth: int
    tier: int | None
    lifecycle_stage: str | None
    mrr: int | None
    health_score: int | None
    nps: int | None
    csm_rating: int | None
    region: str | None
    renewal_date: date | None
    created_at: datetime
    inherit_policy: str | None
    csms: list[str]
    owner_inactive: bool

    @field_serializer("mrr")
    def _money(self, value: int | None) -> str | None:
        return format_money(value) if value is not None else None


class AccountPage(BaseModel):
    """One page of a listing and the total number of matches."""

    items: list[AccountRow]
    total: int | None
    limit: int
    offset: int


def parse_sort(sort: str) -> tuple[Any, bool]:
    """``"-mrr"`` → (mrr column, descending); unknown fields list the valid ones."""
    descending = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORT_COLUMNS:
        raise InvalidInput(f"cannot sort by {key!r}; sortable: {', '.join(SORT_COLUMNS)}")
    return SORT_COLUMNS[key], descending


def list_accounts(
    session: Session,
    *,
    where: list[ColumnElement[bool]],
    sort: str = "name",
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
    with_total: bool = True,
) -> AccountPage:
    """A page of matching accounts (with their CSMs) and the total: three statements."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    column, descending = parse_sort(sort)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    tiebreak = Account.id.desc() if descending else Account.id.asc()
    accounts = list(
        session.scalars(
            select(Account).where(*where).order_by(order, tiebreak).limit(limit).offset(offset)
        )
    )
    total = count_accounts(session, where=where) if with_total else None
    owners = _owners_of(session, [a.id for a in accounts])
    items = []
    for account in accounts:
        active = [email for email, is_active in owners.get(account.id, []) if is_active]
        inactive = [email for email, is_active in owners.get(account.id, []) if not is_active]
        items.append(
            AccountRow(
                id=account.id,
                external_id=account.external_id,
                name=account.name,
                parent_id=account.parent_id,
                depth=account.depth,
                tier=account.tier,
                lifecycle_stage=account.lifecycle_stage,
                mrr=account.mrr,
                health_score=account.health_score,
                nps=account.nps,
                csm_rating=account.csm_rating,
                region=account.region,
                renewal_date=account.renewal_date,
                created_at=account.created_at,
                inherit_policy=account.inherit_policy,
                csms=active + inactive,
                owner_inactive=bool(inactive) and not active,
            )
        )
    return AccountPage(items=items, total=total, limit=limit, offset=offset)


def book_sizes(session: Session, *, role: str = "csm") -> dict[int, int]:
    """Open accounts per user in ``role``: one grouped statement."""
    rows = session.execute(
        select(Assignment.user_id, func.count())
        .where(Assignment.role == role, Assignment.ended_at.is_(None))
        .group_by(Assignment.user_id)
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def count_accounts(session: Session, *, where: list[ColumnElement[bool]]) -> int:
    """Number of accounts matching ``where``."""
    return int(session.scalar(select(func.count()).select_from(Account).where(*where)) or 0)


def _owners_of(
    session: Session, account_ids: list[int], role: str = "csm"
) -> dict[int, list[tuple[str, bool]]]:
    if not account_ids:
        return {}
    rows = session.execute(
        select(Assignment.account_id, User.email, User.active)
        .join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id.in_(account_ids),
            Assignment.role == role,
            Assignment.ended_at.is_(None),
        )
        .order_by(Assignment.account_id, Assignment.started_at, Assignment.id)
    ).all()
    owners: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for account_id, email, active in rows:
        owners[account_id].append((email, bool(active)))
    return owners


class CsmRow(BaseModel):
    """One active CSM-seat user with the size of their book."""

    email: str
    name: str
    accounts: int
    mrr: Decimal

    @field_serializer("mrr")
    def _money(self, value: Decimal) -> str:
        return str(value)


class CsmOverview(BaseModel):
    """Every active CSM-seat user's book, plus team totals counted once per account."""

    items: list[CsmRow]
    total: int
    team_accounts: int
    team_mrr: Decimal
    unassigned_accounts: int
    counting: str = "each co-owner gets full credit; team totals count distinct accounts"

    @field_serializer("team_mrr")
    def _money(self, value: Decimal) -> str:
        return str(value)


def csm_overview(session: Session, *, role: str = "csm") -> CsmOverview:
    """Accounts and MRR per active CSM-seat user (three statements, whatever the size)."""
    rows = session.execute(
        select(
            User.email,
            User.name,
            func.count(Assignment.account_id),
            func.coalesce(func.sum(Account.mrr), 0),
        )
        .select_from(User)
        .outerjoin(
            Assignment,
            and_(
                Assignment.user_id == User.id,
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            ),
        )
        .outerjoin(Account, Account.id == Assignment.account_id)
        .where(User.active.is_(True), User.csm_seat.is_(True))
        .group_by(User.id, User.email, User.name, User.email_fold)
        .order_by(User.email_fold)
    ).all()
    team = session.execute(
        select(func.count(), func.coalesce(func.sum(Account.mrr), 0)).where(
            owned_by_anyone_active(role)
        )
    ).one()
    total_accounts = int(session.scalar(select(func.count()).select_from(Account)) or 0)
    return CsmOverview(
        items=[CsmRow(email=e, name=n, accounts=int(c), mrr=_units(m)) for e, n, c, m in rows],
        total=len(rows),
        team_accounts=int(team[0]),
        team_mrr=_units(team[1]),
        unassigned_accounts=total_accounts - int(team[0]),
    )


def _units(minor: object) -> Decimal:
    amount = from_minor_units(int(minor or 0))  # type: ignore[call-overload]
    assert amount is not None
    return amount


def book_totals(session: Session, *, user_id: int, role: str = "csm") -> tuple[int, Decimal]:
    """How many accounts ``user_id`` owns in ``role``, and their MRR: one statement."""
    count, mrr = session.execute(
        select(func.count(), func.coalesce(func.sum(Account.mrr), 0)).where(owned_by(user_id, role))
    ).one()
    return int(count), _units(mrr)


def not_assigned_total(
    overview: CsmOverview, *, user: User, who: Who, book: int, role: str = "csm"
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
