"""The account listings of the assignment screen: a page of accounts with their owners.

Every account listing (the CLI's ``accounts list``, the API's ``GET /accounts``, the pages,
segment members, an account's children) is ``list_accounts``: the shared ``bookwise.listing``
page (sorting, window, total) plus the owners of the accounts on the page, in the role the
listing is about.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, field_serializer
from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from bookwise.assignments.overview import account_total
from bookwise.db import is_sqlite
from bookwise.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    Sorting,
    fetch_page,
    page_of,
)
from bookwise.models import Account, Assignment, User
from bookwise.money import format_money

__all__ = [
    "ACCOUNT_SORTING",
    "DEFAULT_PAGE_SIZE",
    "FEW_MATCHES",
    "MAX_PAGE_SIZE",
    "SORT_COLUMNS",
    "AccountPage",
    "AccountRow",
    "count_accounts",
    "list_accounts",
    "sort_order",
]

ACCOUNT_SORTING = Sorting(
    columns={
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
    },
    default="name",
    tiebreak=Account.id,
)
SORT_COLUMNS = ACCOUNT_SORTING.columns

# Up to this many matches, a page sorts them all rather than walk an index in sort order.
FEW_MATCHES = 20_000


class AccountRow(BaseModel):
    """An account as listings show it, with its current owners in the listing's role."""

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


AccountPage = Page[AccountRow]

_ROW_COLUMNS = tuple(
    getattr(Account, name)
    for name in AccountRow.model_fields
    if name not in ("csms", "owner_inactive")
)


def sort_order(sort: str, *, sqlite: bool) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """ORDER BY for an account listing sorted by ``sort``, ties broken by id."""
    return ACCOUNT_SORTING.order_by(sort, sqlite=sqlite)


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

    ``expected`` is the number of matches when the caller knows it (from the counters): a
    page of few known matches is fenced on PostgreSQL (``bookwise.listing.fenced``). SQLite
    already drives such a page from the book and sorts it, and building the subquery costs
    about a millisecond of Python, so it gets the plain form.
    """
    sqlite = is_sqlite(session)
    # Plain rows, not ORM entities: a page is read-only, and entity loading plus validating
    # each row cost more than the query (50 rows: ~5 ms against a 1 ms statement).
    rows: Page[Row[Any]] = fetch_page(
        session,
        select(*_ROW_COLUMNS).where(*where),
        sorting=ACCOUNT_SORTING,
        convert=_itself,
        sort=sort,
        limit=limit,
        offset=offset,
        total=lambda: count_accounts(session, where=where),
        counted=with_total,
        fence=not sqlite and expected is not None and expected <= FEW_MATCHES,
    )
    owners = _owners_of(session, [row.id for row in rows.items], role)
    items = []
    for row in rows.items:
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
    return page_of(items, total=rows.total, limit=limit, offset=offset, model=AccountPage)


def _itself(row: Row[Any]) -> Row[Any]:
    return row


def count_accounts(session: Session, *, where: list[ColumnElement[bool]]) -> int:
    """Number of accounts matching ``where`` (all of them: the counter, not a scan)."""
    if not where:
        return account_total(session)
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
