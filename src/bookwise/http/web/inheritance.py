"""Inheritance from the pages: move an account, the installation default, a selection's policy.

Each changes owners, so each is previewed (a dry run) with the shared preview page, applied
with the preview's fingerprint (a changed set since shows a fresh preview) and then undoable
from the result page, exactly like Assign reps (``http/web/bulk.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from bookwise.accounts.service import find_account_by_name, get_account, label
from bookwise.assignments.inheritance import move_account, set_default_policy, set_inherit_policy
from bookwise.assignments.operation import Policy
from bookwise.assignments.plan import default_policy
from bookwise.assignments.schemas import OperationResult
from bookwise.errors import Conflict, InvalidInput
from bookwise.http.context import Caller, CallerDep, acting_user, writing
from bookwise.http.routing import get, post
from bookwise.http.web import account as account_page
from bookwise.http.web import accounts as accounts_page
from bookwise.http.web.bulk import STALE, Preview, applied, past, preview_href, show_preview
from bookwise.http.web.common import USER_ERRORS, ShownError, local_path
from bookwise.http.web.messages import redirect
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


def _show_preview(
    request: Request,
    work: Work,
    *,
    apply_to: str,
    fields: list[tuple[str, str]],
    refused: Callable[[ShownError], Any],
    apply_label: str = "Apply",
    changed: bool = False,
) -> Any:
    """The preview (a dry run) at its own address; ``changed``: an apply found the owners
    changed since the last preview."""
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
    return show_preview(request, shown, back=change.back, error=STALE if changed else None)


def _apply(
    request: Request,
    work: Work,
    *,
    preview: str,
    fields: list[tuple[str, str]],
    fingerprint: str | None,
    refused: Callable[[ShownError], Any],
) -> Any:
    """Apply with the preview's fingerprint and redirect to the page the change came from;
    without a fingerprint, or when the owners changed since, a redirect to the preview."""
    if not fingerprint:
        return redirect(request, preview_href(preview, fields))
    try:
        change = writing(request, lambda session: work(session, False, fingerprint))
    except Conflict:
        return redirect(request, preview_href(preview, fields, changed=True))
    except USER_ERRORS as exc:
        return refused(ShownError.of(exc))
    return applied(request, change.result, headline=past(change.headline), back=change.back)


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
    return _apply(
        request,
        _move_work(caller, ref, parent, top_level),
        preview=f"/accounts/{quote(ref, safe='')}/parent",
        fields=_move_fields(parent, top_level),
        fingerprint=fingerprint or None,
        refused=lambda error: account_page.render(request, ref, error=error),
    )


@get(router, "/accounts/{ref}/parent", role="manager")
def move_preview(
    request: Request,
    caller: CallerDep,
    ref: str,
    parent: Annotated[str, Query(max_length=300)] = "",
    top_level: bool = False,
    changed: bool = False,
) -> Any:
    """The preview of a move: the owners the account and its followers would gain and lose."""
    return _show_preview(
        request,
        _move_work(caller, ref, parent, top_level),
        apply_to=f"/accounts/{quote(ref, safe='')}/parent",
        fields=_move_fields(parent, top_level),
        refused=lambda error: account_page.render(request, ref, error=error),
        apply_label="Move",
        changed=changed,
    )


def _move_fields(parent: str, top_level: bool) -> list[tuple[str, str]]:
    fields = [("parent", parent), ("top_level", "true" if top_level else "")]
    return [(name, value) for name, value in fields if value]


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
    return _apply(
        request,
        _default_work(caller, policy, back_to),
        preview="/preview/default-policy",
        fields=[("policy", policy), ("back", back_to)],
        fingerprint=fingerprint or None,
        refused=_accounts_refused(request, back_to),
    )


@get(router, "/preview/default-policy", role="manager")
def default_preview(
    request: Request,
    caller: CallerDep,
    policy: Annotated[str, Query(max_length=20)] = "",
    back: Annotated[str, Query(max_length=4000)] = "",
    changed: bool = False,
) -> Any:
    """The preview of a new installation default: every owner it would change."""
    back_to = local_path(back, "/accounts")
    return _show_preview(
        request,
        _default_work(caller, policy, back_to),
        apply_to="/accounts/default-policy",
        fields=[("policy", policy), ("back", back_to)],
        refused=_accounts_refused(request, back_to),
        changed=changed,
    )


def _accounts_refused(
    request: Request, back: str, refs: Sequence[str] = ()
) -> Callable[[ShownError], Any]:
    """The accounts list the form came from, with the refusal (and the ticks kept)."""
    view = accounts_page.AccountsView.from_url(back)
    return lambda error: accounts_page.render(request, view, error=error, checked=refs)


def _default_work(caller: Caller, policy: str, back: str) -> Work:
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
            back=back,
            details=(
                ("Now", old),
                ("Follows it", "every child account without a policy of its own"),
            ),
        )

    return work


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
    changed: bool = False
    """In a preview's address: an apply found the owners changed since the last preview."""

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
    return _apply(
        request,
        _policies_work(caller, form),
        preview="/preview/policies",
        fields=form.fields(),
        fingerprint=form.fingerprint or None,
        refused=_accounts_refused(request, form.back_path(), form.refs),
    )


@get(router, "/preview/policies", role="manager")
def policies_preview(
    request: Request, caller: CallerDep, form: Annotated[PolicyForm, Query()]
) -> Any:
    """The preview of a policy change on the ticked (or all matching) accounts."""
    return _show_preview(
        request,
        _policies_work(caller, form),
        apply_to="/accounts/policy",
        fields=form.fields(),
        refused=_accounts_refused(request, form.back_path(), form.refs),
        changed=form.changed,
    )


def _policies_work(caller: Caller, form: PolicyForm) -> Work:
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

    return work
