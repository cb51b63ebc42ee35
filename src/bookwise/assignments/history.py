"""Who owned what, when, and why: timelines, owners on a date, books on a date, operations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from bookwise.assignments.schemas import OperationOut
from bookwise.dates import end_of_day
from bookwise.errors import NotFound
from bookwise.listing import Page, Sorting, fetch_page
from bookwise.models import Account, Assignment, Operation, User

# Aliases are built once: building one per call costs more than the SQL it makes.
_ACTOR_USER = aliased(User, name="actor")
_OWNER_USER = aliased(User, name="owner")


class TimelineRow(BaseModel):
    """One assignment row: who, role, from, to, source, reason, actor, operations."""

    account_id: int
    external_id: str | None
    account: str
    user: str
    role: str
    started_at: datetime
    ended_at: datetime | None
    source: str
    reason: str
    actor: str
    operation_id: int
    ended_operation_id: int | None
    is_primary: bool


def _timeline_query() -> Select[*tuple[Any, ...]]:
    owner = _OWNER_USER
    actor = _ACTOR_USER
    return (
        select(
            Assignment.account_id,
            Account.external_id,
            Account.name,
            owner.email,
            Assignment.role,
            Assignment.started_at,
            Assignment.ended_at,
            Assignment.source,
            Assignment.reason,
            actor.email,
            Assignment.operation_id,
            Assignment.ended_operation_id,
            Assignment.is_primary,
        )
        .join(Account, Account.id == Assignment.account_id)
        .join(owner, owner.id == Assignment.user_id)
        .join(actor, actor.id == Assignment.actor_id)
    )


_TIMELINE_KEYS = list(TimelineRow.model_fields)

# Oldest first; the id breaks ties between rows an operation opened at the same instant.
TIMELINE_SORTING = Sorting(
    columns={"started_at": Assignment.started_at, "id": Assignment.id},
    default="started_at",
    tiebreak=Assignment.id,
)
MAX_HISTORY_PAGE = 10_000


def _row(row: Any) -> TimelineRow:
    return TimelineRow(**dict(zip(_TIMELINE_KEYS, row, strict=True)))


def _rows(session: Session, query: Select[*tuple[Any, ...]]) -> list[TimelineRow]:
    return [_row(row) for row in session.execute(query)]


def account_history(
    session: Session,
    *,
    account: Account,
    on: date | None = None,
    limit: int = 1000,
    offset: int = 0,
    newest_first: bool = False,
) -> Page[TimelineRow]:
    """A page of the account's assignment rows, oldest first (or newest first), and their
    total; with ``on``, its owners at the end of that day, by role. Two statements: the page
    is cut by LIMIT and OFFSET in SQL and the total is a COUNT, however long the history."""
    query = _timeline_query().where(Assignment.account_id == account.id)
    if on is not None:
        query = query.where(_open_at(end_of_day(on))).order_by(Assignment.role)
    return fetch_page(
        session,
        query,
        sorting=TIMELINE_SORTING,
        sort="-started_at" if newest_first else "started_at",
        convert=_row,
        limit=limit,
        offset=offset,
        max_limit=MAX_HISTORY_PAGE,
    )


def current_owners(session: Session, *, account: Account) -> list[TimelineRow]:
    """The account's open assignment rows (its owners now), by role, oldest first."""
    query = (
        _timeline_query()
        .where(Assignment.account_id == account.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.role, Assignment.started_at, Assignment.id)
    )
    return _rows(session, query)


def account_timeline(session: Session, *, account: Account) -> list[TimelineRow]:
    """Every assignment row the account ever had, oldest first."""
    query = (
        _timeline_query()
        .where(Assignment.account_id == account.id)
        .order_by(Assignment.started_at, Assignment.id)
    )
    return _rows(session, query)


def _open_at(moment: datetime) -> ColumnElement[bool]:
    return (Assignment.started_at < moment) & (
        or_(Assignment.ended_at.is_(None), Assignment.ended_at >= moment)
    )


def owners_on(session: Session, *, account: Account, day: date) -> list[TimelineRow]:
    """The account's owners at the end of ``day`` (installation time zone), with why."""
    query = (
        _timeline_query()
        .where(Assignment.account_id == account.id, _open_at(end_of_day(day)))
        .order_by(Assignment.role, Assignment.started_at, Assignment.id)
    )
    return _rows(session, query)


def book_on(
    session: Session,
    *,
    user: User,
    day: date,
    role: str = "csm",
    limit: int = 1000,
    offset: int = 0,
) -> list[TimelineRow]:
    """The accounts ``user`` owned at the end of ``day``, by account id."""
    query = (
        _timeline_query()
        .where(Assignment.user_id == user.id, Assignment.role == role, _open_at(end_of_day(day)))
        .order_by(Assignment.account_id)
        .limit(limit)
        .offset(offset)
    )
    return _rows(session, query)


OPERATION_SORTING = Sorting(columns={"id": Operation.id}, default="-id", tiebreak=Operation.id)


def operations_page(
    session: Session, *, limit: int = 50, offset: int = 0, counted: bool = True
) -> Page[OperationOut]:
    """Recent operations, newest first, and how many there are (``counted``): two statements."""
    return fetch_page(
        session,
        select(Operation, User.email).join(User, User.id == Operation.actor_id),
        sorting=OPERATION_SORTING,
        convert=_operation_row,
        limit=limit,
        offset=offset,
        max_limit=MAX_HISTORY_PAGE,
        total=lambda: count_operations(session),
        counted=counted,
    )


def _operation_row(row: Any) -> OperationOut:
    operation, email = row
    return _operation_out(operation, email)


def list_operations(session: Session, *, limit: int = 50, offset: int = 0) -> list[OperationOut]:
    """Recent operations, newest first (one statement, no total)."""
    return operations_page(session, limit=limit, offset=offset, counted=False).items


def count_operations(session: Session) -> int:
    """How many operations there are."""
    return int(session.scalar(select(func.count()).select_from(Operation)) or 0)


def get_operation(session: Session, *, operation_id: int) -> OperationOut:
    """One operation, or NotFound."""
    row = session.execute(
        select(Operation, User.email)
        .join(User, User.id == Operation.actor_id)
        .where(Operation.id == operation_id)
    ).first()
    if row is None:
        raise NotFound(f"no operation {operation_id}")
    return _operation_out(row[0], row[1])


def _operation_out(op: Operation, email: str) -> OperationOut:
    return OperationOut(
        id=op.id,
        kind=op.kind,
        actor=email,
        created_at=op.created_at,
        accounts_changed=op.accounts_changed,
        counts=op.counts,
        parameters=op.parameters,
        undoes=op.undoes_id,
        undone_by=op.undone_by_id,
    )
