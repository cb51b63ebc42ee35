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

from bookwise.db import is_sqlite
from bookwise.errors import InvalidInput
from bookwise.models import (
    ACCOUNT_COUNT_ID,
    Account,
    AccountCount,
    Assignment,
    BookCount,
    CoverageCount,
    User,
)
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

    def counted_total(self, session: Session) -> int | None:
        """How many accounts this filter selects, read from the counters (no scan), or None
        when the counters cannot say (filters combined, an inactive user's "others")."""
        if self.assigned_to is not None:
            if self.not_assigned_to is not None or self.unassigned:
                return None
            return book_totals(session, user_id=self.assigned_to.id, role=self.role)[0]
        if self.unassigned:
            if self.not_assigned_to is not None and self.who != "no-one":
                return None
            return team_totals(session, role=self.role).unassigned_accounts
        if self.not_assigned_to is not None:
            book = book_totals(session, user_id=self.not_assigned_to.id, role=self.role)[0]
            return not_assigned_total(
                team_totals(session, role=self.role),
                user=self.not_assigned_to,
                who=self.who,
                book=book,
                role=self.role,
            )
        return None

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


_ROW_COLUMNS = tuple(
    getattr(Account, name)
    for name in AccountRow.model_fields
    if name not in ("csms", "owner_inactive")
)


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


def sort_order(
    sort: str, *, sqlite: bool, columns: Any = None
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """ORDER BY for ``sort``: the column with empty values last, then id as the tiebreak.

    NULLS LAST is written only where it changes the database's own order (SQLite puts NULL
    first going up, PostgreSQL first going down) and only for nullable columns: spelled out
    where it changes nothing, it still stopped both planners from walking an index in
    order, so a 50-row page sorted every match (300,000 rows for "no-one" at 1M).
    ``columns`` (a subquery's ``.c``) orders by its ``sort_key`` and ``id`` instead.
    """
    column, descending = parse_sort(sort)
    needs_nulls_last = bool(getattr(column, "nullable", True)) and (sqlite != descending)
    key, identity = (column, Account.id) if columns is None else (columns.sort_key, columns.id)
    ordered = key.desc() if descending else key.asc()
    tiebreak = identity.desc() if descending else identity.asc()
    return (ordered.nulls_last() if needs_nulls_last else ordered), tiebreak


# Up to this many matches, a page sorts them all rather than walk an index in sort order.
FEW_MATCHES = 20_000


def list_accounts(
    session: Session,
    *,
    where: list[ColumnElement[bool]],
    sort: str = "name",
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
    with_total: bool = True,
    expected: int | None = None,
    role: str = "csm",
) -> AccountPage:
    """A page of matching accounts (with their owners in ``role``) and the total: three
    statements.

    ``expected`` is the number of matches when the caller knows it (from the counters).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    # Plain rows, not ORM entities: a page is read-only, and entity loading plus validating
    # each row cost more than the query (50 rows: ~5 ms against a 1 ms statement).
    sqlite = is_sqlite(session)
    rows = session.execute(
        _page(
            where,
            sort,
            sqlite=sqlite,
            fence=not sqlite and expected is not None and expected <= FEW_MATCHES,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    total = count_accounts(session, where=where) if with_total else None
    owners = _owners_of(session, [row.id for row in rows], role)
    items = []
    for row in rows:
        listed = owners.get(row.id, [])
        active = [email for email, is_active in listed if is_active]
        inactive = [email for email, is_active in listed if not is_active]
        items.append(
            AccountRow.model_construct(
                **row._mapping,
                csms=active + inactive,
                owner_inactive=bool(inactive) and not active,
            )
        )
    return AccountPage(items=items, total=total, limit=limit, offset=offset)


def _page(where: list[ColumnElement[bool]], sort: str, *, sqlite: bool, fence: bool) -> Select[Any]:
    """The matching rows in page order.

    ``fence`` (PostgreSQL, with few matches known in advance: one CSM's book) selects the
    matches in a subquery with ``OFFSET 0``, which the planner does not flatten, and only
    then sorts them. Left to itself, PostgreSQL may walk the whole name index and probe each
    account for the condition, betting that matches are dense: with statistics a few bulk
    writes old it did so for a 451-account book at 100k, 500 ms against 3 ms for sorting
    the book. SQLite already drives such a page from the book and sorts it, and building
    the subquery costs about a millisecond of Python, so it gets the plain form.
    """
    if not fence:
        return select(*_ROW_COLUMNS).where(*where).order_by(*sort_order(sort, sqlite=sqlite))
    column, _ = parse_sort(sort)
    matches = select(*_ROW_COLUMNS, column.label("sort_key")).where(*where).offset(0).subquery()
    return select(*(matches.c[c.key] for c in _ROW_COLUMNS)).order_by(
        *sort_order(sort, sqlite=sqlite, columns=matches.c)
    )


def book_sizes(session: Session, *, role: str = "csm") -> dict[int, int]:
    """Open accounts per user in ``role`` (users who own none are left out): the counters."""
    rows = session.execute(
        select(BookCount.user_id, BookCount.accounts).where(
            BookCount.role == role, BookCount.accounts > 0
        )
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def count_accounts(session: Session, *, where: list[ColumnElement[bool]]) -> int:
    """Number of accounts matching ``where`` (all of them: the counter, not a scan)."""
    if not where:
        total = select(AccountCount.accounts).where(AccountCount.id == ACCOUNT_COUNT_ID)
        return int(session.scalar(total) or 0)
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


def book_totals(session: Session, *, user_id: int, role: str = "csm") -> tuple[int, Decimal]:
    """How many accounts ``user_id`` owns in ``role``, and their MRR: one counter row."""
    found = session.execute(
        select(BookCount.accounts, BookCount.mrr).where(
            BookCount.user_id == user_id, BookCount.role == role
        )
    ).one_or_none()
    count, mrr = found if found is not None else (0, 0)
    return int(count), _units(mrr)


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


def children_per_parent_owner(
    session: Session, *, where: list[ColumnElement[bool]], role: str = "csm"
) -> dict[str, int]:
    """Per user (email): how many accounts matching ``where`` have a parent that user owns.

    Custify's recipe, one segment "<X>'s parents" and one "is_child and parent in segment"
    per CSM, answered for every CSM in one grouped statement.
    """
    rows = session.execute(
        select(User.email, func.count())
        .select_from(Account)
        .join(
            Assignment,
            and_(
                Assignment.account_id == Account.parent_id,
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            ),
        )
        .join(User, User.id == Assignment.user_id)
        .where(*where)
        .group_by(User.email)
    ).all()
    return {str(email): int(count) for email, count in rows}
