"""Inheritance: per-account policy, re-parenting, the installation default, reconciliation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from bookwise.accounts.service import label, set_parent
from bookwise.assignments import plan, propagation
from bookwise.assignments.operation import (
    Extra,
    Policy,
    run_operation,
    selection_ids,
    selection_parameters,
)
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.selection import Selection
from bookwise.models import (
    Account,
    PolicyChange,
    Setting,
    User,
)

# --- inheritance -----------------------------------------------------------------------------


def set_inherit_policy(
    session: Session,
    *,
    selection: Selection,
    policy: Policy | None,
    actor: User,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Set accounts to ``inherit``, ``own`` or (None) the installation default.

    Switching to inherit replaces the account's CSMs by its parent's (history keeps the old
    ones); switching to own keeps its current CSMs as its own.
    """

    def body(ctx: OperationContext) -> Extra:
        ids = selection_ids(ctx, selection)
        ids = plan.lock_targets(ctx, ids)
        changes = select(
            literal(ctx.op_id), Account.id, Account.inherit_policy, literal(policy)
        ).where(Account.id.in_(ids), Account.inherit_policy.is_distinct_from(policy))
        session.execute(
            insert(PolicyChange).from_select(
                ["operation_id", "account_id", "old_policy", "new_policy"], changes
            )
        )
        changed = select(PolicyChange.account_id).where(PolicyChange.operation_id == ctx.op_id)
        result = session.execute(
            update(Account)
            .where(Account.id.in_(changed))
            .values(inherit_policy=policy)
            .execution_options(synchronize_session=False)
        )
        propagation.plan_inheritance(ctx, roots=changed)
        plan.apply_phase(ctx, 2)
        return Extra(
            counts={"policies_changed": plan.affected_rows(result)},
            policies_changed=plan.affected_rows(result),
        )

    return run_operation(
        session,
        kind="set_policy",
        actor=actor,
        parameters={**selection_parameters(selection), "policy": policy or "default"},
        reason="",
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def move_account(
    session: Session,
    *,
    account: Account,
    parent: Account | None,
    actor: User,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Re-parent an account (cycles refused) and re-apply inheritance to the moved subtree."""
    old_parent = account.parent_id

    def body(ctx: OperationContext) -> Extra:
        set_parent(
            session,
            account=account,
            parent=parent,
            actor=actor,
            operation_id=ctx.op_id,
            now=ctx.now,
        )
        # After set_parent, which takes the hierarchy lock first (the order every move uses).
        plan.lock_targets(ctx, select(Account.id).where(Account.id == account.id))
        ctx.state.append(f"parent:{old_parent}->{account.parent_id}")
        propagation.plan_inheritance(ctx, roots=select(Account.id).where(Account.id == account.id))
        plan.apply_phase(ctx, 2)
        return Extra(keep_if_unchanged=old_parent != account.parent_id)

    return run_operation(
        session,
        kind="set_parent",
        actor=actor,
        parameters={
            "account_id": account.id,
            "old_parent_id": old_parent,
            "new_parent_id": parent.id if parent else None,
        },
        reason=f"moved under {label(parent)}" if parent else "made top-level",
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def apply_inheritance(
    session: Session,
    *,
    roots: Any,
    actor: User,
    reason: str = "",
    scope: str = "new accounts",
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Re-apply inheritance below (and at) ``roots`` (None: the whole database).

    Used after a new child account is created, after an import moved accounts, and by
    ``bookwise inherit``.
    """

    def body(ctx: OperationContext) -> Extra:
        propagation.plan_inheritance(ctx, roots=roots)
        plan.apply_phase(ctx, 2)
        return Extra()

    return run_operation(
        session,
        kind="inherit",
        actor=actor,
        parameters={"scope": scope},
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def inherit_into_new_account(
    session: Session, *, account: Account, actor: User
) -> OperationResult | None:
    """Give a just-created child account what it inherits (None for a top-level one).

    The one follow-up of every way to add an account by hand: the CLI, the API, the page.
    """
    if account.parent_id is None:
        return None
    roots = select(Account.id).where(Account.id == account.id)
    return apply_inheritance(session, roots=roots, actor=actor)


def reconcile_inheritance(
    session: Session,
    *,
    actor: User,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Make every inheriting account in the database own exactly what it inherits."""
    return apply_inheritance(
        session,
        roots=None,
        actor=actor,
        scope="all accounts",
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
    )


def set_default_policy(
    session: Session,
    *,
    policy: Policy,
    actor: User,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Change the installation default (an operation: previewable and undoable)."""
    setting = session.get(Setting, plan.DEFAULT_POLICY_KEY)
    old = setting.value if setting else "own"

    def body(ctx: OperationContext) -> Extra:
        ctx.state.append(f"default:{old}->{policy}")
        store_default(session, policy)
        ctx.default_policy = policy
        propagation.plan_inheritance(ctx, roots=None)
        plan.apply_phase(ctx, 2)
        return Extra(keep_if_unchanged=old != policy)

    return run_operation(
        session,
        kind="set_default_policy",
        actor=actor,
        parameters={"old": old, "new": policy},
        reason=f"default policy set to {policy}",
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def store_default(session: Session, policy: str) -> None:
    setting = session.get(Setting, plan.DEFAULT_POLICY_KEY)
    if setting is None:
        session.add(Setting(key=plan.DEFAULT_POLICY_KEY, value=policy))
    else:
        setting.value = policy
    session.flush()
