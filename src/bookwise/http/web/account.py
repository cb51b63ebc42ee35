"""One account: attributes, hierarchy with owners, current CSMs (add, remove), policy, timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.assignments import details as account_details
from bookwise.assignments.history import TimelineRow, account_timeline
from bookwise.assignments.inheritance import set_inherit_policy
from bookwise.assignments.operation import Policy
from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.errors import InvalidInput
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.columns import COLUMNS
from bookwise.http.web.common import (
    USER_ERRORS,
    Pager,
    ShownError,
    csm_choices,
    href,
    outcome_label,
)
from bookwise.http.web.templating import account_href, page
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)

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
def account(request: Request, ref: str, children_page: Annotated[int, Query(ge=1)] = 1) -> Any:
    """The account page."""
    return render(request, ref, children_page=children_page)


def render(
    request: Request,
    ref: str,
    *,
    children_page: int = 1,
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
        timeline = account_timeline(session, account=found)
        parent_owners = _open(account_timeline(session, account=parent)) if parent else []
        details = _details(account_details.describe_account(session, found, with_children=False))
        candidates = csm_choices(session)
    owners = _open(timeline)
    csm_emails = {row.user for row in owners if row.role == "csm"}
    here = account_href(details)
    return page(
        request,
        "account.html",
        error.status if error else 200,
        account=details,
        here=here,
        parent=details["parent"],
        parent_owners=parent_owners,
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
        timeline=list(reversed(timeline)),
        notice=notice,
        error=error,
    )


def _open(rows: list[TimelineRow]) -> list[TimelineRow]:
    return [row for row in rows if row.ended_at is None]


def _details(described: dict[str, Any]) -> dict[str, Any]:
    """``describe_account``'s values with the standard and custom fields as labelled pairs."""
    standard = [
        (key, label, "" if described[key] is None else str(described[key]))
        for key, label in FIELD_LABELS.items()
    ]
    custom = [
        (key, "" if value is None else str(value)) for key, value in described["custom"].items()
    ]
    return {**described, "standard": standard, "custom": custom}


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


@post(router, "/accounts/{ref}/policy", role="manager")
def change_policy(
    request: Request, caller: CallerDep, ref: str, policy: Annotated[str, Form()] = ""
) -> Any:
    """Switch the account between inherit (follow the parent), own, and the default."""

    def work(session: Session) -> OperationResult:
        found = get_account(session, ref)
        if policy not in POLICIES:
            raise InvalidInput(f"policy must be inherit, own or default, not {policy!r}")
        return set_inherit_policy(
            session,
            selection=AccountRefs([found.id]),
            policy=POLICIES[policy],
            actor=acting_user(session, caller),
        )

    return _act(request, ref, work, subject=f"policy {policy}")


def _act(request: Request, ref: str, work: Any, *, subject: str) -> Any:
    """Run one change and show the page again with what it did (or why it did not)."""
    try:
        result: OperationResult = writing(request, work)
    except USER_ERRORS as exc:
        return render(request, ref, error=ShownError.of(exc))
    return render(request, ref, notice=_notice(result, subject))


def _notice(result: OperationResult, subject: str) -> Notice:
    if result.items:
        words = "; ".join(f"{item.user}: {outcome_label(item.outcome)}" for item in result.items)
    elif result.policies_changed:
        words = f"{subject}: set"
    else:
        words = f"{subject}: nothing changed"
    followers = result.inherited_opened + result.inherited_closed
    if followers:
        words += f"; {followers:,} owner changes on children that follow this account"
    return Notice(message=words, operation_id=result.operation_id)
