"""One account in full: fields, custom attributes, hierarchy, policy and current owners."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from bookwise.assignments.details import describe_account
from bookwise.cli.output import Column, cell, console, emit_table

__all__ = ["FIELD_ORDER", "describe_account", "emit_account"]

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
