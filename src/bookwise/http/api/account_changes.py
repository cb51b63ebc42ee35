"""/api/v1/accounts writes: add an account, edit its fields, move it under another parent.

Fields are checked as ``bookwise accounts add`` checks them; money is a decimal string. A move
changes owners (the moved subtree follows its new parent's CSMs when it inherits), so it takes
``dry_run`` and ``fingerprint`` as every ownership write does, and is undoable.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.accounts.schemas import STANDARD_FIELDS
from bookwise.accounts.service import build_fields, create_account, get_account, update_account
from bookwise.assignments.inheritance import inherit_into_new_account, move_account
from bookwise.errors import InvalidInput
from bookwise.http.api.accounts import AccountDetail, Ref, account_detail
from bookwise.http.api.common import api_router, problems
from bookwise.http.api.operations import RESULT_EXAMPLE, OperationResult, result_out
from bookwise.http.context import CallerDep, acting_user, writing
from bookwise.http.routing import patch, post

router = api_router("accounts")
_DETAIL_EXAMPLE: dict[str, Any] = AccountDetail.model_json_schema()["examples"][0]

CustomValue = str | int | float | bool | None


class _Fields(BaseModel):
    """The standard fields and custom attributes a person may set on an account."""

    external_id: str | None = Field(default=None, max_length=100, description="The CRM id.")
    domain: str | None = Field(
        default=None, max_length=255, description="The account's web domain (example.com)."
    )
    mrr: str | None = Field(
        default=None, max_length=40, description="Monthly recurring revenue, a decimal string."
    )
    health_score: int | None = Field(default=None, description="0 to 100.")
    tier: int | str | None = Field(default=None, description="1, 2, … or 'Tier 1'.")
    lifecycle_stage: str | None = Field(
        default=None,
        max_length=50,
        description="Where the customer is in its lifecycle (onboarding, adopted, ...).",
    )
    nps: int | None = Field(default=None, description="-100 to 100.")
    csm_rating: int | None = Field(default=None, description="1 to 5.")
    region: str | None = Field(
        default=None, max_length=50, description="The account's region (EMEA, NA, ...)."
    )
    renewal_date: date | None = Field(
        default=None, description="The next renewal date (YYYY-MM-DD)."
    )
    custom: dict[str, CustomValue] = Field(
        default_factory=dict,
        max_length=200,
        description="Custom attributes by name (declared first), checked against their type; "
        "money as decimal strings. On an edit, null or an empty string removes one.",
    )

    def custom_text(self) -> dict[str, str]:
        """The custom values as the CLI and the import read them (text)."""
        return {key: _as_text(value) for key, value in self.custom.items()}


def _as_text(value: CustomValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class NewAccount(_Fields):
    """An account to add, with an optional parent and inherit policy."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Acme GmbH", "external_id": "ACME-1-DE", "parent": "ACME-1"},
                {
                    "name": "Globex",
                    "external_id": "GLOBEX",
                    "mrr": "5000.00",
                    "tier": 1,
                    "renewal_date": "2027-03-31",
                    "custom": {"plan": "gold", "seats": 120},
                },
            ]
        },
    )

    name: str = Field(min_length=1, max_length=300, description="The account's name.")
    parent: str | None = Field(
        default=None, max_length=100, description="The parent's external id or id."
    )
    inherit_policy: Literal["inherit", "own"] | None = Field(
        default=None, description="null follows the installation default."
    )


class AccountAdded(BaseModel):
    """The account added, and (under a parent) the owners it inherited at once."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"account": _DETAIL_EXAMPLE, "inheritance": None}]}
    )

    account: AccountDetail
    inheritance: OperationResult | None = Field(
        description="The inheritance applied to a child account; null for a top-level one."
    )


class AccountChanges(_Fields):
    """What to change; fields left out stay as they are, null clears one (not the name)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Acme Corporation", "mrr": "6200.00", "region": None},
                {"parent": "GLOBEX", "dry_run": True},
                {"parent": None, "fingerprint": "3f2a9c1b7d4e5f60"},
            ]
        },
    )

    name: str | None = Field(
        default=None, min_length=1, max_length=300, description="A new name for the account."
    )
    parent: str | None = Field(
        default=None,
        max_length=100,
        description="Move under this account (external id or id); null makes it top-level. "
        "Left out, the account stays where it is.",
    )
    dry_run: bool = Field(default=False, description="Preview: write nothing.")
    fingerprint: str | None = Field(
        default=None,
        max_length=200,
        description="From a preview of a move: apply only if the owners it changes are still "
        "those previewed (else 409).",
    )

    def changes(self) -> dict[str, Any]:
        """The standard fields the request sets (null included: it clears the field)."""
        return {key: getattr(self, key) for key in STANDARD_FIELDS if key in self.model_fields_set}

    def moves(self) -> bool:
        """Whether the request names a parent (or null: the top level)."""
        return "parent" in self.model_fields_set


class AccountChanged(BaseModel):
    """The account after the change (or, with ``dry_run``, as it would be), what changed, and
    the move's ownership changes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account": _DETAIL_EXAMPLE,
                    "changed": ["mrr", "name"],
                    "move": {**RESULT_EXAMPLE, "dry_run": True, "operation_id": None},
                    "dry_run": True,
                }
            ]
        }
    )

    account: AccountDetail
    changed: list[str] = Field(description="The fields that changed ('custom' for attributes).")
    move: OperationResult | None = Field(
        description="The move's result (owners it changed); null when the parent was not given."
    )
    dry_run: bool = Field(description="True for a preview: nothing was written.")


@post(
    router,
    "/accounts",
    role="manager",
    response_model=AccountAdded,
    status_code=201,
    summary="Add an account",
    responses=problems(400, 404, 409),
)
def add_account(request: Request, caller: CallerDep, body: NewAccount) -> AccountAdded:
    """Add an account, checked as ``bookwise accounts add`` checks it (a 409 if the external
    id exists). Under a parent it takes at once what it inherits, as on the CLI."""
    fields = build_fields(**body.model_dump(exclude={"parent", "custom"}))

    def work(session: Session) -> AccountAdded:
        actor = acting_user(session, caller)
        parent = get_account(session, body.parent) if body.parent is not None else None
        account = create_account(
            session,
            fields=fields,
            parent=parent,
            custom=body.custom_text(),
            actor=actor,
            source="api",
        )
        inherited = inherit_into_new_account(session, account=account, actor=actor)
        return AccountAdded(
            account=account_detail(session, account),
            inheritance=result_out(inherited) if inherited else None,
        )

    return writing(request, work)


@patch(
    router,
    "/accounts/{ref}",
    role="manager",
    response_model=AccountChanged,
    summary="Edit an account, or move it under another parent",
    responses=problems(400, 404, 409),
)
def change_account(
    request: Request, caller: CallerDep, ref: Ref, body: AccountChanges
) -> AccountChanged:
    """Change fields and custom attributes (an ``account.updated`` audit event), and with
    ``parent`` move the account and its subtree (an undoable operation; cycles are a 409).

    ``dry_run`` previews all of it; ``fingerprint`` (from a preview) applies the move only if
    it still changes the same owners. The inherit policy is changed with
    ``POST /assignments/inherit``.
    """
    if body.fingerprint and not body.moves():
        raise InvalidInput("fingerprint applies to a move: give parent too")

    def work(session: Session) -> AccountChanged:
        actor = acting_user(session, caller)
        account = get_account(session, ref)
        parent = get_account(session, body.parent) if body.parent is not None else None
        savepoint = session.begin_nested() if body.dry_run else None
        try:
            changed = update_account(
                session,
                account=account,
                changes=body.changes(),
                custom=body.custom_text(),
                actor=actor,
                source="api",
            )
            moved = None
            if body.moves():
                moved = move_account(
                    session,
                    account=account,
                    parent=parent,
                    actor=actor,
                    # A dry run applies the move inside the request's own savepoint, so the
                    # account is shown as it would be; the result is then marked a preview.
                    expected_fingerprint=body.fingerprint,
                )
            move = result_out(moved) if moved else None
            if move is not None and body.dry_run:
                move.dry_run, move.operation_id = True, None
            return AccountChanged(
                account=account_detail(session, account),
                changed=sorted(changed),
                move=move,
                dry_run=body.dry_run,
            )
        finally:
            if savepoint is not None and savepoint.is_active:
                savepoint.rollback()

    return writing(request, work)
