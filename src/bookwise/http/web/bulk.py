"""Bulk ownership changes from a page: preview (dry run) → apply (with the fingerprint) → undo.

A page posts a ``BulkForm`` (the action, the CSMs, the ticked rows or "all matching" with the
page's filters) to its own preview route. The preview page posts the same fields back with the
fingerprint to ``/operations/apply``; the result page offers Undo (itself previewed first).

Every ownership change a page makes is previewed with the same page (``Preview``,
``show_preview``): an undo, and an account's inherit policy too, each posting to its own
route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.service import (
    assign_accounts,
    take_over_accounts,
    transfer_accounts,
    unassign_accounts,
)
from bookwise.errors import InvalidInput
from bookwise.http.context import Caller, acting_user, reading, writing
from bookwise.http.web.columns import people_names
from bookwise.http.web.common import USER_ERRORS, ShownError, href, local_path, outcome_label
from bookwise.http.web.messages import redirect
from bookwise.http.web.selecting import Filters, selection_of
from bookwise.http.web.templating import page
from bookwise.models import User
from bookwise.users.service import get_user, get_users

STALE = ShownError(
    message="The accounts changed since your preview, so nothing was applied. "
    "This is a fresh preview: check it and apply again.",
    status=409,
)
"""What a fresh preview says above itself when an apply found the accounts changed."""


class BulkForm(BaseModel):
    """A bulk ownership change as a page posts it, and as the preview posts it back."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["assign", "unassign", "transfer", "take_over"]
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
    changed: bool = False
    """In a preview's address: an apply found the accounts changed since the last preview."""

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

    def preview_path(self) -> str:
        """The address of this change's preview: the preview of the page it came from."""
        came_from = self.back_path()
        return "/preview/accounts" if came_from.startswith("/accounts") else "/assignment/preview"

    def preview_href(self, *, changed: bool = False) -> str:
        """This change's preview, as an address one can reload."""
        return preview_href(self.preview_path(), self.fields(), changed=changed)


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
        headline = f"Assign {described} to {', '.join(person(u) for u in csms)}"
    elif form.action == "unassign":
        csm = _named(session, form.from_csm, "choose the CSM to unassign")
        result = unassign_accounts(session, selection=selection, csm=csm, **options)
        headline = f"Unassign {person(csm)} from {described}"
    elif form.action == "take_over":
        targets = form.targets()
        target = _named(session, targets[0] if targets else "", "choose the CSM who takes over")
        result = take_over_accounts(session, selection=selection, to_csm=target, **options)
        headline = f"Take over {described} for {person(target)} (their other CSMs lose them)"
    else:
        source = _named(session, form.from_csm, "choose the CSM whose accounts move")
        targets = form.targets()
        target = _named(session, targets[0] if targets else "", "choose the CSM to transfer to")
        result = transfer_accounts(
            session, from_csm=source, to_csm=target, selection=selection, **options
        )
        headline = f"Transfer {described} from {person(source)} to {person(target)}"
    return BulkOutcome(result=result, headline=headline, selection=described)


def person(user: User) -> str:
    """A user as a title names them: the name (people think in names), else the email."""
    return user.name or user.email


def result_names(request: Request, result: OperationResult) -> dict[str, str]:
    """The names of the CSMs a preview or result lists (its per-id outcomes and changes)."""
    emails = {item.user for item in result.items or () if item.user}
    emails |= {change.user for change in result.sample or () if change.user}
    if not emails:
        return {}
    with reading(request) as session:
        return people_names(session, sorted(emails))


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
    return preview_page(request, form, outcome, error=STALE if form.changed else None)


def _named(session: Session, email: str, missing: str) -> User:
    if not email.strip():
        raise InvalidInput(missing)
    return get_user(session, email.strip())


def counts_shown(result: OperationResult) -> list[tuple[str, int]]:
    """The result's counts in words, zeros left out; inherited changes as following."""
    rows = [(outcome_label(key), value) for key, value in result.counts.items() if value]
    # Accounts that follow their parent change with it: that is no refusal, and is shown
    # apart from the changes made directly.
    if result.inherited_opened:
        rows.append(("follow their parent: owners added", result.inherited_opened))
    if result.inherited_closed:
        rows.append(("follow their parent: owners removed", result.inherited_closed))
    return rows


@dataclass(frozen=True)
class Preview:
    """A dry run as the preview page shows it, and where its Apply button posts."""

    headline: str
    result: OperationResult
    apply_to: str
    fields: Sequence[tuple[str, str]]
    back: str
    details: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()
    apply_label: str = "Apply"
    applicable: bool | None = None

    @property
    def can_apply(self) -> bool:
        """Whether Apply would do anything (by default: whether any account would change)."""
        if self.applicable is not None:
            return self.applicable
        return self.result.accounts_changed > 0


def show_preview(
    request: Request,
    preview: Preview | None,
    *,
    back: str,
    error: ShownError | None = None,
) -> Any:
    """The preview page: counts, per-id outcomes, a sample of changes; Apply and Cancel.

    Without a preview (the change could not be previewed) it shows the error and Back.
    """
    status = error.status if error is not None and preview is None else 200
    return page(
        request,
        "preview.html",
        status,
        preview=preview,
        counts=counts_shown(preview.result) if preview else [],
        names=result_names(request, preview.result) if preview else {},
        error=error,
        back=back,
    )


def preview_page(
    request: Request,
    form: BulkForm,
    outcome: BulkOutcome | None,
    *,
    error: ShownError | None = None,
) -> Any:
    """The preview of a bulk change; Apply posts the form back to ``/operations/apply``."""
    shown = None
    if outcome is not None:
        shown = Preview(
            headline=outcome.headline,
            result=outcome.result,
            apply_to="/operations/apply",
            fields=form.fields(),
            back=form.back_path(),
            details=[("Selection", outcome.selection)],
        )
    return show_preview(request, shown, back=form.back_path(), error=error)


def applied(
    request: Request,
    result: OperationResult,
    *,
    headline: str,
    back: str,
    undoable: bool = True,
) -> Any:
    """After an apply: a redirect to ``back`` (post/redirect/get), which says what changed,
    links the operation and offers Undo (itself previewed first)."""
    return redirect(
        request,
        back,
        done_words(headline, result),
        operation_id=result.operation_id,
        undoable=undoable,
    )


def done_words(headline: str, result: OperationResult) -> str:
    """What an applied operation did, in one sentence: the headline, how many accounts
    changed, and the count of each outcome."""
    counted = "; ".join(f"{label}: {value:,}" for label, value in counts_shown(result))
    if result.operation_id is None:
        changed = "nothing changed"
    else:
        n = result.accounts_changed
        changed = f"{n:,} account{'s' if n != 1 else ''} changed"
    return f"{headline}: {changed}" + (f" ({counted})." if counted else ".")


PAST = {
    "Assign": "Assigned",
    "Unassign": "Unassigned",
    "Transfer": "Transferred",
    "Take": "Took",
    "Move": "Moved",
    "Deactivate": "Deactivated",
}


def past(headline: str) -> str:
    """A preview's headline ("Assign 3 accounts to Ana") as what was done ("Assigned …")."""
    verb, _, rest = headline.partition(" ")
    return f"{PAST.get(verb, verb)} {rest}"


def preview_href(path: str, fields: Sequence[tuple[str, str]], *, changed: bool = False) -> str:
    """The address of a preview: the form's fields in the query string, so the preview can
    be reloaded and shared; ``changed``: an apply found the accounts changed since."""
    pairs = [*fields, ("changed", "1")] if changed else list(fields)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def undo_href(operation_id: int | None, back: str) -> str:
    """The preview of undoing an operation, coming back to ``back`` afterwards."""
    return href(f"/operations/{operation_id}/undo", {"back": back})
