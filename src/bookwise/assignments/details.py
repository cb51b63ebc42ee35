"""One account in full: fields, custom attributes, hierarchy, policy and current owners.

The CLI's ``accounts show`` and the API's ``GET /accounts/{ref}`` print the same values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bookwise.accounts.service import children, is_parent, list_attributes
from bookwise.assignments.history import account_timeline
from bookwise.assignments.listing import AccountPage, list_accounts
from bookwise.assignments.plan import default_policy
from bookwise.models import Account
from bookwise.money import format_money


def _brief(account: Account) -> dict[str, Any]:
    return {"id": account.id, "external_id": account.external_id, "name": account.name}


def _custom_values(session: Session, account: Account) -> dict[str, Any]:
    types = {d.name: d.type for d in list_attributes(session)}
    return {
        key: format_money(value) if types.get(key) == "money" and value is not None else value
        for key, value in sorted((account.custom or {}).items())
    }


def _owners(session: Session, account: Account) -> dict[str, list[dict[str, Any]]]:
    owners: dict[str, list[dict[str, Any]]] = {}
    for row in account_timeline(session, account=account):
        if row.ended_at is None:
            owners.setdefault(row.role, []).append(
                {
                    "email": row.user,
                    "since": row.started_at.isoformat(),
                    "source": row.source,
                    "reason": row.reason,
                    "primary": row.is_primary,
                }
            )
    return owners


def describe_account(
    session: Session, account: Account, *, with_children: bool = True
) -> dict[str, Any]:
    """Everything ``accounts show`` prints, as JSON-ready values (money as decimal strings).

    ``with_children=False`` leaves the (possibly long) list of children out; the caller pages it.
    """
    parent = session.get(Account, account.parent_id) if account.parent_id else None
    kids = children(session, account) if with_children else []
    default = default_policy(session)
    effective = (account.inherit_policy or default) if parent is not None else "own"
    return {
        "id": account.id,
        "external_id": account.external_id,
        "name": account.name,
        "domain": account.domain,
        "mrr": format_money(account.mrr) if account.mrr is not None else None,
        "health_score": account.health_score,
        "tier": account.tier,
        "lifecycle_stage": account.lifecycle_stage,
        "nps": account.nps,
        "csm_rating": account.csm_rating,
        "region": account.region,
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else None,
        "created_at": account.created_at.isoformat(),
        "depth": account.depth,
        "is_parent": bool(kids) if with_children else is_parent(session, account),
        "is_child": parent is not None,
        "policy": account.inherit_policy or "default",
        "default_policy": default,
        "effective_policy": effective,
        "custom": _custom_values(session, account),
        "parent": _brief(parent) if parent else None,
        **({"children": [_brief(k) for k in kids]} if with_children else {}),
        "owners": _owners(session, account),
    }


def children_page(
    session: Session, account: Account, *, limit: int = 100, offset: int = 0
) -> AccountPage:
    """A page of the account's direct children with their owners, by name, and their total."""
    return list_accounts(
        session, where=[Account.parent_id == account.id], sort="name", limit=limit, offset=offset
    )
