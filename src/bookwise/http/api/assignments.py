"""/api/v1/assignments: assign, unassign, transfer, take over and inheritance, with preview and
retries.

Every endpoint takes ``dry_run`` (a preview: counts, a sample, a fingerprint) and
``fingerprint`` (apply only if the change set is still the one previewed, else 409), and an
``Idempotency-Key`` header (a retry returns the first response and changes nothing twice).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from bookwise.assignments.inheritance import (
    reconcile_inheritance,
    set_default_policy,
    set_inherit_policy,
)
from bookwise.assignments.operation import Policy
from bookwise.assignments.service import (
    assign_accounts,
    take_over_accounts,
    transfer_accounts,
    unassign_accounts,
)
from bookwise.http.api.common import IdempotencyKey, api_router, idempotent_responses, run_once
from bookwise.http.api.filters import Email, SelectionIn
from bookwise.http.api.operations import OperationResult, result_out
from bookwise.http.context import CallerDep, acting_user
from bookwise.http.routing import post
from bookwise.users.service import get_user, get_users

router = api_router("assignments")

_RESPONSES = idempotent_responses(
    "What changed (or, with dry_run, would change).", 400, 404, 409, 413
)


def _identity(body: BaseModel) -> dict[str, Any]:
    """What makes two requests the same: the parsed body (spacing and key order aside)."""
    return body.model_dump(mode="json", by_alias=True)


class _Change(SelectionIn):
    """A change of ownership on a selection, previewable and fingerprinted."""

    reason: str = Field(default="", max_length=500, description="Why; kept on every row.")
    dry_run: bool = Field(default=False, description="Preview: write nothing.")
    fingerprint: str | None = Field(
        default=None,
        max_length=200,
        description="From a preview: apply only if the change set is still the same (else 409).",
    )


class AssignRequest(_Change):
    """Add CSMs to the selected accounts (existing owners stay)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ids": ["ACME-1", "ACME-2", 17], "to": ["ana@example.com"], "dry_run": True},
                {
                    "filter": "tier = 1 and csm is empty",
                    "to": ["ana@example.com"],
                    "fingerprint": "3f2a9c1b7d4e5f60",
                },
                {
                    "not_assigned_to": "ana@example.com",
                    "who": "no-one",
                    "segment": "Enterprise EMEA",
                    "to": ["ana@example.com"],
                },
            ]
        },
    )

    to: list[Email] = Field(
        min_length=1, max_length=100, description="CSMs to add, by email or unique full name."
    )


class UnassignRequest(_Change):
    """Remove one CSM from the selected accounts (other owners stay)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"ids": ["ACME-1"], "from": "ana@example.com"}]},
    )

    from_: Email = Field(alias="from", description="The CSM to remove (email or unique full name).")


class TransferRequest(_Change):
    """Move accounts from one CSM to another: the whole book, or the selected part of it."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"from": "ana@example.com", "to": "ben@example.com", "dry_run": True},
                {"from": "ana@example.com", "to": "ben@example.com", "filter": 'region = "EMEA"'},
            ]
        },
    )

    from_: Email = Field(
        alias="from", description="The CSM whose accounts move (email or full name)."
    )
    to: Email = Field(description="The CSM who takes them (email or unique full name).")


class TakeOverRequest(_Change):
    """Make one CSM the only owner of the selected accounts (from whoever owns them now)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ids": ["ACME-1", "ACME-2"], "to": "ana@example.com", "dry_run": True},
                {"not_assigned_to": "ana@example.com", "who": "others", "to": "ana@example.com"},
            ]
        },
    )

    to: Email = Field(description="The CSM who takes the accounts over (email or full name).")


class InheritRequest(_Change):
    """Inheritance: set the selected accounts' policy, change the installation default, or
    (with neither) make every inheriting account own exactly its parent's CSMs."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ids": ["ACME-1-DE"], "policy": "inherit"},
                {"default_policy": "inherit", "dry_run": True},
                {},
            ]
        },
    )

    policy: Literal["inherit", "own", "default"] | None = Field(
        default=None,
        description="Set the selected accounts' policy (default: follow the installation's).",
    )
    default_policy: Literal["inherit", "own"] | None = Field(
        default=None, description="Set the installation default (an undoable operation)."
    )

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        if self.policy is not None and self.default_policy is not None:
            raise ValueError("give policy (with a selection) or default_policy, not both")
        if self.policy is None and self.names_accounts():
            raise ValueError("a selection needs a policy to set")
        return self

    @model_validator(mode="after")
    def _no_reason(self) -> InheritRequest:
        # Inheritance rows record why they exist (the parent's CSMs); a reason would be dropped.
        if self.reason:
            raise ValueError("inherit takes no reason: inherited rows say which parent they follow")
        return self


@post(
    router,
    "/assignments/assign",
    role="manager",
    response_model=OperationResult,
    summary="Assign CSMs",
    responses=_RESPONSES,
)
def assign(
    request: Request, caller: CallerDep, body: AssignRequest, idempotency_key: IdempotencyKey = None
) -> Any:
    """Add one or several CSMs to the named accounts, or to every account a filter matches.

    Existing owners stay. Inactive users and users without a CSM seat are refused
    (``refused_inactive``, ``refused_no_seat``), and so is a direct change on an account that
    inherits its parent's CSMs (``refused_inherits``).
    """

    def work(session: Session) -> OperationResult:
        return result_out(
            assign_accounts(
                session,
                selection=body.selection(session),
                csms=get_users(session, body.to),
                actor=acting_user(session, caller),
                role=body.role,
                reason=body.reason,
                dry_run=body.dry_run,
                expected_fingerprint=body.fingerprint,
            )
        )

    return run_once(request, caller, idempotency_key, _identity(body), work)


@post(
    router,
    "/assignments/unassign",
    role="manager",
    response_model=OperationResult,
    summary="Unassign a CSM",
    responses=_RESPONSES,
)
def unassign(
    request: Request,
    caller: CallerDep,
    body: UnassignRequest,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Remove one CSM from the named (or filtered) accounts; other owners stay."""

    def work(session: Session) -> OperationResult:
        return result_out(
            unassign_accounts(
                session,
                selection=body.selection(session),
                csm=get_user(session, body.from_),
                actor=acting_user(session, caller),
                role=body.role,
                reason=body.reason,
                dry_run=body.dry_run,
                expected_fingerprint=body.fingerprint,
            )
        )

    return run_once(request, caller, idempotency_key, _identity(body), work)


@post(
    router,
    "/assignments/transfer",
    role="manager",
    response_model=OperationResult,
    summary="Transfer accounts between CSMs",
    responses=_RESPONSES,
)
def transfer(
    request: Request,
    caller: CallerDep,
    body: TransferRequest,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Replace ``from`` by ``to`` on the accounts ``from`` owns: the whole book, or the named
    or filtered part of it. Where ``to`` already owns an account, ``from``'s row simply ends."""

    def work(session: Session) -> OperationResult:
        selection = body.optional_selection(session)
        old, new = get_users(session, [body.from_, body.to])
        return result_out(
            transfer_accounts(
                session,
                from_csm=old,
                to_csm=new,
                actor=acting_user(session, caller),
                selection=selection,
                role=body.role,
                reason=body.reason,
                dry_run=body.dry_run,
                expected_fingerprint=body.fingerprint,
            )
        )

    return run_once(request, caller, idempotency_key, _identity(body), work)


@post(
    router,
    "/assignments/take-over",
    role="manager",
    response_model=OperationResult,
    summary="Take accounts over from their current CSMs",
    responses=_RESPONSES,
)
def take_over(
    request: Request,
    caller: CallerDep,
    body: TakeOverRequest,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Make ``to`` the only CSM of the named (or filtered) accounts, in one operation: every
    other current owner's row ends and ``to`` gets each account they lack (``transferred``;
    ``already_assigned`` where ``to`` owned it alone). Undo restores every owner."""

    def work(session: Session) -> OperationResult:
        return result_out(
            take_over_accounts(
                session,
                selection=body.selection(session),
                to_csm=get_user(session, body.to),
                actor=acting_user(session, caller),
                role=body.role,
                reason=body.reason,
                dry_run=body.dry_run,
                expected_fingerprint=body.fingerprint,
            )
        )

    return run_once(request, caller, idempotency_key, _identity(body), work)


POLICIES: dict[str, Policy | None] = {"inherit": "inherit", "own": "own", "default": None}


@post(
    router,
    "/assignments/inherit",
    role="manager",
    response_model=OperationResult,
    summary="Set inherit policies, the default, or reconcile",
    responses=_RESPONSES,
)
def inherit(
    request: Request,
    caller: CallerDep,
    body: InheritRequest,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """With ``policy`` and a selection: set those accounts to inherit their parent's CSMs, own
    theirs, or follow the installation default. With ``default_policy``: change the default.
    With neither: make every inheriting account own exactly what it inherits (after an
    import, say). Each is one operation with preview and undo."""

    def work(session: Session) -> OperationResult:
        actor = acting_user(session, caller)
        options: dict[str, Any] = {
            "actor": actor,
            "dry_run": body.dry_run,
            "expected_fingerprint": body.fingerprint,
        }
        if body.policy is not None:
            result = set_inherit_policy(
                session, selection=body.selection(session), policy=POLICIES[body.policy], **options
            )
        elif body.default_policy is not None:
            result = set_default_policy(session, policy=body.default_policy, **options)
        else:
            result = reconcile_inheritance(session, **options)
        return result_out(result)

    return run_once(request, caller, idempotency_key, _identity(body), work)
