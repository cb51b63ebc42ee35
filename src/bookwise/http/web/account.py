"""One account: attributes, hierarchy with owners, current CSMs (add, remove), policy, timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.accounts.values import list_value_changes
from bookwise.assignments import details as account_details
from bookwise.assignments.history import account_history
from bookwise.assignments.inheritance import set_inherit_policy
from bookwise.assignments.operation import Policy
from bookwise.assignments.schemas import ChangeRow, OperationResult
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.errors import Conflict, InvalidInput
from bookwise.http.context import Caller, CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.bulk import STALE, Preview, result_names, show_preview
from bookwise.http.web.columns import COLUMNS
from bookwise.http.web.common import (
    USER_ERRORS,
    Pager,
    ShownError,
    SubPageNumber,
    csm_choices,
    href,
    outcome_label,
)
from bookwise.http.web.messages import redirect
from bookwise.http.web.templating import account_href, page
from bookwise.money import format_money
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)

CHANGES_SHOWN = 10  # the Changes card shows the latest values; the CLI and API page them all
CHILD_COLUMNS = [COLUMNS[key] for key in ("external_id", "mrr", "inherit_policy", "csms")]
FIELD_LABELS = {
    "name": "Name",
    "external_id": "External id",
    "domain": "Domain",
    "mrr": "MRR",
    "health_score": "Health score",
    "tier": "Tier",
    "lifecycle_stage": "Lifecycle stage",
    "nps": "NPS",
    "csm_rating": "CSM rating",
    "region": "Region",
    "renewal_date": "Renewal date",
}
POLICIES: dict[str, Policy | None] = {"inherit": "inherit", "own": "own", "default": None}


@dataclass(frozen=True)
class Notice:
    """What an action on this page did, with the operation to undo."""

    message: str
    operation_id: int | None = None


@get(router, "/accounts/{ref}", role="viewer")
def account(
    request: Request,
    ref: str,
    children_page: SubPageNumber = 1,
    history_page: SubPageNumber = 1,
    done: str = "",
    operation: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    """The account page (``done``: what the form that redirected here did)."""
    message = DONE_WORDS.get(done)
    notice = Notice(message=message, operation_id=operation) if message else None
    return render(
        request, ref, children_page=children_page, history_page=history_page, notice=notice
    )


DONE_WORDS = {
    "added": "Account added.",
    "saved": "Changes saved.",
    "unchanged": "Nothing changed: the values were already these.",
}
"""What the add and edit forms did, as the page they redirect to says it (post/redirect/get)."""


def render(
    request: Request,
    ref: str,
    *,
    children_page: int = 1,
    history_page: int = 1,
    notice: Notice | None = None,
    error: ShownError | None = None,
) -> Any:
    """The page of account ``ref`` (external id, id, or ``#id``); unknown is a 404 page."""
    pager = Pager.of(children_page)
    with reading(request) as session:
        found = get_account(session, ref)
        parent = get_account(session, found.parent_id) if found.parent_id else None
        kids = account_details.children_page(session, found, limit=pager.size, offset=pager.offset)
        pager = pager.showing(len(kids.items), kids.total)
        # The timeline is read once, a page of it; the owners come from the open rows only.
        history_pager = Pager.of(history_page)
        timeline = account_history(
            session,
            account=found,
            limit=history_pager.size,
            offset=history_pager.offset,
            newest_first=True,
        )
        history_pager = history_pager.showing(len(timeline.items), timeline.total)
        parent_owners = account_details.owners_by_role(session, parent) if parent else {}
        described = account_details.describe_account(session, found, with_children=False)
        details = _details(described)
        candidates = csm_choices(session)
        value_changes = list_value_changes(session, account=found, limit=CHANGES_SHOWN)
    owners = [owner for role in described.owners.values() for owner in role]
    csm_emails = {owner.email for owner in described.owners.get("csm", [])}
    here = account_href(details)
    return page(
        request,
        "account.html",
        error.status if error else 200,
        account=details,
        here=here,
        parent=details["parent"],
        parent_owners=parent_owners.get("csm", []),
        children=kids,
        children_pager=pager,
        children_link=lambda number: href(here, {"children_page": number}),
        child_columns=CHILD_COLUMNS,
        owners=owners,
        candidates=[c for c in candidates if c["email"] not in csm_emails],
        policy=details["policy"],
        default_policy=details["default_policy"],
        effective_policy=details["effective_policy"],
        inherits=details["effective_policy"] == "inherit",
        timeline=timeline.items,
        history_pager=history_pager,
        history_link=lambda number: href(here, {"history_page": number}),
        value_changes=value_changes,
        notice=notice,
        error=error,
    )


def _details(described: account_details.AccountDetails) -> dict[str, Any]:
    """The details as the page shows them: standard and custom fields as labelled text."""
    values = described.model_dump()
    values["mrr"] = format_money(described.mrr) if described.mrr is not None else None
    values["renewal_date"] = described.renewal_date.isoformat() if described.renewal_date else None
    standard = [
        (key, label, "" if values[key] is None else str(values[key]))
        for key, label in FIELD_LABELS.items()
    ]
    custom = [
        (
            c.name,
            "" if c.value is None else format_money(c.value) if c.type == "money" else str(c.value),
        )
        for c in described.custom
    ]
    return {**values, "standard": standard, "custom": custom}


@post(router, "/accounts/{ref}/csms", role="manager")
def add_csm(request: Request, caller: CallerDep, ref: str, csm: Annotated[str, Form()] = "") -> Any:
    """Add a CSM to this account (its inheriting children follow)."""

    def work(session: Session) -> OperationResult:
        found = get_account(session, ref)
        if not csm.strip():
            raise InvalidInput("choose the CSM to add")
        return assign_accounts(
            session,
            selection=AccountRefs([found.id]),
            csms=[get_user(session, csm.strip())],
            actor=acting_user(session, caller),
        )

    return _act(request, ref, work, subject=csm.strip())


@post(router, "/accounts/{ref}/csms/remove", role="manager")
def remove_csm(
    request: Request, caller: CallerDep, ref: str, csm: Annotated[str, Form()] = ""
) -> Any:
    """Remove one CSM from this account; other owners stay."""

    def work(session: Session) -> OperationResult:
        found = get_account(session, ref)
        return unassign_accounts(
            session,
            selection=AccountRefs([found.id]),
            csm=get_user(session, csm.strip()),
            actor=acting_user(session, caller),
        )

    return _act(request, ref, work, subject=csm.strip())


@dataclass(frozen=True)
class PolicyOutcome:
    """A policy change on one account, previewed or applied (plain values: the session is
    gone when the page is made)."""

    account_id: int
    name: str
    here: str
    result: OperationResult


@post(router, "/accounts/{ref}/policy/preview", role="manager")
def ask_policy_preview(request: Request, ref: str, policy: Annotated[str, Form()] = "") -> Any:
    """Preview the policy change: a redirect to the preview's own address (post/redirect/get)."""
    return redirect(request, _policy_link(ref, policy))


@get(router, "/accounts/{ref}/policy", role="manager")
def preview_policy(
    request: Request,
    caller: CallerDep,
    ref: str,
    policy: Annotated[str, Query(max_length=20)] = "",
    changed: bool = False,
) -> Any:
    """Preview a policy change: the owners it would close and open, here and on followers;
    ``changed``: an apply found the owners changed since the last preview."""
    try:
        change = writing(request, _policy_work(caller, ref, policy, dry_run=True))
    except USER_ERRORS as exc:
        return render(request, ref, error=ShownError.of(exc))
    shown = _policy_preview(change, policy, result_names(request, change.result))
    return show_preview(request, shown, back=change.here, error=STALE if changed else None)


@post(router, "/accounts/{ref}/policy", role="manager")
def change_policy(
    request: Request,
    caller: CallerDep,
    ref: str,
    policy: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
) -> Any:
    """Switch the account between inherit (follow the parent), own, and the default, exactly
    as previewed (the preview's fingerprint), then back to the account page saying what
    changed; without a fingerprint, or when the owners changed since, the preview."""
    if not fingerprint:
        return redirect(request, _policy_link(ref, policy))
    try:
        change = writing(
            request, _policy_work(caller, ref, policy, dry_run=False, fingerprint=fingerprint)
        )
    except Conflict:
        return redirect(request, _policy_link(ref, policy, changed=True))
    except USER_ERRORS as exc:
        return render(request, ref, error=ShownError.of(exc))
    result = change.result
    changed = result.policies_changed or result.accounts_changed
    done = f"Policy set to {policy}." if changed else f"Policy already {policy}: nothing changed."
    names = result_names(request, result)
    words = " ".join([done, *policy_change_words(result, change.account_id, names)])
    return redirect(request, change.here, words, operation_id=result.operation_id)


def _policy_link(ref: str, policy: str, *, changed: bool = False) -> str:
    path = f"/accounts/{quote(ref, safe='')}/policy"
    return href(path, {"policy": policy, "changed": "1" if changed else None})


def _policy_work(
    caller: Caller, ref: str, policy: str, *, dry_run: bool, fingerprint: str | None = None
) -> Callable[[Session], PolicyOutcome]:
    def work(session: Session) -> PolicyOutcome:
        found = get_account(session, ref)
        if policy not in POLICIES:
            raise InvalidInput(f"policy must be inherit, own or default, not {policy!r}")
        result = set_inherit_policy(
            session,
            selection=AccountRefs([found.id]),
            policy=POLICIES[policy],
            actor=acting_user(session, caller),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )
        return PolicyOutcome(
            account_id=found.id, name=found.name, here=account_href(found), result=result
        )

    return work


POLICY_WORDS = {
    "inherit": "inherit (follow its parent's CSMs)",
    "own": "own (keep its own CSMs)",
    "default": "the installation default",
}


def _policy_preview(change: PolicyOutcome, policy: str, names: dict[str, str]) -> Preview:
    here = change.here
    result = change.result
    return Preview(
        headline=f"Set {change.name} to {POLICY_WORDS[policy]}",
        result=result,
        apply_to=f"{here}/policy",
        fields=[("policy", policy)],
        back=here,
        notes=policy_change_words(result, change.account_id, names),
        # A policy that changes no owner is still a change (switching to own, typically).
        applicable=result.accounts_changed > 0 or result.policies_changed > 0,
    )


def policy_change_words(
    result: OperationResult, account_id: int, names: dict[str, str]
) -> list[str]:
    """What a policy change does (or would do), this account apart from those following it
    (``names``: each owner's name by email; people think in names)."""
    split = own_and_followers(result, account_id)
    if not (result.opened or result.closed or result.inherited_opened or result.inherited_closed):
        return ["No owner changes."]
    if split is None:
        total = result.accounts_changed
        return [
            f"Owners change on {total:,} account{'s' if total != 1 else ''}: this one and "
            "the children that follow it."
        ]
    own, (opened, closed) = split
    words = []
    if own:
        listed = ", ".join(
            f"{names.get(row.user, row.user)} {'gets it' if row.action == 'open' else 'loses it'}"
            for row in own
        )
        words.append(f"This account: {listed}.")
    else:
        words.append("This account keeps its owners.")
    if opened or closed:
        words.append(
            f"Children that follow it: {opened:,} owner{'s' if opened != 1 else ''} added, "
            f"{closed:,} removed."
        )
    return words


def own_and_followers(
    result: OperationResult, account_id: int
) -> tuple[list[ChangeRow], tuple[int, int]] | None:
    """This account's own changes, and (added, removed) on the accounts that follow it.

    Taken from the result's sample, which is ordered by phase and then account: it holds all
    of this account's rows when it holds every change, or when another account's row comes
    after them. Otherwise (a large subtree) None: the split is unknown.
    """
    sample = result.sample
    total_opened = result.opened + result.inherited_opened
    total_closed = result.closed + result.inherited_closed
    positions = [i for i, row in enumerate(sample) if row.account_id == account_id]
    complete = len(sample) == total_opened + total_closed
    if not complete and (not positions or positions[-1] == len(sample) - 1):
        return None
    own = [sample[i] for i in positions]
    opened = sum(1 for row in own if row.action == "open")
    return own, (total_opened - opened, total_closed - (len(own) - opened))


def _act(request: Request, ref: str, work: Any, *, subject: str) -> Any:
    """Run one change, then back to the account page saying what it did (post/redirect/get);
    a refused change shows the page with why."""
    try:
        result: OperationResult = writing(request, work)
    except USER_ERRORS as exc:
        return render(request, ref, error=ShownError.of(exc))
    here = f"/accounts/{quote(ref, safe='')}"
    message = _done_words(result, subject, result_names(request, result))
    return redirect(request, here, message, operation_id=result.operation_id)


def _done_words(result: OperationResult, subject: str, names: dict[str, str]) -> str:
    """What adding or removing a CSM did, by name (``names``: each CSM's name by email)."""
    if result.items:
        words = "; ".join(
            f"{names.get(item.user or '', item.user)}: {outcome_label(item.outcome)}"
            for item in result.items
        )
    elif result.policies_changed:
        words = f"{subject}: set"
    else:
        words = f"{subject}: nothing changed"
    followers = result.inherited_opened + result.inherited_closed
    if followers:
        words += f"; {followers:,} owner changes on children that follow this account"
    return words
