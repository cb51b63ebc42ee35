"""The account listings of the assignment screen: a page of accounts with their owners.

Every account listing (the CLI's ``accounts list``, the API's ``GET /accounts``, the pages,
segment members, an account's children) is ``list_accounts``: the shared ``bookwise.listing``
page (sorting, window, total) plus the owners of the accounts on the page, in the role the
listing is about.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, field_serializer
from sqlalchemy import ColumnElement, Integer, Row, Select, any_, bindparam, column, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bookwise.assignments.overview import account_total
from bookwise.db import is_sqlite
from bookwise.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BoundedCache,
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
        lambda: select(*_ROW_COLUMNS).where(*where),
        key=("accounts", *where),
        sorting=ACCOUNT_SORTING,
        convert=_itself,
        sort=sort,
        limit=limit,
        offset=offset,
        total=lambda: count_accounts(session, where=where),
        counted=with_total,
        fence=not sqlite and expected is not None and expected <= FEW_MATCHES,
        # A rule's total is a COUNT: sent with the rows (one round trip, not two).
        count_along=_count_statement(where) if where else None,
    )
    owners = _owners_of(session, [row[0] for row in rows.items], role)
    items = []
    for row in rows.items:
        listed = owners.get(row[0], ())
        active = [email for email, is_active in listed if is_active]
        inactive = [email for email, is_active in listed if not is_active]
        values = dict(zip(_ROW_NAMES, row, strict=True))
        values["csms"] = active + inactive
        values["owner_inactive"] = bool(inactive) and not active
        items.append(_account_row(values))
    return page_of(items, total=rows.total, limit=limit, offset=offset, model=AccountPage)


_ROW_NAMES = tuple(column.key for column in _ROW_COLUMNS)
_ROW_FIELDS = frozenset(AccountRow.model_fields)


def _account_row(values: dict[str, Any]) -> AccountRow:
    """An AccountRow of ``values`` (every field, typed by the database), as pydantic's
    ``model_construct`` makes one but without its per-field loop for aliases and defaults,
    which AccountRow has none of: that loop was a sixth of a 50-row page (docs/performance.md,
    "The fixed cost of a page"). tests/assignments/test_listing_rows.py holds it to
    ``model_construct``."""
    row = AccountRow.__new__(AccountRow)
    object.__setattr__(row, "__dict__", values)
    object.__setattr__(row, "__pydantic_fields_set__", set(_ROW_FIELDS))
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row


def _itself(row: Row[Any]) -> Row[Any]:
    return row


def count_accounts(session: Session, *, where: list[ColumnElement[bool]]) -> int:
    """Number of accounts matching ``where`` (all of them: the counter, not a scan)."""
    if not where:
        return account_total(session)
    counted = COUNT_STATEMENTS.get(tuple(where), _count_statement(where))
    return int(session.connection().scalar(counted) or 0)


def _count_statement(where: list[ColumnElement[bool]]) -> Callable[[], Select[int]]:
    return lambda: select(func.count()).select_from(Account).where(*where)


# Keyed by the conditions themselves (SQLAlchemy elements compare here by identity): the
# same compiled rule (``bookwise.rules.compiler``) or ownership filter
# (``OwnershipFilter.conditions``) is the same object from one request to the next.
COUNT_STATEMENTS: BoundedCache[Select[int]] = BoundedCache(256)


def _owners_statement(ids: ColumnElement[bool]) -> Select[int, str, bool]:
    return (
        select(Assignment.account_id, User.email, User.active)
        .join(User, User.id == Assignment.user_id)
        .where(ids, Assignment.role == bindparam("role"), Assignment.ended_at.is_(None))
        .order_by(Assignment.account_id, Assignment.started_at, Assignment.id)
    )


# Built once, the page's ids as one parameter whatever their number: a JSON array read by
# json_each on SQLite, an integer array on PostgreSQL (``= ANY``). The same text every time,
# so PostgreSQL prepares it. An expanding IN renders a placeholder per id on every call:
# 0.48 ms against 0.28 ms on PostgreSQL, 0.10 against 0.075 ms on SQLite (100k, 50 ids).
_OWNERS_SQLITE = _owners_statement(
    Assignment.account_id.in_(
        select(column("value", Integer)).select_from(func.json_each(bindparam("ids")))
    )
)
_OWNERS_POSTGRESQL = _owners_statement(
    Assignment.account_id == any_(bindparam("ids", type_=ARRAY(Integer)))
)


def _owners_of(
    session: Session, account_ids: list[int], role: str = "csm"
) -> dict[int, list[tuple[str, bool]]]:
    if not account_ids:
        return {}
    sqlite = is_sqlite(session)
    statement = _OWNERS_SQLITE if sqlite else _OWNERS_POSTGRESQL
    ids: object = json.dumps(account_ids) if sqlite else account_ids
    rows = session.connection().execute(statement, {"ids": ids, "role": role})
    owners: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for account_id, email, active in rows:
        owners[account_id].append((email, bool(active)))
    return owners
