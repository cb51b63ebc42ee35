"""Operations: the recent list with Undo, applying a previewed bulk change, and undo.

An undo is previewed like every other change (``GET /operations/{id}/undo``) and applied
with the preview's fingerprint (``POST``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.assignments.history import (
    OperationFilter,
    ParameterNames,
    get_operation,
    operations_page,
    parameter_names,
    parameter_words,
)
from bookwise.assignments.schemas import OperationOut, OperationResult
from bookwise.assignments.undo import undo_operation
from bookwise.dates import parse_date
from bookwise.errors import Conflict, Refused
from bookwise.http.context import Caller, CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.bulk import (
    STALE,
    BulkForm,
    BulkOutcome,
    Preview,
    applied,
    past,
    preview_page,
    run_bulk,
    show_preview,
)
from bookwise.http.web.common import USER_ERRORS, PageNumber, Pager, ShownError, href, local_path
from bookwise.http.web.messages import redirect
from bookwise.http.web.templating import page
from bookwise.models import OPERATION_KINDS
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)
OPERATIONS_PAGE = 50
# The demo load opened every owner of the demo book: undoing it would close them all at once.
# The pages do not offer it (the CLI and the API still can: see docs/ui.md).
NOT_UNDONE_HERE = {"demo": "the demo load"}


FilterText = Annotated[str, Query(max_length=300)]


@get(router, "/operations", role="viewer")
def operations(
    request: Request,
    kind: FilterText = "",
    by: FilterText = "",
    since: FilterText = "",
    until: FilterText = "",
    account: FilterText = "",
    number: PageNumber = 1,
) -> Any:
    """Operations, newest first: who, what, when, counts, the filter; filters; Undo."""
    shown = {"kind": kind.strip(), "by": by.strip(), "since": since.strip()}
    shown |= {"until": until.strip(), "account": account.strip()}
    return _operations_page(request, Pager.of(number, OPERATIONS_PAGE), shown)


def _filters(session: Session, shown: dict[str, str]) -> OperationFilter:
    kind = shown["kind"] if shown["kind"] in OPERATION_KINDS else None
    return OperationFilter(
        kind=kind,
        actor_id=get_user(session, shown["by"]).id if shown["by"] else None,
        since=parse_date(shown["since"], field="from") if shown["since"] else None,
        until=parse_date(shown["until"], field="to") if shown["until"] else None,
        account_id=get_account(session, shown["account"]).id if shown["account"] else None,
    )


def _operations_page(request: Request, pager: Pager, shown: dict[str, str]) -> Any:
    error, rows, total, names = None, [], 0, ParameterNames()
    with reading(request) as session:
        try:
            found = operations_page(
                session, limit=pager.size, offset=pager.offset, filters=_filters(session, shown)
            )
            rows, total = found.items, found.total or 0
            names = parameter_names(session, rows)
        except USER_ERRORS as exc:
            error = ShownError.of(exc)
    params = {key: value for key, value in shown.items() if value}
    return page(
        request,
        "operations.html",
        error.status if error else 200,
        operations=rows,
        pager=pager.showing(len(rows), total),
        link=lambda number: href("/operations", {**params, "page": number}),
        describe=lambda op, names=names: parameter_words(op, names),
        undone_here=lambda op: op.kind not in NOT_UNDONE_HERE,
        shown=shown,
        filtered=bool(params),
        kinds=OPERATION_KINDS,
        error=error,
    )


def describe_parameters(
    operation: OperationOut, names: ParameterNames | None = None
) -> list[tuple[str, str]]:
    """An operation's parameters in words, for a preview's details (label, text)."""
    words = parameter_words(operation, names)
    return [("Details", "; ".join(words))] if words else []


@post(router, "/operations/apply", role="manager")
def apply(request: Request, caller: CallerDep, form: Annotated[BulkForm, Form()]) -> Any:
    """Apply a previewed bulk change, then redirect to the page it came from, which says
    what changed; a changed set since the preview redirects to a fresh preview."""
    if not form.fingerprint:  # nothing previewed: the preview first
        return redirect(request, form.preview_href())

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
    except Conflict:
        return redirect(request, form.preview_href(changed=True))
    except USER_ERRORS as exc:
        return preview_page(request, form, None, error=ShownError.of(exc))
    headline = past(outcome.headline)
    return applied(request, outcome.result, headline=headline, back=form.back_path())


@get(router, "/operations/{operation_id}/undo", role="manager")
def undo_preview(
    request: Request,
    caller: CallerDep,
    operation_id: int,
    back: Annotated[str, Query()] = "",
    changed: bool = False,
) -> Any:
    """Preview an undo: what it would reopen and close; Undo (with the fingerprint), Cancel.
    ``changed``: an undo found the owners changed since the last preview."""
    target = local_path(back, "/operations")
    try:
        operation, result, names = _dry_undo(request, caller, operation_id)
    except USER_ERRORS as exc:
        return _undo_failed(request, operation_id, ShownError.of(exc), target)
    shown = _undo_preview(operation, result, target, names)
    return show_preview(request, shown, back=target, error=STALE if changed else None)


@post(router, "/operations/{operation_id}/undo", role="manager")
def undo(
    request: Request,
    caller: CallerDep,
    operation_id: int,
    back: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
) -> Any:
    """Undo an operation (as a new operation) exactly as previewed, then redirect to
    ``back``; without a fingerprint, or when the owners changed since, the preview."""
    target = local_path(back, "/operations")
    preview = f"/operations/{operation_id}/undo"
    if not fingerprint:
        return redirect(request, href(preview, {"back": target}))

    def work(session: Session) -> OperationResult:
        _undoable_here(session, operation_id)
        return undo_operation(
            session,
            operation_id=operation_id,
            actor=acting_user(session, caller),
            expected_fingerprint=fingerprint,
        )

    try:
        result = writing(request, work)
    except Conflict:
        # A stale fingerprint, or a later operation now in the way: a fresh preview shows
        # which (and refuses in turn when the undo can no longer be done).
        return redirect(request, href(preview, {"back": target, "changed": "1"}))
    except USER_ERRORS as exc:
        return _undo_failed(request, operation_id, ShownError.of(exc), target)
    headline = f"Undid operation #{operation_id}"
    return applied(request, result, headline=headline, back=target, undoable=False)


def _undoable_here(session: Session, operation_id: int) -> OperationOut:
    """The operation, or Refused when this page does not undo its kind."""
    operation = get_operation(session, operation_id=operation_id)
    if operation.kind in NOT_UNDONE_HERE:
        raise Refused(
            f"operation {operation_id} is {NOT_UNDONE_HERE[operation.kind]}: undoing it would "
            "remove every owner it set, so the web app does not offer it. To start again "
            "from an empty book, use a new database (`bookwise init`)."
        )
    return operation


def _dry_undo(
    request: Request, caller: Caller, operation_id: int
) -> tuple[OperationOut, OperationResult, ParameterNames]:
    def work(session: Session) -> tuple[OperationOut, OperationResult, ParameterNames]:
        operation = _undoable_here(session, operation_id)
        result = undo_operation(
            session, operation_id=operation_id, actor=acting_user(session, caller), dry_run=True
        )
        return operation, result, parameter_names(session, [operation])

    return writing(request, work)


def _undo_preview(
    operation: OperationOut, result: OperationResult, back: str, names: ParameterNames
) -> Preview:
    at = operation.created_at.strftime("%Y-%m-%d %H:%M UTC")
    who = f"{operation.actor_name} ({operation.actor})" if operation.actor_name else operation.actor
    done = f"{operation.kind.replace('_', ' ')} by {who}, {at}"
    return Preview(
        headline=f"Undo operation #{operation.id} ({operation.kind.replace('_', ' ')})",
        result=result,
        apply_to=f"/operations/{operation.id}/undo",
        fields=[("back", back)],
        back=back,
        details=[("Operation", done), *describe_parameters(operation, names)],
        notes=[
            "Undo puts back exactly the owners this operation replaced, as a new operation; "
            "history keeps both."
        ],
        apply_label="Undo",
        # An undo that changes no owner still records that the operation is undone.
        applicable=True,
    )


def _undo_failed(request: Request, operation_id: int, error: ShownError, back: str) -> Any:
    return page(
        request,
        "undo_failed.html",
        error.status,
        operation_id=operation_id,
        error=error,
        back=back,
    )
