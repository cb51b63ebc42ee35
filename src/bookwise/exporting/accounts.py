"""Export accounts as CSV in the columns ``bookwise import accounts`` reads back.

The accounts are streamed: one query (server-side cursor on PostgreSQL, ``yield_per``) reads
each account with its parent's external id and its open ``csm`` owners (a correlated
subquery). Nothing holds all rows at once, and the statement count does not depend on the
number of accounts or batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, NamedTuple, TextIO

from sqlalchemy import ColumnElement, Result, ScalarSelect, Select, func, literal, null, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.service import list_attributes
from bookwise.assignments.listing import sort_order
from bookwise.db import is_sqlite
from bookwise.exporting.csvout import BATCH_SIZE, CsvExport, Field, Kind
from bookwise.models import Account, Assignment, AttributeDefinition, User

ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("external_id"),
    Field("name"),
    Field("parent_external_id"),
    Field("domain"),
    Field("mrr", "money"),
    Field("health_score", "number"),
    Field("tier", "number"),
    Field("lifecycle_stage"),
    Field("nps", "number"),
    Field("csm_rating", "number"),
    Field("region"),
    Field("renewal_date", "date"),
    Field("inherit_policy"),
    Field("csms"),
)
"""The fixed columns, in file order; ``custom.<name>`` columns follow, by attribute name."""

CUSTOM_PREFIX = "custom."
OWNER_SEPARATOR = ";"
_ATTRIBUTE_KINDS: dict[str, Kind] = {
    "text": "text",
    "choice": "text",
    "number": "number",
    "money": "money",
    "date": "date",
    "boolean": "boolean",
}
_PARENT = aliased(Account, name="parent")


class AccountRecord(NamedTuple):
    """The stored fields of one account that an export writes (money in minor units)."""

    id: int
    external_id: str | None
    name: str
    parent_external_id: str | None
    domain: str | None
    mrr: int | None
    health_score: int | None
    tier: int | None
    lifecycle_stage: str | None
    nps: int | None
    csm_rating: int | None
    region: str | None
    renewal_date: date | None
    inherit_policy: str | None
    custom: dict[str, Any] | None


def account_fields(definitions: Sequence[AttributeDefinition]) -> list[Field]:
    """The columns of an accounts export: the fixed ones, then one per custom attribute."""
    custom = [Field(CUSTOM_PREFIX + d.name, _ATTRIBUTE_KINDS[d.type]) for d in definitions]
    return [*ACCOUNT_FIELDS, *custom]


def account_values(
    record: AccountRecord, csms: Sequence[str], definitions: Sequence[AttributeDefinition]
) -> list[Any]:
    """One account's cells in the order of :func:`account_fields` (before rendering)."""
    custom = record.custom or {}
    return [
        record.external_id,
        record.name,
        record.parent_external_id,
        record.domain,
        record.mrr,
        record.health_score,
        record.tier,
        record.lifecycle_stage,
        record.nps,
        record.csm_rating,
        record.region,
        record.renewal_date,
        record.inherit_policy,
        OWNER_SEPARATOR.join(csms) if csms else None,
        *(custom.get(d.name) for d in definitions),
    ]


def write_account_records(
    out: TextIO,
    records: Iterable[tuple[AccountRecord, Sequence[str]]],
    definitions: Sequence[AttributeDefinition],
) -> int:
    """Write (account, owner emails) pairs as an accounts export; return the rows written."""
    export = CsvExport(out, account_fields(definitions))
    return export.write_all(account_values(record, csms, definitions) for record, csms in records)


def write_accounts_csv(
    session: Session,
    out: TextIO,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    sort: str = "name",
    batch_size: int = BATCH_SIZE,
) -> int:
    """Stream every account matching ``where`` (in ``sort`` order) as CSV; return the rows."""
    read_one_snapshot(session)
    definitions = list_attributes(session)
    # An unknown sort fails here, before any output. Without declared attributes the custom
    # values are never written, so they are not read (nor parsed as JSON) either.
    query = accounts_query(where, sort, with_custom=bool(definitions), sqlite=is_sqlite(session))
    # Core rows straight from the connection: the ORM's row processing cost more than the
    # query itself at a million accounts, and an export needs no entities.
    result = session.connection().execute(query.execution_options(yield_per=batch_size))
    return write_account_records(out, _with_owners(result), definitions)


def read_one_snapshot(session: Session) -> None:
    """On PostgreSQL, make a fresh session read every batch from one snapshot."""
    # The owners of batch n are read after batch 1 was: under READ COMMITTED a transfer
    # committed in between would show up half-applied. SQLite's read transaction already is
    # one snapshot; a session that is already in a transaction keeps the caller's choice.
    if session.in_transaction() or is_sqlite(session):
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def accounts_query(
    where: Sequence[ColumnElement[bool]], sort: str, *, with_custom: bool = True, sqlite: bool
) -> Select[*tuple[Any, ...]]:
    """The export's one streamed query: accounts, their parent's external id, their owners."""
    order = sort_order(sort, sqlite=sqlite)
    return (
        select(
            Account.id,
            Account.external_id,
            Account.name,
            _PARENT.external_id.label("parent_external_id"),
            Account.domain,
            Account.mrr,
            Account.health_score,
            Account.tier,
            Account.lifecycle_stage,
            Account.nps,
            Account.csm_rating,
            Account.region,
            Account.renewal_date,
            Account.inherit_policy,
            Account.custom if with_custom else null().label("custom"),
            owner_list(sqlite=sqlite).label("owners"),
        )
        .outerjoin(_PARENT, _PARENT.id == Account.parent_id)
        .where(*where)
        .order_by(*order)
    )


def _with_owners(result: Result[Any]) -> Iterator[tuple[AccountRecord, list[str]]]:
    for row in result:
        owners = row[-1]
        yield AccountRecord._make(row[:-1]), owners.split(OWNER_SEPARATOR) if owners else []


def owner_list(*, sqlite: bool) -> ScalarSelect[Any]:
    """SQL: the account's open ``csm`` owner emails in the order they started, joined by ``;``.

    A correlated subquery in the export's one streamed query (an index lookup per account):
    a second statement per batch with an IN list of 5,000 ids cost a third of the export.
    """
    rows = (
        select(User.email)
        .select_from(Assignment)
        .join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id == Account.id,
            Assignment.role == "csm",
            Assignment.ended_at.is_(None),
        )
        .correlate(Account)
    )
    if sqlite:
        # group_concat has no ORDER BY of its own; SQLite aggregates an ordered subquery's
        # rows in that order.
        ordered = rows.order_by(Assignment.started_at, Assignment.id).subquery()
        return select(func.group_concat(ordered.c.email, OWNER_SEPARATOR)).scalar_subquery()
    joined = func.string_agg(
        User.email,
        aggregate_order_by(literal(OWNER_SEPARATOR), Assignment.started_at, Assignment.id),
    )
    return rows.with_only_columns(joined).scalar_subquery()
