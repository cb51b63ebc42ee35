"""One account in full: fields, custom attributes, hierarchy, policy and current owners.

The values are typed (money in minor units, dates and times as such): the CLI's
``accounts show``, the API's ``GET /accounts/{ref}`` and the account page each format them
at their own edge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bookwise.accounts.service import children, is_parent, list_attributes
from bookwise.assignments.history import current_owners
from bookwise.assignments.listing import AccountPage, list_accounts
from bookwise.assignments.plan import default_policy
from bookwise.models import Account


class AccountBrief(BaseModel):
    """An account named in another's details: its parent or a child."""

    id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's id in the CRM, if it has one.")
    name: str = Field(description="The account's name.")


class CurrentOwner(BaseModel):
    """One open assignment: who owns the account in which role, since when, and why."""

    role: str
    email: str
    since: datetime
    source: str
    reason: str
    primary: bool
    name: str = Field(default="", description="The owner's full name (may be empty).")


class CustomValue(BaseModel):
    """One custom attribute's value, with the attribute's declared type (``money``: minor
    units)."""

    name: str
    type: str | None
    value: Any


class AccountDetails(BaseModel):
    """Everything ``accounts show`` prints, typed."""

    id: int
    external_id: str | None
    name: str
    domain: str | None
    mrr: int | None
    health_score: int | None
    tier: int | None
    lifecycle_stage: str | None
    nps: int | None
    csm_rating: int | None
    region: str | None
    renewal_date: date | None
    created_at: datetime
    depth: int
    is_parent: bool
    is_child: bool
    policy: str
    default_policy: str
    effective_policy: str
    custom: list[CustomValue]
    parent: AccountBrief | None
    children: list[AccountBrief] | None
    owners: dict[str, list[CurrentOwner]]


def _brief(account: Account) -> AccountBrief:
    return AccountBrief(id=account.id, external_id=account.external_id, name=account.name)


def owners_by_role(session: Session, account: Account) -> dict[str, list[CurrentOwner]]:
    """The account's current owners by role (one statement over its open rows)."""
    owners: dict[str, list[CurrentOwner]] = {}
    for row in current_owners(session, account=account):
        owners.setdefault(row.role, []).append(
            CurrentOwner(
                role=row.role,
                email=row.user,
                since=row.started_at,
                source=row.source,
                reason=row.reason,
                primary=row.is_primary,
                name=row.user_name,
            )
        )
    return owners


def describe_account(
    session: Session, account: Account, *, with_children: bool = True
) -> AccountDetails:
    """Everything ``accounts show`` prints.

    ``with_children=False`` leaves the (possibly long) list of children out (None); the
    caller pages it with ``children_page``.
    """
    parent = session.get(Account, account.parent_id) if account.parent_id else None
    kids = children(session, account) if with_children else []
    default = default_policy(session)
    types = {d.name: d.type for d in list_attributes(session)}
    return AccountDetails(
        id=account.id,
        external_id=account.external_id,
        name=account.name,
        domain=account.domain,
        mrr=account.mrr,
        health_score=account.health_score,
        tier=account.tier,
        lifecycle_stage=account.lifecycle_stage,
        nps=account.nps,
        csm_rating=account.csm_rating,
        region=account.region,
        renewal_date=account.renewal_date,
        created_at=account.created_at,
        depth=account.depth,
        is_parent=bool(kids) if with_children else is_parent(session, account),
        is_child=parent is not None,
        policy=account.inherit_policy or "default",
        default_policy=default,
        effective_policy=(account.inherit_policy or default) if parent is not None else "own",
        custom=[
            CustomValue(name=key, type=types.get(key), value=value)
            for key, value in sorted((account.custom or {}).items())
        ],
        parent=_brief(parent) if parent else None,
        children=[_brief(k) for k in kids] if with_children else None,
        owners=owners_by_role(session, account),
    )


def children_page(
    session: Session, account: Account, *, limit: int = 100, offset: int = 0
) -> AccountPage:
    """A page of the account's direct children with their owners, by name, and their total."""
    return list_accounts(
        session, where=[Account.parent_id == account.id], sort="name", limit=limit, offset=offset
    )
