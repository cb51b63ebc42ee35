"""One account in full: fields, custom attributes, hierarchy, policy and current owners."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from bookwise.assignments import details as account_details
from bookwise.cli.output import Column, cell, console, emit_table
from bookwise.models import Account
from bookwise.money import format_money

__all__ = ["FIELD_ORDER", "account_values", "describe_account", "emit_account"]

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


def describe_account(session: Session, account: Account) -> dict[str, Any]:
    """The account in full as the CLI prints it (``account_values``)."""
    return account_values(account_details.describe_account(session, account))


def account_values(details: account_details.AccountDetails) -> dict[str, Any]:
    """The details as JSON-ready values: money as decimal strings, dates in ISO 8601."""
    values = details.model_dump(mode="json", exclude={"custom", "owners"})
    values["mrr"] = format_money(details.mrr) if details.mrr is not None else None
    values["custom"] = {
        c.name: format_money(c.value) if c.type == "money" and c.value is not None else c.value
        for c in details.custom
    }
    values["created_at"] = details.created_at.isoformat()
    values["owners"] = {
        role: [
            {**owner.model_dump(mode="json", exclude={"role"}), "since": owner.since.isoformat()}
            for owner in owners
        ]
        for role, owners in details.owners.items()
    }
    if details.children is None:
        values.pop("children")
    return values


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
