"""Value history: the past values of the report fields, written and read set-based.

Every write path (create, edit, API, import merge, set-parent, undo, demo) changes the
``accounts`` row first and then calls :func:`record_value_changes` with the accounts it
touched. The writer compares each touched account's current values with the open history rows
in SQL and closes and opens rows only for the fields that differ: two statements for any
number of accounts, and nothing written for a value that did not change.

Reads are Selects for the callers to narrow: :func:`values_as_of` (every account's fields as
they were at an instant), :func:`current_changes` (the previous value and when it changed)
and :func:`value_changes` (changes since an instant, for triggers), :func:`value_history`
(one account's timeline).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bookwise.errors import InvalidInput
from bookwise.models import VALUE_HISTORY_FIELDS, Account, AccountValue, User
from bookwise.models.base import UTCDateTime

NUMBER_FIELDS = frozenset(("mrr", "health_score", "tier", "nps", "csm_rating", "parent_id"))
DATE_FIELDS = frozenset(("renewal_date",))


class _date_text(FunctionElement[str]):
    """A date column as ``YYYY-MM-DD`` text (SQLite stores dates so already)."""

    type = String()
    name = "date_text"
    inherit_cache = True


class _text_date(FunctionElement[date]):
    """``YYYY-MM-DD`` text as a date (SQLite keeps the text; the Date type parses it)."""

    type = Date()
    name = "text_date"
    inherit_cache = True


def _render(element: type[FunctionElement[Any]], template: str) -> None:
    """Render ``element(x)`` as ``template`` with x on PostgreSQL, as x itself on SQLite."""

    def default(e: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return template.format(compiler.process(e.clauses, **kw))

    def sqlite(e: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return compiler.process(e.clauses, **kw)

    compiles(element)(default)
    compiles(element, "sqlite")(sqlite)


# to_char, not a cast: a cast to text follows the session's DateStyle.
_render(_date_text, "to_char({}, 'YYYY-MM-DD')")
_render(_text_date, "CAST({} AS DATE)")


def stored_text(field: str, column: Any) -> ColumnElement[Any]:
    """SQL: an account column's value as the text the history stores."""
    if field in DATE_FIELDS:
        return _date_text(column)
    if field in NUMBER_FIELDS:
        return cast(column, String(50))
    return column  # type: ignore[no-any-return]


def typed(field: str, text: Any) -> ColumnElement[Any]:
    """SQL: stored history text back as the field's type."""
    if field in DATE_FIELDS:
        return _text_date(text)
    if field in NUMBER_FIELDS:
        return cast(text, BigInteger if field == "mrr" else Integer)
    return text  # type: ignore[no-any-return]


def _current_values(accounts: Select[*tuple[Any, ...]] | None) -> Any:
    """SQL (account_id, field, value): every history field of the accounts, as text."""
    names = union_all(*[select(literal(f).label("field")) for f in VALUE_HISTORY_FIELDS])
    fields = names.subquery("fields")
    value = case(
        *[(fields.c.field == f, stored_text(f, getattr(Account, f))) for f in VALUE_HISTORY_FIELDS]
    )
    query = select(
        Account.id.label("account_id"),
        fields.c.field,
        value.label("value"),
        Account.created_at.label("created_at"),
    ).select_from(Account.__table__.join(fields, literal(True)))
    if accounts is not None:
        query = query.where(Account.id.in_(accounts))
    return query.subquery("current_values")


def record_value_changes(
    session: Any,
    *,
    accounts: Select[*tuple[Any, ...]] | None,
    actor_id: int | None,
    source: str,
    now: datetime | None,
    operation_id: int | None = None,
    import_id: int | None = None,
) -> None:
    """Close and open history rows for every field of ``accounts`` (a Select of ids; None:
    every account) whose value differs from its open row, in two statements.

    ``now`` None starts the history of accounts that have none yet (a bulk load), each
    valid from its account's ``created_at``. A ``now`` earlier than a value already in the
    history (a writer's clock behind another's) is moved up to it, so no period inverts.
    """
    current = _current_values(accounts)
    instant = None if now is None else _not_before_history(now, accounts)
    if instant is not None:
        differs = exists().where(
            current.c.account_id == AccountValue.account_id,
            current.c.field == AccountValue.field,
            current.c.value.is_distinct_from(AccountValue.value),
        )
        closing = update(AccountValue).where(AccountValue.valid_to.is_(None), differs)
        if accounts is not None:
            # From the accounts' open rows (the open-rows index), not every open row each
            # probing the accounts: SQLite scanned the whole index for a one-row edit.
            closing = closing.where(AccountValue.account_id.in_(accounts))
        session.execute(
            closing.values(valid_to=instant).execution_options(synchronize_session=False)
        )
    mine = and_(
        AccountValue.account_id == current.c.account_id, AccountValue.field == current.c.field
    )
    no_open_row = ~exists().where(mine, AccountValue.valid_to.is_(None))
    if instant is None:
        # New accounts: no history to close or replace, so a value simply starts one.
        rows = select(
            *_new_row(current, current.c.created_at, source, actor_id, operation_id, import_id),
            null(),
        ).where(no_open_row, current.c.value.is_not(None))
    else:
        # The row just closed (and the value it held) is the "previous" of the new one. A
        # row that both opened and closed at ``now`` (two changes at one instant) is skipped,
        # so the value before that instant counts. An equality join rather than "the latest
        # row": PostgreSQL planned the latter (ORDER BY … LIMIT 1) along the (field,
        # valid_from) index, through every row of the field, on a table without statistics.
        closed = aliased(AccountValue, name="closed")
        just_closed = and_(
            closed.account_id == current.c.account_id,
            closed.field == current.c.field,
            closed.valid_to == instant,
            closed.valid_from < instant,
        )
        rows = (
            select(
                *_new_row(current, instant, source, actor_id, operation_id, import_id),
                closed.value,
            )
            .select_from(current.outerjoin(closed, just_closed))
            .where(
                # A value starts a history; a closed row (even for an emptied field) goes on.
                no_open_row,
                or_(current.c.value.is_not(None), closed.id.is_not(None)),
            )
        )
    columns = [
        "account_id",
        "field",
        "value",
        "valid_from",
        "source",
        "actor_id",
        "operation_id",
        "import_id",
        "previous",
    ]
    # Account by account: each account's rows land side by side in the (account, field)
    # indexes, which a bulk load with a small page cache then writes in one pass (SQLite
    # walks the accounts in id order, no sort; field by field, it walked them nine times).
    session.execute(insert(AccountValue).from_select(columns, rows.order_by(current.c.account_id)))


def _not_before_history(
    now: datetime, accounts: Select[*tuple[Any, ...]] | None
) -> ColumnElement[datetime]:
    """SQL: ``now``, or the latest start in the accounts' history if that is later.

    One instant for the whole write, not a per-row ``max(now, valid_from)``: the rows it
    closes and the rows it opens then share it, and the new row's ``previous`` stays an
    equality join. Normally nothing starts after ``now`` and this is an empty range of the
    (field, valid_from) index per field; the scalar subquery runs once per statement.
    """
    moment = literal(now, UTCDateTime)
    later = select(func.max(AccountValue.valid_from)).where(
        AccountValue.field.in_(VALUE_HISTORY_FIELDS), AccountValue.valid_from > moment
    )
    if accounts is not None:
        # ``+ 0``: not by the accounts' index, which SQLite chose, probing every account
        # and field of an import (the range of rows started after ``now`` is normally empty).
        later = later.where((AccountValue.account_id + 0).in_(accounts))
    return func.coalesce(later.scalar_subquery(), moment, type_=UTCDateTime)


def _new_row(
    current: Any,
    valid_from: Any,
    source: str,
    actor_id: int | None,
    operation_id: int | None,
    import_id: int | None,
) -> list[Any]:
    """SQL: the columns of a new history row but its ``previous``."""
    return [
        current.c.account_id,
        current.c.field,
        current.c.value,
        valid_from,
        literal(source),
        literal(actor_id, Integer),
        literal(operation_id, Integer),
        literal(import_id, Integer),
    ]


def in_effect(moment: datetime) -> ColumnElement[bool]:
    """SQL: the history row held at ``moment`` (started before it, not ended before it)."""
    return and_(
        AccountValue.valid_from < moment,
        or_(AccountValue.valid_to.is_(None), AccountValue.valid_to >= moment),
    )


def values_as_of(moment: datetime) -> Select[*tuple[Any, ...]]:
    """Every account that existed at ``moment``, one row each, with its history fields as
    they were then (``account_id`` and one typed column per field), in one statement."""
    pivot = (
        select(
            AccountValue.account_id,
            *[
                func.max(case((AccountValue.field == f, AccountValue.value))).label(f)
                for f in VALUE_HISTORY_FIELDS
            ],
        )
        .where(in_effect(moment))
        .group_by(AccountValue.account_id)
        .subquery("held")
    )
    return (
        select(
            Account.id.label("account_id"),
            *[typed(f, pivot.c[f]).label(f) for f in VALUE_HISTORY_FIELDS],
        )
        .select_from(Account.__table__.outerjoin(pivot, pivot.c.account_id == Account.id))
        .where(Account.created_at < moment)
    )


def check_field(field: str) -> str:
    """``field`` if the history keeps it, else InvalidInput naming the ones it keeps."""
    if field not in VALUE_HISTORY_FIELDS:
        raise InvalidInput(
            f"{field!r} has no value history: the fields are {', '.join(VALUE_HISTORY_FIELDS)}"
        )
    return field


def current_changes(field: str) -> Select[*tuple[Any, ...]]:
    """Per account: the field's value, the value before it and when it changed (one range
    of the open-rows index); an account whose field never had a value has no row."""
    check_field(field)
    return select(
        AccountValue.account_id,
        typed(field, AccountValue.value).label("value"),
        typed(field, AccountValue.previous).label("previous"),
        AccountValue.valid_from.label("changed_at"),
    ).where(AccountValue.field == field, AccountValue.valid_to.is_(None))


def value_changes(field: str, *, since: datetime) -> Select[*tuple[Any, ...]]:
    """Every value ``field`` took at or after ``since`` (one range of the field/time index),
    with the value before it: what a trigger such as "health dropped below 40" asks
    (``previous >= 40 AND value < 40``). A first value has no previous (NULL)."""
    check_field(field)
    return select(
        AccountValue.account_id,
        typed(field, AccountValue.value).label("value"),
        typed(field, AccountValue.previous).label("previous"),
        AccountValue.valid_from.label("changed_at"),
        AccountValue.source,
        AccountValue.actor_id,
    ).where(AccountValue.field == field, AccountValue.valid_from >= since)


def value_history(account_id: int, *, field: str | None = None) -> Select[*tuple[Any, ...]]:
    """One account's value history, newest first, with who changed each value."""
    query: Select[*tuple[Any, ...]] = (
        select(
            AccountValue.field,
            AccountValue.value,
            AccountValue.previous,
            AccountValue.valid_from,
            AccountValue.valid_to,
            AccountValue.source,
            AccountValue.operation_id,
            AccountValue.import_id,
            User.email.label("by_email"),
            User.name.label("by_name"),
        )
        .outerjoin(User, User.id == AccountValue.actor_id)
        .where(AccountValue.account_id == account_id)
        .order_by(AccountValue.valid_from.desc(), AccountValue.id.desc())
    )
    if field is not None:
        query = query.where(AccountValue.field == check_field(field))
    return query
