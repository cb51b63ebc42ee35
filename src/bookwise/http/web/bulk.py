"""Bulk ownership changes from a page: preview (dry run) → apply (with the fingerprint) → undo.

A page posts a ``BulkForm`` (the action, the CSMs, the ticked rows or "all matching" with the
page's filters) to its own preview route. The preview page posts the same fields back with the
fingerprint to ``/operations/apply``; the result page offers Undo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.errors import InvalidInput
from bookwise.http.context import Caller, acting_user, writing
from bookwise.http.web.common import USER_ERRORS, ShownError, local_path, outcome_label
from bookwise.http.web.selecting import Filters, selection_of
from bookwise.http.web.templating import page
from bookwise.models import User
from bookwise.users.service import get_user, get_users


class BulkForm(BaseModel):
    """A bulk ownership change as a page posts it, and as the preview posts it back."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["assign", "unassign", "transfer"]
    to: list[str] = []
    from_csm: str = ""
    refs: list[str] = []
    scope: str = "selected"
    assigned_to: str = ""
    not_assigned_to: str = ""
    who: str = ""
    where: str = ""
    back: str = ""
    fingerprint: str = ""

    def filters(self) -> Filters:
        """The filters of the page the form came from ("all matching" means these)."""
        return Filters(
            assigned_to=self.assigned_to,
            not_assigned_to=self.not_assigned_to,
            who=self.who,
            where=self.where,
        )

    def targets(self) -> list[str]:
        """The CSMs named in ``to``, each once, blanks dropped."""
        return list(dict.fromkeys(email.strip() for email in self.to if email.strip()))

    def fields(self) -> list[tuple[str, str]]:
        """Every field but the fingerprint, as hidden inputs for the preview's Apply form."""
        pairs = [("action", self.action), ("from_csm", self.from_csm), ("scope", self.scope)]
        pairs += [("to", email) for email in self.targets()]
        if self.scope == "selected":
            pairs += [("refs", ref) for ref in self.refs if ref.strip()]
        pairs += self.filters().fields()
        pairs.append(("back", self.back_path()))
        return [(name, value) for name, value in pairs if value]

    def back_path(self) -> str:
        """Where Cancel and Back go: the page the form came from."""
        return local_path(self.back, "/assignment")


@dataclass(frozen=True)
class BulkOutcome:
    """An operation's result with the words the pages show about it."""

    result: OperationResult
    headline: str
    selection: str


def run_bulk(
    session: Session,
    form: BulkForm,
    *,
    actor: User,
    dry_run: bool,
    expected_fingerprint: str | None = None,
) -> BulkOutcome:
    """Run (or, with ``dry_run``, preview) the form's operation in ``session``."""
    selection, described = selection_of(
        session, scope=form.scope, refs=form.refs, filters=form.filters()
    )
    options: dict[str, Any] = {
        "actor": actor,
        "dry_run": dry_run,
        "expected_fingerprint": expected_fingerprint,
    }
    if form.action == "assign":
        emails = form.targets()
        if not emails:
            raise InvalidInput("choose at least one CSM to assign the accounts to")
        csms = get_users(session, emails)
        result = assign_accounts(session, selection=selection, csms=csms, **options)
        headline = f"Assign {described} to {', '.join(u.email for u in csms)}"
    elif form.action == "unassign":
        csm = _named(session, form.from_csm, "choose the CSM to unassign")
        result = unassign_accounts(session, selection=selection, csm=csm, **options)
        headline = f"Unassign {csm.email} from {described}"
    else:
        source = _named(session, form.from_csm, "choose the CSM whose accounts move")
        targets = form.targets()
        target = _named(session, targets[0] if targets else "", "choose the CSM to transfer to")
        result = transfer_accounts(
            session, from_csm=source, to_csm=target, selection=selection, **options
        )
        headline = f"Transfer {described} from {source.email} to {target.email}"
    return BulkOutcome(result=result, headline=headline, selection=described)


def dry_run(request: Request, caller: Caller, form: BulkForm) -> BulkOutcome:
    """Run the form's operation and roll it back: exactly what applying would do."""

    def work(session: Session) -> BulkOutcome:
        return run_bulk(session, form, actor=acting_user(session, caller), dry_run=True)

    return writing(request, work)


def preview(
    request: Request,
    caller: Caller,
    form: BulkForm,
    *,
    refused: Callable[[ShownError], Any],
) -> Any:
    """The preview page; a change that cannot be previewed goes to ``refused`` (its page)."""
    try:
        outcome = dry_run(request, caller, form)
    except USER_ERRORS as exc:
        return refused(ShownError.of(exc))
    return preview_page(request, form, outcome)


def _named(session: Session, email: str, missing: str) -> User:
    if not email.strip():
        raise InvalidInput(missing)
    return get_user(session, email.strip())


def counts_shown(result: OperationResult) -> list[tuple[str, int]]:
    """The result's counts in words, largest first, zeros left out."""
    rows = [(outcome_label(key), value) for key, value in result.counts.items() if value]
    if result.inherited_opened or result.inherited_closed:
        rows.append(("children following their parent: owners added", result.inherited_opened))
        rows.append(("children following their parent: owners removed", result.inherited_closed))
    return rows


def preview_page(
    request: Request,
    form: BulkForm,
    outcome: BulkOutcome | None,
    *,
    error: ShownError | None = None,
) -> Any:
    """The preview: counts, per-id outcomes, a sample of changes; Apply and Cancel."""
    status = error.status if error is not None and outcome is None else 200
    return page(
        request,
        "preview.html",
        status,
        form=form,
        outcome=outcome,
        counts=counts_shown(outcome.result) if outcome else [],
        error=error,
        back=form.back_path(),
    )


def result_page(
    request: Request,
    result: OperationResult,
    *,
    headline: str,
    back: str,
    undoable: bool = True,
) -> Any:
    """What an applied operation changed, with Undo."""
    return page(
        request,
        "result.html",
        result=result,
        headline=headline,
        counts=counts_shown(result),
        back=back,
        undoable=undoable and result.operation_id is not None,
    )
