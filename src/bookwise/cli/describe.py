"""One account in full: fields, custom attributes, hierarchy, policy and current owners."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from bookwise.accounts.service import children, list_attributes
from bookwise.assignments.history import account_timeline
from bookwise.assignments.plan import default_policy
from bookwise.cli.output import Column, cell, console, emit_table
from bookwise.models import Account
from bookwise.money import format_money

FIELD_ORDER = (
    "id",
    "external_id",
    "name",
    "domain",
    "mrr",
    "health_score",
    "tier",
    "lifecycle_stage",
    "nps",
    "csm_rating",
    "region",
    "renewal_date",
    "created_at",
    "depth",
    "is_parent",
    "is_child",
    "policy",
    "effective_policy",
)


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


def describe_account(session: Session, account: Account) -> dict[str, Any]:
    """Everything ``accounts show`` prints, as JSON-ready values (money as decimal strings)."""
    parent = session.get(Account, account.parent_id) if account.parent_id else None
    kids = children(session, account)
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
        "is_parent": bool(kids),
        "is_child": parent is not None,
        "policy": account.inherit_policy or "default",
        "default_policy": default,
        "effective_policy": effective,
        "custom": _custom_values(session, account),
        "parent": _brief(parent) if parent else None,
        "children": [_brief(k) for k in kids],
        "owners": _owners(session, account),
    }


def _ref(brief: dict[str, Any]) -> str:
    return f"{brief['external_id'] or '#' + str(brief['id'])} ({brief['name']})"


def emit_account(details: dict[str, Any], *, children_shown: int = 20) -> None:
    """Print ``describe_account``'s result for people."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key in FIELD_ORDER:
        value = details[key]
        if key == "policy" and value == "default":
            value = f"default ({details['default_policy']})"
        table.add_row(key, Text(cell(value)))
    for key, value in details["custom"].items():
        table.add_row(f"custom.{key}", Text(cell(value)))
    table.add_row("parent", Text(_ref(details["parent"]) if details["parent"] else ""))
    kids = details["children"]
    listed = ", ".join(_ref(k) for k in kids[:children_shown])
    more = f" … and {len(kids) - children_shown} more" if len(kids) > children_shown else ""
    table.add_row(f"children ({len(kids)})", Text(listed + more))
    console().print(table)
    rows = [
        {"role": role, **owner} for role, owners in details["owners"].items() for owner in owners
    ]
    if rows:
        emit_table(
            rows,
            columns=[
                Column("role", "role"),
                Column("email", "owner"),
                Column("since", "since", time=True),
                Column("source", "source"),
                Column("reason", "reason"),
            ],
            title="current owners",
        )
    else:
        console().print("no current owners", markup=False, soft_wrap=True)
