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

    ref: str
    account_id: int | None
    user: str | None = Field(description="email of the CSM this outcome is about")
    outcome: Outcome
    follows_parent: bool = Field(
        default=False,
        description="the account inherits and changed by following its parent in this "
        "operation, not directly",
    )


class ChangeRow(BaseModel):
    """One planned or applied change, for previews and samples."""

    account_id: int
    external_id: str | None
    name: str
    user: str
    role: str
    action: Literal["open", "close"]
    source: str


class OperationResult(BaseModel):
    """What an operation changed (or, with dry_run, would change)."""

    operation_id: int | None
    kind: str
    dry_run: bool
    accounts_changed: int
    opened: int
    closed: int
    inherited_opened: int
    inherited_closed: int
    policies_changed: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    items: list[ItemOutcome] | None = None
    sample: list[ChangeRow] = Field(default_factory=list)
    fingerprint: str
    messages: list[str] = Field(default_factory=list)


class OperationOut(BaseModel):
    """An operation as listed by ``operations list``."""

    id: int
    kind: str
    actor: str
    actor_name: str = ""
    created_at: datetime
    accounts_changed: int
    counts: dict[str, int]
    parameters: dict[str, object]
    undoes: int | None
    undone_by: int | None
