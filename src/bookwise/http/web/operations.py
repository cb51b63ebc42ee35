"""Operations: the recent list with Undo, applying a previewed bulk change, and undo."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.assignments.history import list_operations
from bookwise.assignments.schemas import OperationOut, OperationResult
from bookwise.assignments.undo import undo_operation
from bookwise.errors import Conflict
from bookwise.http.context import Caller, CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.bulk import (
    BulkForm,
    BulkOutcome,
    dry_run,
    preview_page,
    result_page,
    run_bulk,
)
from bookwise.http.web.common import USER_ERRORS, Pager, ShownError, href, local_path
from bookwise.http.web.templating import page

router = APIRouter(include_in_schema=False)
OPERATIONS_PAGE = 50


@get(router, "/operations", role="viewer")
def operations(request: Request, number: Annotated[int, Query(alias="page", ge=1)] = 1) -> Any:
    """Recent operations, newest first: who, what, when, counts, the filter; Undo."""
    return _operations_page(request, Pager.of(number, OPERATIONS_PAGE))


def _operations_page(request: Request, pager: Pager) -> Any:
    with reading(request) as session:
        # One row more than the page: whether a next page exists, without counting them all.
        rows = list_operations(session, limit=pager.size + 1, offset=pager.offset)
    shown = rows[: pager.size]
    pager = pager.showing(len(shown), None, more=len(rows) > pager.size)
    return page(
        request,
        "operations.html",
        operations=shown,
        pager=pager,
        link=lambda number: href("/operations", {"page": number}),
        describe=describe_parameters,
    )


def describe_parameters(operation: OperationOut) -> list[tuple[str, str]]:
    """An operation's parameters in words: the filter or rule text, ids, CSMs, role."""
    shown = []
    for key, value in operation.parameters.items():
        if key == "role" and value == "csm":
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        label = {"filter": "selection", "ids": "accounts named", "undoes": "undoes #"}.get(key, key)
        shown.append((label.replace("_", " "), text))
    return shown


@post(router, "/operations/apply", role="manager")
def apply(request: Request, caller: CallerDep, form: Annotated[BulkForm, Form()]) -> Any:
    """Apply a previewed bulk change; a changed set since the preview shows a new preview."""
    if not form.fingerprint:
        error = ShownError(message="preview the change first: apply needs its fingerprint")
        return preview_page(request, form, None, error=error)

    def work(session: Session) -> BulkOutcome:
        return run_bulk(
            session,
            form,
            actor=acting_user(session, caller),
            dry_run=False,
            expected_fingerprint=form.fingerprint,
        )

    try:
        outcome = writing(request, work)
    except Conflict as exc:
        return _preview_again(request, caller, form, ShownError.of(exc))
    except USER_ERRORS as exc:
        return preview_page(request, form, None, error=ShownError.of(exc))
    return result_page(
        request, outcome.result, headline=_done(outcome.headline), back=form.back_path()
    )


def _preview_again(request: Request, caller: Caller, form: BulkForm, error: ShownError) -> Any:
    """The conflict's message above a fresh preview (with the new fingerprint)."""
    try:
        outcome = dry_run(request, caller, form)
    except USER_ERRORS as exc:
        return preview_page(request, form, None, error=ShownError.of(exc))
    return preview_page(request, form, outcome, error=error)


def _done(headline: str) -> str:
    verb, _, rest = headline.partition(" ")
    past = {"Assign": "Assigned", "Unassign": "Unassigned", "Transfer": "Transferred"}
    return f"{past.get(verb, verb)} {rest}"


@post(router, "/operations/{operation_id}/undo", role="manager")
def undo(
    request: Request,
    caller: CallerDep,
    operation_id: int,
    back: Annotated[str, Form()] = "",
) -> Any:
    """Undo an operation (as a new operation); a later change to the same owners refuses."""
    target = local_path(back, "/operations")

    def work(session: Session) -> OperationResult:
        return undo_operation(
            session, operation_id=operation_id, actor=acting_user(session, caller)
        )

    try:
        result = writing(request, work)
    except USER_ERRORS as exc:
        return page(
            request,
            "undo_failed.html",
            exc.status_code,
            operation_id=operation_id,
            error=ShownError.of(exc),
            back=target,
        )
    return result_page(
        request,
        result,
        headline=f"Undid operation #{operation_id}",
        back=target,
        undoable=False,
    )
