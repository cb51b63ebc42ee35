"""Inheritance from the pages: move an account, the installation default, a selection's policy.

Each changes owners, so each is previewed (a dry run) with the shared preview page, applied
with the preview's fingerprint (a changed set since shows a fresh preview) and then undoable
from the result page, exactly like Assign reps (``http/web/bulk.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from bookwise.accounts.service import find_account_by_name, get_account, label
from bookwise.assignments.inheritance import move_account, set_default_policy, set_inherit_policy
from bookwise.assignments.operation import Policy
from bookwise.assignments.plan import default_policy
from bookwise.assignments.schemas import OperationResult
from bookwise.errors import Conflict, InvalidInput
from bookwise.http.context import Caller, CallerDep, acting_user, writing
from bookwise.http.routing import post
from bookwise.http.web import account as account_page
from bookwise.http.web import accounts as accounts_page
from bookwise.http.web.bulk import Preview, result_page, show_preview
from bookwise.http.web.common import USER_ERRORS, ShownError, local_path
from bookwise.http.web.selecting import Filters, selection_of
from bookwise.http.web.templating import account_href

router = APIRouter(include_in_schema=False)

POLICIES: dict[str, Policy | None] = {"inherit": "inherit", "own": "own", "default": None}
POLICY_WORDS = {
    "inherit": "inherit (follow their parent's CSMs)",
    "own": "own (keep their own CSMs)",
    "default": "the installation default",
}


@dataclass(frozen=True)
class Change:
    """A previewed or applied change, in plain values (the session is gone by the page)."""

    headline: str
    result: OperationResult
    back: str
    details: tuple[tuple[str, str], ...] = ()
    applicable: bool | None = None
    """Whether Apply would do anything; by default whether an owner or a policy changes."""


Work = Callable[[Session, bool, str | None], Change]


def _preview_or_apply(
    request: Request,
    work: Work,
    *,
    apply_to: str,
    fields: list[tuple[str, str]],
    fingerprint: str | None,
    refused: Callable[[ShownError], Any],
    apply_label: str = "Apply",
) -> Any:
    """Preview (no fingerprint) or apply; a stale fingerprint shows a fresh preview."""

    def preview(error: ShownError | None = None) -> Any:
        try:
            change = writing(request, lambda session: work(session, True, None))
        except USER_ERRORS as exc:
            return refused(ShownError.of(exc))
        shown = Preview(
            headline=change.headline,
            result=change.result,
            apply_to=apply_to,
            fields=fields,
            back=change.back,
            details=change.details,
            apply_label=apply_label,
            applicable=change.applicable
            if change.applicable is not None
            else change.result.accounts_changed > 0 or change.result.policies_changed > 0,
        )
        return show_preview(request, shown, back=change.back, error=error)

    if not fingerprint:
        return preview()
    try:
        change = writing(request, lambda session: work(session, False, fingerprint))
    except Conflict as exc:
        return preview(ShownError.of(exc))
    except USER_ERRORS as exc:
        return refused(ShownError.of(exc))
    return result_page(request, change.result, headline=change.headline, back=change.back)


# --- moving an account ---------------------------------------------------------------------


def _move_work(caller: Caller, ref: str, parent: str, top_level: bool) -> Work:
    def work(session: Session, dry_run: bool, fingerprint: str | None) -> Change:
        account = get_account(session, ref)
        old_parent = account.parent_id
        if top_level:
            new_parent = None
        elif parent.strip():
            new_parent = find_account_by_name(session, parent)
        else:
            raise InvalidInput(
                "name the new parent (external id, #id or name), or choose top level"
            )
        result = move_account(
            session,
            account=account,
            parent=new_parent,
            actor=acting_user(session, caller),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )
        where = f"under {new_parent.name}" if new_parent else "to the top level"
        here = account_href(account)
        return Change(
            headline=f"Move {account.name} {where}",
            result=result,
            back=here,
            # A move changes the hierarchy even where no owner changes (the same CSMs above).
            applicable=(new_parent.id if new_parent else None) != old_parent,
            details=(
                ("Account", label(account)),
                ("New parent", label(new_parent) if new_parent else "none (top level)"),
            ),
        )

    return work


@post(router, "/accounts/{ref}/parent", role="manager")
def move(
    request: Request,
    caller: CallerDep,
    ref: str,
    parent: Annotated[str, Form()] = "",
    top_level: Annotated[bool, Form()] = False,
    fingerprint: Annotated[str, Form()] = "",
) -> Any:
    """Move the account (and its subtree) under another parent, or to the top level: a
    preview first (who would gain or lose owners), then Apply with its fingerprint."""
    fields = [("parent", parent), ("top_level", "true" if top_level else "")]
    return _preview_or_apply(
        request,
        _move_work(caller, ref, parent, top_level),
        apply_to=f"/accounts/{ref}/parent",
        fields=[(name, value) for name, value in fields if value],
        fingerprint=fingerprint or None,
        refused=lambda error: account_page.render(request, ref, error=error),
        apply_label="Move",
    )


# --- the installation default --------------------------------------------------------------


@post(router, "/accounts/default-policy", role="manager")
def change_default(
    request: Request,
    caller: CallerDep,
    policy: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
) -> Any:
    """Change the installation default policy (children with no policy of their own follow
    it): previewed, applied with the fingerprint, undoable."""
    back_to = local_path(back, "/accounts")

    def work(session: Session, dry_run: bool, fingerprint: str | None) -> Change:
        if policy not in ("inherit", "own"):
            raise InvalidInput(f"the default policy is inherit or own, not {policy!r}")
        old = default_policy(session)
        result = set_default_policy(
            session,
            policy="inherit" if policy == "inherit" else "own",
            actor=acting_user(session, caller),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )
        return Change(
            headline=f"Set the installation default to {policy}",
            result=result,
            back=back_to,
            details=(
                ("Now", old),
                ("Follows it", "every child account without a policy of its own"),
            ),
        )

    view = accounts_page.AccountsView.from_url(back_to)
    return _preview_or_apply(
        request,
        work,
        apply_to="/accounts/default-policy",
        fields=[("policy", policy), ("back", back_to)],
        fingerprint=fingerprint or None,
        refused=lambda error: accounts_page.render(request, view, error=error),
    )


# --- a selection's policy ------------------------------------------------------------------


class PolicyForm(BaseModel):
    """A policy change for the accounts ticked on the list, or all matching its filter."""

    model_config = ConfigDict(extra="ignore")

    policy: str = ""
    refs: list[str] = []
    scope: str = "selected"
    where: str = ""
    back: str = ""
    fingerprint: str = ""

    def fields(self) -> list[tuple[str, str]]:
        """Everything but the fingerprint, as the preview's Apply form posts it back."""
        pairs = [("policy", self.policy), ("scope", self.scope), ("where", self.where)]
        if self.scope == "selected":
            pairs += [("refs", ref) for ref in self.refs if ref.strip()]
        pairs.append(("back", self.back_path()))
        return [(name, value) for name, value in pairs if value]

    def back_path(self) -> str:
        """The list the form came from."""
        return local_path(self.back, "/accounts")


@post(router, "/accounts/policy", role="manager")
def change_policies(
    request: Request, caller: CallerDep, form: Annotated[PolicyForm, Form()]
) -> Any:
    """Set the ticked (or all matching) accounts to inherit, own or the default: previewed,
    applied with the fingerprint, undoable."""

    def work(session: Session, dry_run: bool, fingerprint: str | None) -> Change:
        if form.policy not in POLICIES:
            raise InvalidInput("choose the policy: inherit, own or the installation default")
        selection, described = selection_of(
            session, scope=form.scope, refs=form.refs, filters=Filters(where=form.where)
        )
        result = set_inherit_policy(
            session,
            selection=selection,
            policy=POLICIES[form.policy],
            actor=acting_user(session, caller),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )
        return Change(
            headline=f"Set {described} to {POLICY_WORDS[form.policy]}",
            result=result,
            back=form.back_path(),
            details=(("Selection", described),),
        )

    view = accounts_page.AccountsView.from_url(form.back_path())
    return _preview_or_apply(
        request,
        work,
        apply_to="/accounts/policy",
        fields=form.fields(),
        fingerprint=form.fingerprint or None,
        refused=lambda error: accounts_page.render(request, view, error=error, checked=form.refs),
    )
