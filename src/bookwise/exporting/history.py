"""Export ownership history as CSV: an account's timeline, its owners on a date, or a book.

Every shape has the same columns, so that a file names its accounts even when it is a book.
The account columns are called ``account_external_id`` and ``account_name`` (not
``external_id``/``name``) so that a history file can never be mistaken for an accounts file.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.service import get_account
from bookwise.dates import end_of_day, today
from bookwise.errors import InvalidInput
from bookwise.exporting.csvout import BATCH_SIZE, CsvExport, Field
from bookwise.models import Account, Assignment, User
from bookwise.users.service import get_user

HISTORY_FIELDS: tuple[Field, ...] = (
    Field("account_external_id"),
    Field("account_name"),
    Field("user"),
    Field("role"),
    Field("started_at", "datetime"),
    Field("ended_at", "datetime"),
    Field("source"),
    Field("reason"),
    Field("actor"),
    Field("operation_id", "number"),
    Field("ended_operation_id", "number"),
)

_OWNER = aliased(User, name="owner")
_ACTOR = aliased(User, name="actor")


def history_query() -> Select[*tuple[Any, ...]]:
    """Assignment rows with their account, owner and actor, in the columns of the export."""
    return (
        select(
            Account.external_id,
            Account.name,
            _OWNER.email,
            Assignment.role,
            Assignment.started_at,
            Assignment.ended_at,
            Assignment.source,
            Assignment.reason,
            _ACTOR.email,
            Assignment.operation_id,
            Assignment.ended_operation_id,
        )
        .join(Account, Account.id == Assignment.account_id)
        .join(_OWNER, _OWNER.id == Assignment.user_id)
        .join(_ACTOR, _ACTOR.id == Assignment.actor_id)
    )


def open_at_end_of(day: date) -> ColumnElement[bool]:
    """SQL: the assignment was open at the end of ``day`` (installation time zone)."""
    moment = end_of_day(day)
    return (Assignment.started_at < moment) & or_(
        Assignment.ended_at.is_(None), Assignment.ended_at >= moment
    )


def write_timeline_csv(
    session: Session, out: TextIO, *, account: Account, on: date | None = None
) -> int:
    """The account's every assignment row, oldest first (or its owners at the end of ``on``)."""
    query = history_query().where(Assignment.account_id == account.id)
    if on is not None:
        query = query.where(open_at_end_of(on))
    return _write(session, out, query.order_by(Assignment.started_at, Assignment.id))


def write_book_csv(
    session: Session,
    out: TextIO,
    *,
    user: User,
    on: date,
    role: str = "csm",
    batch_size: int = BATCH_SIZE,
) -> int:
    """The accounts ``user`` owned in ``role`` at the end of ``on``, by account id."""
    query = (
        history_query()
        .where(Assignment.user_id == user.id, Assignment.role == role, open_at_end_of(on))
        .order_by(Assignment.account_id, Assignment.id)
    )
    return _write(session, out, query, batch_size=batch_size)


def write_history_csv(
    session: Session,
    out: TextIO,
    *,
    account: str | None = None,
    csm: str | None = None,
    on: date | None = None,
    role: str = "csm",
) -> int:
    """The history export of ``bookwise export history`` and the API and pages: the timeline
    of ``account`` (its owners at the end of ``on``), or ``csm``'s book in ``role`` at the end
    of ``on`` (today when not given). Exactly one of ``account`` and ``csm`` is named."""
    if (account is None) == (csm is None):
        raise InvalidInput("name either an account or a CSM (one of the two) to export history")
    if csm is not None:
        user = get_user(session, csm)
        return write_book_csv(session, out, user=user, on=on or today(), role=role)
    return write_timeline_csv(session, out, account=get_account(session, str(account)), on=on)


def _write(
    session: Session, out: TextIO, query: Select[*tuple[Any, ...]], *, batch_size: int = BATCH_SIZE
) -> int:
    export = CsvExport(out, HISTORY_FIELDS)
    rows = session.execute(query.execution_options(yield_per=batch_size))
    return export.write_all(tuple(row) for row in rows)
