"""Running an operation: savepoint for previews, fingerprint check, result, cleanup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bookwise.assignments import outcomes, plan, propagation
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import ChangeRow, ItemOutcome, OperationResult
from bookwise.assignments.selection import AccountQuery, AccountRefs, Selection
from bookwise.errors import Conflict, NotFound
from bookwise.models import (
    AssignmentRole,
    Operation,
    User,
)

Policy = Literal["inherit", "own"]


@dataclass
class Extra:
    """What an operation body reports beyond the plan's counts."""

    items: list[ItemOutcome] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    policies_changed: int = 0
    keep_if_unchanged: bool = False


def get_role(session: Session, role: str) -> AssignmentRole:
    """The assignment role, or NotFound listing the configured ones."""
    found = session.get(AssignmentRole, role)
    if found is None:
        names = ", ".join(
            session.scalars(select(AssignmentRole.name).order_by(AssignmentRole.name))
        )
        raise NotFound(f"no assignment role {role!r} (configured roles: {names})")
    return found


def refusal(user: User) -> str | None:
    """Why a user may not receive accounts, as an outcome, or None if they may."""
    if not user.active:
        return "refused_inactive"
    if not user.csm_seat:
        return "refused_no_seat"
    return None


def refusal_message(user: User, outcome: str) -> str:
    if outcome == "refused_inactive":
        return f"{user.email} is inactive; inactive users never receive new accounts"
    return f"{user.email} has no CSM seat; give them one with `bookwise users set-seat`"


def run_operation(
    session: Session,
    *,
    kind: str,
    actor: User,
    parameters: dict[str, Any],
    reason: str,
    dry_run: bool,
    expected_fingerprint: str | None,
    body: Callable[[OperationContext], Extra],
) -> OperationResult:
    """Run one operation inside a savepoint: kept on success, rolled back for a preview or
    on any error, so a failed operation leaves nothing half-written in the caller's
    transaction."""
    savepoint = session.begin_nested()
    try:
        ctx = plan.start(session, kind=kind, actor=actor, parameters=parameters, reason=reason)
        extra = body(ctx)
        summary = plan.finish(ctx)
        plan.expire_accounts(session)
        if expected_fingerprint is not None and expected_fingerprint != summary.fingerprint:
            raise Conflict(
                "the accounts this operation would change are no longer those previewed "
                f"(fingerprint {expected_fingerprint} expected, {summary.fingerprint} now); "
                "preview again"
            )
        sample = [ChangeRow(**row) for row in outcomes.sample_changes(ctx)]
        plan.clear_scratch(ctx)
        counts = extra.counts or {
            "opened": summary.opened + summary.inherited_opened,
            "closed": summary.closed + summary.inherited_closed,
        }
        changed = summary.accounts_changed or extra.policies_changed or extra.keep_if_unchanged
        # A preview's operation row is rolled back: its id would be reused, so none is given.
        operation_id: int | None = None if dry_run else ctx.op_id
        if changed:
            ctx.operation.counts = counts
            ctx.operation.accounts_changed = summary.accounts_changed
            session.flush()
        else:
            session.execute(delete(Operation).where(Operation.id == ctx.op_id))
            session.expunge(ctx.operation)
            operation_id = None
        result = OperationResult(
            operation_id=operation_id,
            kind=kind,
            dry_run=dry_run,
            accounts_changed=summary.accounts_changed,
            opened=summary.opened,
            closed=summary.closed,
            inherited_opened=summary.inherited_opened,
            inherited_closed=summary.inherited_closed,
            policies_changed=extra.policies_changed,
            counts=counts,
            items=extra.items,
            sample=sample,
            fingerprint=summary.fingerprint,
            messages=ctx.notes,
        )
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


def selection_ids(ctx: OperationContext, selection: Selection) -> Any:
    if isinstance(selection, AccountRefs):
        return plan.load_refs(ctx, list(selection.refs))
    return selection.ids


def selection_parameters(selection: Selection | None) -> dict[str, Any]:
    if selection is None:
        return {"selection": "whole book"}
    if isinstance(selection, AccountQuery):
        return {"filter": selection.description}
    return {"ids": len(selection.refs)}


def propagate(ctx: OperationContext, *, inheritable: bool, roots_own: bool = True) -> None:
    """Apply phase 1 and, when the role is inherited, the descendants that follow (phase 2).

    ``roots_own``: phase 1 touched no inheriting account (true of one inherited role). An
    operation over several roles, where a role that is not inherited may change an
    inheriting account, passes False so the walk starts at each root's owning ancestor.
    """
    if inheritable:
        # The descendants are locked before the first write (propagation.plan_inherited_changes
        # says why).
        roots = propagation.phase_one_accounts(ctx)
        propagation.scope_inheritance(ctx, roots=roots, roots_own=roots_own)
    plan.apply_phase(ctx, 1)
    if inheritable:
        propagation.plan_inherited_changes(ctx)
        plan.apply_phase(ctx, 2)
