"""/api/v1/operations: what changed ownership, when and by whom; undo. Also the result shape
every ownership change returns (``OperationResult``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.assignments import schemas
from bookwise.assignments.history import get_operation, operations_page
from bookwise.assignments.undo import undo_operation
from bookwise.http.api.common import (
    MAX_ID,
    IdempotencyKey,
    api_router,
    idempotent_responses,
    problems,
    run_once,
)
from bookwise.http.api.filters import Limit, Offset
from bookwise.http.context import CallerDep, acting_user, reading
from bookwise.http.routing import get, post

router = api_router("operations")
DEFAULT_LIMIT_OPERATIONS = 50

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

    items: list[Operation]
    total: int
    limit: int
    offset: int


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
    responses=problems(),
)
def list_recent_operations(
    request: Request, limit: Limit = DEFAULT_LIMIT_OPERATIONS, offset: Offset = 0
) -> OperationList:
    """Recent operations (assign, unassign, transfer, set_policy, inherit, import, undo, …),
    newest first."""
    with reading(request) as session:
        page = operations_page(session, limit=limit, offset=offset)
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
