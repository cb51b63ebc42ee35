"""Results of ownership operations, identical in the CLI's JSON and (later) the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal[
    "assigned",
    "unassigned",
    "transferred",
    "already_assigned",
    "not_assigned",
    "not_found",
    "refused_inactive",
    "refused_no_seat",
    "refused_inherits",
]


class ItemOutcome(BaseModel):
    """What happened to one requested id (for one CSM)."""

    ref: str = Field(description="The account as the request named it (id or external id).")
    account_id: int | None = Field(
        description="The account's id; null when no account has that reference."
    )
    user: str | None = Field(description="email of the CSM this outcome is about")
    outcome: Outcome = Field(
        description="What happened to this account (assigned, not_found, refused_…)."
    )
    follows_parent: bool = Field(
        default=False,
        description="the account inherits and changed by following its parent in this "
        "operation, not directly",
    )


class ChangeRow(BaseModel):
    """One planned or applied change, for previews and samples."""

    account_id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's id in the CRM, if it has one.")
    name: str = Field(description="The account's name.")
    user: str = Field(description="The owner added or removed (email).")
    role: str = Field(description="The ownership role of that row (e.g. csm).")
    action: Literal["open", "close"] = Field(
        description="`open`: the owner is added; `close`: the owner is removed."
    )
    source: str = Field(
        description="Where the change came from: `manual` for a command, else e.g. import."
    )


class OperationResult(BaseModel):
    """What an operation changed (or, with dry_run, would change)."""

    operation_id: int | None = Field(
        description="The operation's id in the log (to undo it); null for a preview."
    )
    kind: str = Field(
        description="The kind of operation (assign, unassign, transfer, inherit, undo, ...)."
    )
    dry_run: bool = Field(description="True for a preview: nothing was written.")
    accounts_changed: int = Field(description="How many accounts got or lost an owner.")
    opened: int = Field(description="Ownership rows added on the accounts named.")
    closed: int = Field(description="Ownership rows ended on the accounts named.")
    inherited_opened: int = Field(description="Ownership rows added on children that inherit.")
    inherited_closed: int = Field(description="Ownership rows ended on children that inherit.")
    policies_changed: int = Field(
        default=0, description="How many accounts' inherit policy changed."
    )
    counts: dict[str, int] = Field(
        default_factory=dict,
        description="Accounts per outcome (changed, unchanged, not_found, ...).",
    )
    items: list[ItemOutcome] | None = Field(
        default=None, description="Per account outcomes, when the request named accounts by id."
    )
    sample: list[ChangeRow] = Field(
        default_factory=list, description="The first changes, to show in a preview."
    )
    fingerprint: str = Field(
        description="The preview's fingerprint: send it back to apply exactly what was previewed."
    )
    messages: list[str] = Field(
        default_factory=list, description="Notes for a person: warnings and what was skipped."
    )


class OperationOut(BaseModel):
    """An operation as listed by ``operations list``."""

    id: int = Field(description="The operation's id.")
    kind: str = Field(
        description="The kind of operation (assign, unassign, transfer, inherit, undo, ...)."
    )
    actor: str = Field(description="Who ran it (email).")
    actor_name: str = Field(default="", description="Who ran it (name).")
    created_at: datetime = Field(description="When it ran (UTC).")
    accounts_changed: int = Field(description="How many accounts got or lost an owner.")
    counts: dict[str, int] = Field(
        description="Ownership rows added and ended, and accounts per outcome."
    )
    parameters: dict[str, object] = Field(
        description="What the operation was asked to do (its CSMs, policy, undone operation, ...)."
    )
    undoes: int | None = Field(
        description="The id of the operation this one undoes, if it is an undo."
    )
    undone_by: int | None = Field(
        description="The id of the operation that undid this one, if any."
    )
