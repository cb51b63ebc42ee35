"""Undo: restore exactly the ownership an operation replaced, as a new operation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.service import set_parent
from bookwise.assignments import plan
from bookwise.assignments.inheritance import store_default
from bookwise.assignments.operation import (
    Extra,
    run_operation,
)
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import OperationResult
from bookwise.errors import Conflict, NotFound
from bookwise.models import (
    Account,
    Assignment,
    Operation,
    PolicyChange,
    User,
)

# --- undo ------------------------------------------------------------------------------------


def undo_operation(
    session: Session, *, operation_id: int, actor: User, dry_run: bool = False
) -> OperationResult:
    """Restore exactly the ownership an operation replaced, as a new ``undo`` operation.

    Refused, listing the conflicts, when a later operation touched the same
    (account, user, role); all or nothing.
    """
    target = session.get(Operation, operation_id, with_for_update=not _sqlite(session))
    if target is None:
        raise NotFound(f"no operation {operation_id}")
    if target.undone_by_id is not None:
        raise Conflict(
            f"operation {operation_id} was already undone by operation {target.undone_by_id}"
        )
    conflicts = _undo_conflicts(session, operation_id)
    if conflicts:
        listed = ", ".join(f"#{op_id} ({kind})" for op_id, kind in conflicts[:20])
        raise Conflict(
            f"cannot undo operation {operation_id}: later operations changed the same "
            f"accounts and owners: {listed}. Undo those first (newest first).",
            details={"conflicts": [op_id for op_id, _ in conflicts]},
        )

    def body(ctx: OperationContext) -> Extra:
        ctx.operation.undoes_id = operation_id
        touched = select(Assignment.account_id).where(
            (Assignment.operation_id == operation_id)
            | (Assignment.ended_operation_id == operation_id)
        )
        plan.lock_accounts(session, touched)
        _plan_undo(ctx, operation_id)
        policies = _restore_policies(ctx, operation_id)
        _restore_kind_specific(ctx, target)
        plan.apply_phase(ctx, 1)
        # Restored policies, parents or defaults may make accounts inherit again: their
        # owners must follow the parent as it is now, so inheritance is re-applied there.
        if target.kind in {"set_parent", "set_default_policy"} or policies:
            plan.plan_inheritance(ctx, roots=_roots_to_reconcile(target))
            plan.apply_phase(ctx, 2)
        target.undone_by_id = ctx.op_id
        return Extra(policies_changed=policies, keep_if_unchanged=True)

    return run_operation(
        session,
        kind="undo",
        actor=actor,
        parameters={"undoes": operation_id, "undone_kind": target.kind},
        reason=f"undo of operation {operation_id}",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _undo_conflicts(session: Session, operation_id: int) -> list[tuple[int, str]]:
    """Later operations that opened or closed a row of an (account, user, role) this one did."""
    mine = (
        select(Assignment.account_id, Assignment.user_id, Assignment.role)
        .where(
            (Assignment.operation_id == operation_id)
            | (Assignment.ended_operation_id == operation_id)
        )
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(Operation.id, Operation.kind)
        .where(
            Operation.id.in_(
                select(Assignment.operation_id)
                .join(
                    mine,
                    (mine.c.account_id == Assignment.account_id)
                    & (mine.c.user_id == Assignment.user_id)
                    & (mine.c.role == Assignment.role),
                )
                .where(Assignment.operation_id > operation_id)
                .union(
                    select(Assignment.ended_operation_id)
                    .join(
                        mine,
                        (mine.c.account_id == Assignment.account_id)
                        & (mine.c.user_id == Assignment.user_id)
                        & (mine.c.role == Assignment.role),
                    )
                    .where(Assignment.ended_operation_id > operation_id)
                )
            )
        )
        .order_by(Operation.id.desc())
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _plan_undo(ctx: OperationContext, operation_id: int) -> None:
    """Close what the operation opened (still open); reopen what it closed (now free)."""
    opened = select(
        literal(ctx.op_id),
        Assignment.account_id,
        Assignment.user_id,
        Assignment.role,
        literal("close"),
        literal(1),
        literal("undo"),
        literal(ctx.reason),
        Assignment.is_primary,
        Assignment.id,
    ).where(Assignment.operation_id == operation_id, plan.is_open())
    plan.insert_plan(ctx, opened, with_assignment=True)
    still = aliased(Assignment)
    closed = select(
        literal(ctx.op_id),
        Assignment.account_id,
        Assignment.user_id,
        Assignment.role,
        literal("open"),
        literal(1),
        literal("undo"),
        literal(ctx.reason),
        Assignment.is_primary,
    ).where(
        Assignment.ended_operation_id == operation_id,
        ~exists().where(
            still.account_id == Assignment.account_id,
            still.user_id == Assignment.user_id,
            still.role == Assignment.role,
            still.ended_at.is_(None),
            still.operation_id != operation_id,
        ),
    )
    plan.insert_plan(ctx, closed, with_assignment=False)


def _restore_policies(ctx: OperationContext, operation_id: int) -> int:
    session = ctx.session
    before = aliased(PolicyChange)
    session.execute(
        insert(PolicyChange).from_select(
            ["operation_id", "account_id", "old_policy", "new_policy"],
            select(
                literal(ctx.op_id), before.account_id, before.new_policy, before.old_policy
            ).where(before.operation_id == operation_id),
        )
    )
    old_value = (
        select(PolicyChange.old_policy)
        .where(PolicyChange.operation_id == operation_id, PolicyChange.account_id == Account.id)
        .scalar_subquery()
    )
    result = session.execute(
        update(Account)
        .where(
            Account.id.in_(
                select(PolicyChange.account_id).where(PolicyChange.operation_id == operation_id)
            )
        )
        .values(inherit_policy=old_value)
        .execution_options(synchronize_session=False)
    )
    return plan.affected_rows(result)


def _restore_kind_specific(ctx: OperationContext, target: Operation) -> None:
    """Put back what the operation changed beside ownership: a parent link or the default."""
    session = ctx.session
    if target.kind == "set_parent":
        account = session.get(Account, target.parameters["account_id"])
        old_parent_id = target.parameters.get("old_parent_id")
        if account is not None:
            parent = session.get(Account, old_parent_id) if old_parent_id else None
            set_parent(session, account=account, parent=parent)
    elif target.kind == "set_default_policy":
        store_default(session, str(target.parameters["old"]))
        ctx.default_policy = str(target.parameters["old"])


def _roots_to_reconcile(target: Operation) -> Select[Any] | None:
    """Where inheritance must be re-applied after undoing ``target`` (None: everywhere)."""
    if target.kind == "set_default_policy":
        return None
    if target.kind == "set_parent":
        return select(Account.id).where(Account.id == target.parameters["account_id"])
    return select(PolicyChange.account_id).where(PolicyChange.operation_id == target.id)
