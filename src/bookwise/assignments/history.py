"""Who owned what, when, and why: timelines, owners on a date, books on a date, operations."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from bookwise.assignments.schemas import OperationOut
from bookwise.dates import end_of_day
from bookwise.db import is_sqlite
from bookwise.errors import NotFound
from bookwise.listing import Page, Sorting, fetch_page
from bookwise.models import (
    Account,
    Assignment,
    Operation,
    OwnershipChange,
    PolicyChange,
    User,
)

# Aliases are built once: building one per call costs more than the SQL it makes.
_ACTOR_USER = aliased(User, name="actor")
_OWNER_USER = aliased(User, name="owner")


class TimelineRow(BaseModel):
    """One assignment row: who, role, from, to, source, reason, actor, operations."""

    account_id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's external id (CRM id), if any.")
    account: str = Field(description="The account's name.")
    user: str = Field(description="The owner's email.")
    role: str = Field(description="The role the owner held (`csm` or a role a team added).")
    started_at: datetime = Field(description="When the owner started (UTC).")
    ended_at: datetime | None = Field(description="When the owner stopped (UTC); null: still.")
    source: str = Field(
        description="How the row came about: `manual`, `inherited` (follows the parent), "
        "`import`, …"
    )
    reason: str = Field(description="Why, as the person who made the change wrote it.")
    actor: str = Field(description="The email of who made the change.")
    operation_id: int = Field(description="The operation that opened the row.")
    ended_operation_id: int | None = Field(
        description="The operation that closed the row; null while it is open."
    )
    is_primary: bool = Field(description="Whether the owner is the primary one for the role.")
    user_name: str = Field(default="", description="The owner's full name (may be empty).")
    actor_name: str = Field(default="", description="The full name of who made the change.")


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
            owner.name,
            actor.name,
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


BOOK_SORTING = Sorting(
    columns={"account": Account.name_fold, "account_id": Assignment.account_id},
    default="account",
    tiebreak=Assignment.id,
)


def book_page(
    session: Session,
    *,
    user: User,
    day: date,
    role: str = "csm",
    sort: str | None = None,
    limit: int = 1000,
    offset: int = 0,
    counted: bool = True,
) -> Page[TimelineRow]:
    """A page of the accounts ``user`` owned at the end of ``day`` (by account name), and how
    many there were: two statements, however big the book."""
    query = _timeline_query().where(
        Assignment.user_id == user.id, Assignment.role == role, _open_at(end_of_day(day))
    )
    return fetch_page(
        session,
        query,
        sorting=BOOK_SORTING,
        sort=sort,
        convert=_row,
        limit=limit,
        offset=offset,
        max_limit=MAX_HISTORY_PAGE,
        counted=counted,
    )


def book_on(
    session: Session,
    *,
    user: User,
    day: date,
    role: str = "csm",
    limit: int = 1000,
    offset: int = 0,
) -> list[TimelineRow]:
    """The accounts ``user`` owned at the end of ``day``, by account id (one statement)."""
    return book_page(
        session,
        user=user,
        day=day,
        role=role,
        sort="account_id",
        limit=limit,
        offset=offset,
        counted=False,
    ).items


OPERATION_SORTING = Sorting(columns={"id": Operation.id}, default="-id", tiebreak=Operation.id)


class OperationFilter(BaseModel):
    """Which operations the log shows: a kind, who ran them, a date range (installation time
    zone, both days included), an account they changed (its owners or its policy)."""

    kind: str | None = None
    actor_id: int | None = None
    since: date | None = None
    until: date | None = None
    account_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions on ``operations``."""
        where: list[ColumnElement[bool]] = []
        if self.kind:
            where.append(Operation.kind == self.kind)
        if self.actor_id is not None:
            where.append(Operation.actor_id == self.actor_id)
        if self.since is not None:
            where.append(Operation.created_at >= end_of_day(self.since - timedelta(days=1)))
        if self.until is not None:
            where.append(Operation.created_at < end_of_day(self.until))
        if self.account_id is not None:
            changed = select(OwnershipChange.operation_id).where(
                OwnershipChange.account_id == self.account_id
            )
            policies = select(PolicyChange.operation_id).where(
                PolicyChange.account_id == self.account_id
            )
            where.append(or_(Operation.id.in_(changed), Operation.id.in_(policies)))
        return where


def operations_page(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    counted: bool = True,
    filters: OperationFilter | None = None,
) -> Page[OperationOut]:
    """Recent operations, newest first, and how many there are (``counted``): two statements.

    Unfiltered, the total is one COUNT of the table; filtered, a COUNT of the matches.
    """
    where = filters.conditions() if filters is not None else []
    query = select(Operation, User.email, User.name).join(User, User.id == Operation.actor_id)
    return fetch_page(
        session,
        query.where(*where),
        sorting=OPERATION_SORTING,
        convert=_operation_row,
        limit=limit,
        offset=offset,
        max_limit=MAX_HISTORY_PAGE,
        total=None if where else (lambda: count_operations(session)),
        counted=counted,
    )


def _operation_row(row: Any) -> OperationOut:
    operation, email, name = row
    return _operation_out(operation, email, name)


def list_operations(session: Session, *, limit: int = 50, offset: int = 0) -> list[OperationOut]:
    """Recent operations, newest first (one statement, no total)."""
    return operations_page(session, limit=limit, offset=offset, counted=False).items


def count_operations(session: Session) -> int:
    """How many operations there are."""
    return int(session.scalar(select(func.count()).select_from(Operation)) or 0)


def get_operation(session: Session, *, operation_id: int) -> OperationOut:
    """One operation, or NotFound."""
    row = session.execute(
        select(Operation, User.email, User.name)
        .join(User, User.id == Operation.actor_id)
        .where(Operation.id == operation_id)
    ).first()
    if row is None:
        raise NotFound(f"no operation {operation_id}: see `bookwise operations list`")
    return _operation_out(row[0], row[1], row[2])


def _operation_out(op: Operation, email: str, name: str) -> OperationOut:
    return OperationOut(
        id=op.id,
        kind=op.kind,
        actor=email,
        actor_name=name,
        created_at=op.created_at,
        accounts_changed=op.accounts_changed,
        counts=op.counts,
        parameters=op.parameters,
        undoes=op.undoes_id,
        undone_by=op.undone_by_id,
    )


ChangeAction = Literal["open", "close"]


class OperationChange(BaseModel):
    """One owner an operation opened or closed on one account."""

    action: ChangeAction = Field(
        description="`open`: the operation made the user an owner; `close`: it ended that."
    )
    at: datetime = Field(description="When (UTC): the row's start for `open`, its end for `close`.")
    account_id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's external id (CRM id), if any.")
    account: str = Field(description="The account's name.")
    user: str = Field(description="The owner's email.")
    user_name: str = Field(description="The owner's full name (may be empty).")
    role: str = Field(description="The role (`csm` or a role a team added).")
    source: str = Field(
        description="How the row came about: `manual`, `inherited` (follows the parent), …"
    )
    reason: str = Field(description="The reason given with the change.")
    is_primary: bool = Field(description="Whether the owner is the primary one for the role.")


class ChangeFilter(BaseModel):
    """Which of an operation's changes to show: one owner, opened or closed rows, a role, and
    accounts whose name contains some text (or whose external id is exactly it)."""

    owner_id: int | None = None
    action: ChangeAction | None = None
    role: str | None = None
    account: str | None = None

    def conditions(self, operation_id: int) -> list[ColumnElement[bool]]:
        """The WHERE conditions: the operation's opened and closed rows, then the filters."""
        opened = Assignment.operation_id == operation_id
        closed = Assignment.ended_operation_id == operation_id
        where: list[ColumnElement[bool]] = [
            {"open": opened, "close": closed, None: or_(opened, closed)}[self.action]
        ]
        if self.owner_id is not None:
            where.append(Assignment.user_id == self.owner_id)
        if self.role:
            where.append(Assignment.role == self.role)
        text = (self.account or "").strip()
        if text:
            where.append(
                or_(
                    Account.name_fold.contains(text.casefold(), autoescape=True),
                    Account.external_id == text,
                )
            )
        return where


CHANGE_SORTING = Sorting(
    columns={
        "account": Account.name_fold,
        "external_id": Account.external_id,
        "owner": _OWNER_USER.name_fold,
        "role": Assignment.role,
    },
    default="account",
    tiebreak=Assignment.id,
)
_CHANGE_KEYS = list(OperationChange.model_fields)


def _changes_query(operation_id: int, filters: ChangeFilter | None) -> Select[*tuple[Any, ...]]:
    owner = _OWNER_USER
    closed = Assignment.ended_operation_id == operation_id
    return (
        select(
            case((closed, "close"), else_="open"),
            case((closed, Assignment.ended_at), else_=Assignment.started_at),
            Assignment.account_id,
            Account.external_id,
            Account.name,
            owner.email,
            owner.name,
            Assignment.role,
            Assignment.source,
            Assignment.reason,
            Assignment.is_primary,
        )
        .join(Account, Account.id == Assignment.account_id)
        .join(owner, owner.id == Assignment.user_id)
        .where(*(filters or ChangeFilter()).conditions(operation_id))
    )


def _change(row: Any) -> OperationChange:
    return OperationChange(**dict(zip(_CHANGE_KEYS, row, strict=True)))


def operation_changes(
    session: Session,
    *,
    operation_id: int,
    filters: ChangeFilter | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[OperationChange]:
    """A page of the owners ``operation_id`` opened and closed, by account name, and how many
    match: two statements, however many accounts the operation changed. An unknown operation
    has no changes (callers check it with ``get_operation``)."""
    return fetch_page(
        session,
        _changes_query(operation_id, filters),
        sorting=CHANGE_SORTING,
        sort=sort,
        convert=_change,
        limit=limit,
        offset=offset,
        max_limit=MAX_HISTORY_PAGE,
    )


def all_operation_changes(
    session: Session,
    *,
    operation_id: int,
    filters: ChangeFilter | None = None,
    sort: str | None = None,
) -> Iterator[OperationChange]:
    """Every matching change of ``operation_id`` in ``sort`` order, for an export: one
    statement, its rows read in batches as they are consumed (inside the session)."""
    ordered = _changes_query(operation_id, filters).order_by(
        *CHANGE_SORTING.order_by(sort, sqlite=is_sqlite(session))
    )
    for row in session.execute(ordered.execution_options(yield_per=1000)):
        yield _change(row)


def _listed(value: object) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class ParameterNames:
    """The people and accounts an operation's parameters name, by email and by id, so
    that its words say "to Ana Silva (ana@…)" and "now under Acme (#12)"."""

    people: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[int, str] = field(default_factory=dict)

    def person(self, email: object) -> str:
        """A user as people read them: the name first, the email beside."""
        name = self.people.get(str(email).casefold())
        return f"{name} ({email})" if name else str(email)

    def persons(self, value: object) -> str:
        """One or several users (a list), each named."""
        emails = value if isinstance(value, list) else [value]
        return ", ".join(self.person(email) for email in emails)

    def in_text(self, value: object) -> str:
        """A stored text (a filter's words) with each known email read as its user."""
        return _EMAIL_IN_TEXT.sub(lambda m: self.person(m.group(0)), str(value))

    def account(self, value: object) -> str:
        """An account id as its name, or "top level" for no account."""
        if value is None:
            return "top level"
        name = self.accounts.get(value) if isinstance(value, int) else None
        return f"{name} (#{value})" if name else f"account #{value}"


_PEOPLE_KEYS = ("to", "from", "user", "transfer_to")
# A stored filter names people by email (unambiguous, as it was given); its words name them,
# except inside a rule's quoted text, which is shown as it was written (it can be copied).
_TEXT_KEYS = ("filter", "selection")
_EMAIL_IN_TEXT = re.compile(r"(?<![\w\"'.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ACCOUNT_KEYS = ("account_id", "old_parent_id", "new_parent_id")


def parameter_names(session: Session, operations: Iterable[OperationOut]) -> ParameterNames:
    """The names of every user and account the ``operations``' parameters mention: at
    most two statements for a whole page of operations."""
    emails: set[str] = set()
    account_ids: set[int] = set()
    for operation in operations:  # a page of operations, not accounts
        for key in _PEOPLE_KEYS:
            value = operation.parameters.get(key)
            for email in value if isinstance(value, list) else [value]:
                if isinstance(email, str):
                    emails.add(email.casefold())
        for key in _TEXT_KEYS:
            text = operation.parameters.get(key)
            if isinstance(text, str):
                emails.update(found.casefold() for found in _EMAIL_IN_TEXT.findall(text))
        for key in _ACCOUNT_KEYS:
            value = operation.parameters.get(key)
            if isinstance(value, int):
                account_ids.add(value)
    people: dict[str, str] = {}
    if emails:
        found = session.execute(
            select(User.email_fold, User.name).where(User.email_fold.in_(sorted(emails)))
        )
        people = {email: name for email, name in found if name}
    accounts: dict[int, str] = {}
    if account_ids:
        rows = session.execute(
            select(Account.id, Account.name).where(Account.id.in_(sorted(account_ids)))
        )
        accounts = {account_id: name for account_id, name in rows}
    return ParameterNames(people=people, accounts=accounts)


def _parameter_words(names: ParameterNames) -> dict[str, Callable[[Any], str]]:
    """How each parameter an operation records reads in a sentence; a key not named here
    reads "key: value". ``role`` csm and ``undone_kind`` (said with ``undoes``) say nothing
    alone."""
    return {
        "filter": lambda v: f"selection: {names.in_text(v)}",
        "selection": names.in_text,
        "ids": lambda v: f"{v} accounts named" if isinstance(v, int) else f"accounts {_listed(v)}",
        "to": lambda v: f"to {names.persons(v)}",
        "from": lambda v: f"from {names.persons(v)}",
        "role": lambda v: "" if v == "csm" else f"role {v}",
        "source": lambda v: "" if v == "manual" else f"source {v}",
        "policy": lambda v: f"policy {v}",
        "account_id": names.account,
        "old_parent_id": lambda v: f"was under {names.account(v)}",
        "new_parent_id": lambda v: f"now under {names.account(v)}",
        "user": lambda v: f"user {names.person(v)}",
        "transfer_to": lambda v: f"book to {names.person(v)}",
        "roles": lambda v: f"roles {_listed(v)}",
        "file": lambda v: f"file {v}",
        "scope": lambda v: f"scope {v}",
        "undone_kind": lambda v: "",
    }


def parameter_words(operation: OperationOut, names: ParameterNames | None = None) -> list[str]:
    """An operation's parameters as short phrases: "undoes #4 (transfer)", "to Ana Silva
    (ana@…)", "default policy own → inherit" (the same words on the pages and the command
    line). Without ``names`` (see ``parameter_names``) people read as their emails."""
    params = dict(operation.parameters)
    words: list[str] = []
    if "undoes" in params:
        kind = params.get("undone_kind")
        words.append(f"undoes #{params.pop('undoes')}" + (f" ({kind})" if kind else ""))
    if operation.kind == "set_default_policy" and {"old", "new"} <= set(params):
        words.append(f"default policy {params.pop('old')} → {params.pop('new')}")
    sayings = _parameter_words(names or ParameterNames())
    for key, value in params.items():
        say = sayings.get(key)
        text = say(value) if say else f"{key.replace('_', ' ')}: {_listed(value)}"
        if text:
            words.append(text)
    return words
