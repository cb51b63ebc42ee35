"""One account's value history as people read it: names, money and dates, newest first.

The CLI (``bookwise accounts values``), the API (``GET /accounts/{ref}/values``) and the
account page's Changes card all show this page.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.accounts.history import value_history
from bookwise.accounts.service import label
from bookwise.errors import InvalidInput
from bookwise.listing import DEFAULT_PAGE_SIZE, check_window
from bookwise.models import VALUE_HISTORY_FIELDS, Account
from bookwise.money import format_money

SHOWN_FIELDS = tuple("parent" if f == "parent_id" else f for f in VALUE_HISTORY_FIELDS)
"""The history's fields as people name them (the parent link is ``parent``)."""


class ValueChange(BaseModel):
    """A value one field of an account held from ``changed_at`` (until ``until``)."""

    field: str = Field(
        description="The field: mrr, health_score, tier, lifecycle_stage, nps, "
        "csm_rating, region, renewal_date or parent."
    )
    value: str | None = Field(
        description="The value it took (money in currency units, the parent by external id "
        "and name); null when the change emptied the field."
    )
    previous: str | None = Field(
        description="The value it replaced; null for a first value or an empty field."
    )
    changed_at: datetime = Field(description="When the value took effect (UTC).")
    until: datetime | None = Field(
        description="When a later change replaced it; null while it is the current value."
    )
    source: str = Field(
        description="How it changed: create, edit, api, import, move, undo, demo or backfill."
    )
    by: str | None = Field(
        description="Who changed it, by name (else email); null for the migration's backfill."
    )
    by_email: str | None = Field(description="The email of who changed it.")
    operation_id: int | None = Field(
        description="The operation that changed it (a move or its undo), else null."
    )
    import_id: int | None = Field(description="The import that changed it, else null.")


class ValuePage(BaseModel):
    """A page of an account's value history, newest first."""

    items: list[ValueChange] = Field(description="The changes on this page, newest first.")
    total: int = Field(description="How many history rows the account (and field) has.")
    limit: int = Field(description="The page size asked for.")
    offset: int = Field(description="How many rows were skipped.")


def list_value_changes(
    session: Session,
    *,
    account: Account,
    field: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> ValuePage:
    """A page of ``account``'s value history (one field's, with ``field``): three statements."""
    check_window(limit, offset)
    if field is not None and field not in SHOWN_FIELDS:
        raise InvalidInput(
            f"field: {field!r} has no value history; the fields are {', '.join(SHOWN_FIELDS)}"
        )
    query = value_history(account.id, field="parent_id" if field == "parent" else field)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    parents = {
        int(text) for r in rows if r.field == "parent_id" for text in (r.value, r.previous) if text
    }
    named = session.scalars(select(Account).where(Account.id.in_(parents))) if parents else ()
    labels: dict[int, str] = {a.id: label(a) for a in named}

    def shown(field_name: str, text: str | None) -> str | None:
        if text is None:
            return None
        if field_name == "mrr":
            return format_money(int(text))
        if field_name == "parent_id":
            return labels.get(int(text), f"#{text}")
        return text

    items = [
        ValueChange(
            field="parent" if r.field == "parent_id" else r.field,
            value=shown(r.field, r.value),
            previous=shown(r.field, r.previous),
            changed_at=r.valid_from,
            until=r.valid_to,
            source=r.source,
            by=(r.by_name or r.by_email) if r.by_email else None,
            by_email=r.by_email,
            operation_id=r.operation_id,
            import_id=r.import_id,
        )
        for r in rows
    ]
    return ValuePage(items=items, total=total, limit=limit, offset=offset)
