"""/api/v1/operations: what changed ownership, when and by whom, the owners each opened and
closed; undo; a CSM's book on a date. Also the result shape every ownership change returns
(``OperationResult``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.assignments import schemas
from bookwise.assignments.history import (
    ChangeFilter,
    OperationChange,
    OperationFilter,
    TimelineRow,
    book_page,
    get_operation,
    operation_changes,
    operations_page,
)
from bookwise.assignments.undo import undo_operation
from bookwise.dates import today
from bookwise.http.api.common import (
    MAX_ID,
    IdempotencyKey,
    api_router,
    idempotent_responses,
    problems,
    run_once,
)
from bookwise.http.api.days import Day
from bookwise.http.api.filters import Email, Limit, Offset, RoleName
from bookwise.http.context import CallerDep, acting_user, reading
from bookwise.http.routing import get, post
from bookwise.models import OPERATION_KINDS
from bookwise.users.service import get_user

router = api_router("operations")
books_router = api_router("csms")
DEFAULT_LIMIT_OPERATIONS = 50
DEFAULT_LIMIT_CHANGES = 50

OperationId = Annotated[int, Path(ge=1, le=MAX_ID, description="The operation's id.")]

RESULT_EXAMPLE: dict[str, Any] = {
    "operation_id": 42,
    "kind": "assign",
    "dry_run": False,
    "accounts_changed": 2,
    "opened": 2,
    "closed": 0,
    "inherited_opened": 3,
    "inherited_closed": 0,
    "policies_changed": 0,
    "counts": {"assigned": 2, "already_assigned": 1, "not_found": 1},
    "items": [
        {"ref": "ACME-1", "account_id": 17, "user": "ana@example.com", "outcome": "assigned"},
        {"ref": "ACME-2", "account_id": 21, "user": "ana@example.com", "outcome": "assigned"},
        {
            "ref": "ACME-3",
            "account_id": 22,
            "user": "ana@example.com",
            "outcome": "already_assigned",
        },
        {"ref": "NOPE-1", "account_id": None, "user": "ana@example.com", "outcome": "not_found"},
    ],
    "sample": [
        {
            "account_id": 17,
            "external_id": "ACME-1",
            "name": "Acme Corp",
            "user": "ana@example.com",
            "role": "csm",
            "action": "open",
            "source": "manual",
        }
    ],
    "fingerprint": "3f2a9c1b7d4e5f60",
    "messages": [],
}


class OperationResult(schemas.OperationResult):
    """What an ownership change did (or, with ``dry_run``, would do).

    ``items`` has one outcome per requested id (per CSM), in request order, when accounts were
    named by ``ids``; with a filter only ``counts`` are given. ``sample`` shows the first
    changes. Send ``fingerprint`` back with the real request to apply exactly the previewed
    change set (a 409 if it has changed since). ``operation_id`` is null for a preview and when
    nothing changed.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [RESULT_EXAMPLE]})


class Operation(schemas.OperationOut):
    """An operation: its kind, who ran it, when, what it was asked and what it changed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "kind": "assign",
                    "actor": "lead@example.com",
                    "created_at": "2026-03-02T14:05:09Z",
                    "accounts_changed": 2,
                    "counts": {"assigned": 2, "already_assigned": 1},
                    "parameters": {"ids": 3, "to": ["ana@example.com"], "role": "csm"},
                    "undoes": None,
                    "undone_by": None,
                }
            ]
        },
    )


PAGE_FIELDS = {
    "total": "How many match, over all pages.",
    "limit": "The page size asked for.",
    "offset": "How many were skipped.",
}


class OperationList(BaseModel):
    """A page of operations, newest first, and how many there are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": Operation.model_json_schema()["examples"],
                    "total": 42,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    items: list[Operation] = Field(description="The operations on this page, newest first.")
    total: int = Field(description=PAGE_FIELDS["total"])
    limit: int = Field(description=PAGE_FIELDS["limit"])
    offset: int = Field(description=PAGE_FIELDS["offset"])


CHANGE_EXAMPLE: dict[str, Any] = {
    "action": "open",
    "at": "2026-03-02T14:05:09Z",
    "account_id": 17,
    "external_id": "ACME-1",
    "account": "Acme Corp",
    "user": "ana@example.com",
    "user_name": "Ana Lima",
    "role": "csm",
    "source": "manual",
    "reason": "rebalance",
    "is_primary": False,
}


class Change(OperationChange):
    """One owner the operation opened (``open``) or closed (``close``) on one account."""

    model_config = ConfigDict(json_schema_extra={"examples": [CHANGE_EXAMPLE]})


class ChangeList(BaseModel):
    """A page of an operation's changes, by account name, and how many match the filters."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [CHANGE_EXAMPLE], "total": 1, "limit": 50, "offset": 0}]
        }
    )

    items: list[Change] = Field(description="The changes on this page.")
    total: int = Field(description=PAGE_FIELDS["total"])
    limit: int = Field(description=PAGE_FIELDS["limit"])
    offset: int = Field(description=PAGE_FIELDS["offset"])


class BookEntry(TimelineRow):
    """An account the CSM owned at the end of the day, and the assignment row that says so."""


BOOK_EXAMPLE: dict[str, Any] = {
    "items": [
        {
            "account_id": 17,
            "external_id": "ACME-1",
            "account": "Acme Corp",
            "user": "ana@example.com",
            "user_name": "Ana Lima",
            "role": "csm",
            "started_at": "2026-01-10T15:00:00Z",
            "ended_at": None,
            "source": "manual",
            "reason": "kick-off",
            "actor": "lead@example.com",
            "actor_name": "Lea Duarte",
            "operation_id": 3,
            "ended_operation_id": None,
            "is_primary": False,
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
    "on": "2026-02-01",
    "user": "ana@example.com",
    "user_name": "Ana Lima",
    "role": "csm",
}


class Book(BaseModel):
    """A page of a CSM's book at the end of a day, by account name, and its size."""

    model_config = ConfigDict(json_schema_extra={"examples": [BOOK_EXAMPLE]})

    items: list[BookEntry] = Field(description="The accounts on this page, by name.")
    total: int = Field(description="How many accounts the book held that day.")
    limit: int = Field(description=PAGE_FIELDS["limit"])
    offset: int = Field(description=PAGE_FIELDS["offset"])
    on: date = Field(description="The day (its end, installation time zone).")
    user: str = Field(description="The CSM's email.")
    user_name: str = Field(description="The CSM's full name.")
    role: str = Field(description="The role of the book.")


ChangeSort = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="A field, `-` first for descending: account, external_id, owner, role. "
        "Ties are broken by the row's id.",
        examples=["-account"],
    ),
]
AccountText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
AccountRefText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class UndoRequest(BaseModel):
    """Options of an undo."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"dry_run": True}]})

    dry_run: bool = Field(default=False, description="Preview the undo and write nothing.")
    fingerprint: str | None = Field(
        default=None,
        description="Apply only if the undo would still change what the preview showed "
        "(the fingerprint a dry run returned); else 409.",
    )


def result_out(result: schemas.OperationResult) -> OperationResult:
    """A service result in the API's (identical) shape."""
    return OperationResult.model_validate(result.model_dump())


@get(
    router,
    "/operations",
    role="viewer",
    response_model=OperationList,
    summary="List operations",
    responses=problems(404),
)
def list_recent_operations(
    request: Request,
    kind: Annotated[
        Literal[OPERATION_KINDS] | None,  # type: ignore[valid-type]
        Query(description="Only operations of this kind."),
    ] = None,
    actor: Annotated[
        Email | None, Query(description="Only operations this user ran (email or full name).")
    ] = None,
    since: Annotated[
        Day | None,
        Query(description="Only operations on or after this day (installation time zone)."),
    ] = None,
    until: Annotated[
        Day | None,
        Query(description="Only operations on or before this day (installation time zone)."),
    ] = None,
    account: Annotated[
        AccountRefText | None,
        Query(
            description="Only operations that changed this account's owners or policy "
            "(external id, or id as `17` or `#17`)."
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT_OPERATIONS,
    offset: Offset = 0,
) -> OperationList:
    """Recent operations (assign, unassign, transfer, set_policy, inherit, import, undo, …),
    newest first; every filter given narrows the list."""
    with reading(request) as session:
        filters = OperationFilter(
            kind=kind,
            actor_id=get_user(session, actor).id if actor else None,
            since=since,
            until=until,
            account_id=get_account(session, account).id if account else None,
        )
        page = operations_page(session, limit=limit, offset=offset, filters=filters)
    items = [Operation.model_validate(row.model_dump()) for row in page.items]
    return OperationList(items=items, total=page.total or 0, limit=limit, offset=offset)


@get(
    router,
    "/operations/{operation_id}",
    role="viewer",
    response_model=Operation,
    summary="Show one operation",
    responses=problems(404),
)
def get_one_operation(request: Request, operation_id: OperationId) -> Operation:
    """One operation: kind, actor, time, parameters, counts, and its undo links."""
    with reading(request) as session:
        found = get_operation(session, operation_id=operation_id)
    return Operation.model_validate(found.model_dump())


@get(
    router,
    "/operations/{operation_id}/changes",
    role="viewer",
    response_model=ChangeList,
    summary="List the owners an operation changed",
    responses=problems(404),
)
def list_operation_changes(
    request: Request,
    operation_id: OperationId,
    owner: Annotated[
        Email | None, Query(description="Only this owner's rows (email or full name).")
    ] = None,
    action: Annotated[
        Literal["open", "close"] | None,
        Query(description="Only the owners the operation opened (`open`) or closed (`close`)."),
    ] = None,
    role: Annotated[RoleName | None, Query(description="Only this role's rows.")] = None,
    account: Annotated[
        AccountText | None,
        Query(
            description="Only accounts whose name contains this text (any case), or whose "
            "external id is exactly it."
        ),
    ] = None,
    sort: ChangeSort = "account",
    limit: Limit = DEFAULT_LIMIT_CHANGES,
    offset: Offset = 0,
) -> ChangeList:
    """Every owner the operation opened or closed, one row per account, owner and role, by
    account name; every filter given narrows the list. 404 for an unknown operation."""
    with reading(request) as session:
        get_operation(session, operation_id=operation_id)
        filters = ChangeFilter(
            owner_id=get_user(session, owner).id if owner else None,
            action=action,
            role=role,
            account=account,
        )
        page = operation_changes(
            session,
            operation_id=operation_id,
            filters=filters,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    items = [Change.model_validate(row.model_dump()) for row in page.items]
    return ChangeList(items=items, total=page.total or 0, limit=limit, offset=offset)


@get(
    books_router,
    "/csms/{user}/book",
    role="viewer",
    response_model=Book,
    summary="A CSM's book on a date",
    responses=problems(404),
)
def get_book_on(
    request: Request,
    user: Annotated[Email, Path(description="The CSM: email or full name.")],
    on: Annotated[
        Day | None,
        Query(
            description="The day, at its end (installation time zone): YYYY-MM-DD, today or "
            "yesterday. Default: today."
        ),
    ] = None,
    role: Annotated[RoleName, Query(description="The role of the book.")] = "csm",
    limit: Limit = DEFAULT_LIMIT_CHANGES,
    offset: Offset = 0,
) -> Book:
    """The accounts the user held ``role`` on at the end of ``on``, by account name, with the
    assignment row (since when, why, by whom) of each."""
    day = on or today()
    with reading(request) as session:
        found = get_user(session, user)
        page = book_page(session, user=found, day=day, role=role, limit=limit, offset=offset)
        email, name = found.email, found.name
    return Book(
        items=[BookEntry.model_validate(row.model_dump()) for row in page.items],
        total=page.total or 0,
        limit=limit,
        offset=offset,
        on=day,
        user=email,
        user_name=name,
        role=role,
    )


@post(
    router,
    "/operations/{operation_id}/undo",
    role="manager",
    response_model=OperationResult,
    summary="Undo an operation",
    responses=idempotent_responses("The undo operation.", 400, 404, 409),
)
def undo(
    request: Request,
    caller: CallerDep,
    operation_id: OperationId,
    body: UndoRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Restore exactly the ownership the operation replaced, as a new ``undo`` operation.

    All or nothing: a 409 lists the later operations that changed the same accounts and owners
    (undo those first, newest first). Undoing an import reverts its ownership changes only.
    """
    options = body or UndoRequest()

    def work(session: Session) -> OperationResult:
        result = undo_operation(
            session,
            operation_id=operation_id,
            actor=acting_user(session, caller),
            dry_run=options.dry_run,
            expected_fingerprint=options.fingerprint,
        )
        return result_out(result)

    identity = {"operation_id": operation_id, **options.model_dump(mode="json")}
    return run_once(request, caller, idempotency_key, identity, work)
