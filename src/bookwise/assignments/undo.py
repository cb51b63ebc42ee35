"""Undo: restore exactly the ownership an operation replaced, as a new operation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.service import set_parent
from bookwise.assignments import plan, propagation
from bookwise.assignments.inheritance import store_default
from bookwise.assignments.operation import (
    Extra,
    run_operation,
)
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import OperationResult
from bookwise.errors import Conflict, NotFound
from bookwise.models import Account, Assignment, Operation, OwnershipChange, PolicyChange, User

# Aliases are built once: building one per call costs more than the SQL it makes.
_BEFORE_POLICYCHANGE = aliased(PolicyChange, name="before")
_CLOSED_BY_IT_ASSIGNMENT = aliased(Assignment, name="closed_by_it")
_CURRENT_ASSIGNMENT = aliased(Assignment, name="current")
_OPENED_BY_IT_ASSIGNMENT = aliased(Assignment, name="opened_by_it")
_REOPENED_ASSIGNMENT = aliased(Assignment, name="reopened")
_STILL_ASSIGNMENT = aliased(Assignment, name="still")


# --- undo ------------------------------------------------------------------------------------


def undo_operation(
    session: Session,
    *,
    operation_id: int,
    actor: User,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Put every (account, user, role) an operation touched back as it was before it.

    Runs as a new ``undo`` operation. Refused, listing the conflicts, when a later change
    (later in the account's version chain, whatever the operation ids) touched the same
    (account, user, role) and has not itself been undone since; all or nothing.
    """
    target = session.get(Operation, operation_id, with_for_update=not _sqlite(session))
    if target is None:
        raise NotFound(f"no operation {operation_id}")
    if target.undone_by_id is not None:
        raise Conflict(
            f"operation {operation_id} was already undone by operation {target.undone_by_id}"
        )

    def body(ctx: OperationContext) -> Extra:
        ctx.operation.undoes_id = operation_id
        plan.lock_targets(ctx, select(_touched(operation_id).c.account_id))
        _refuse_conflicts(session, operation_id)
        _plan_undo(ctx, operation_id)
        policies = _restore_policies(ctx, operation_id)
        _restore_kind_specific(ctx, target)
        # Restored policies, parents or defaults may make accounts inherit again: their
        # owners must follow the parent as it is now, so inheritance is re-applied there
        # (those accounts locked before the first write, as in operation.propagate).
        reconcile = target.kind in {"set_parent", "set_default_policy"} or bool(policies)
        if reconcile:
            propagation.scope_inheritance(ctx, roots=_roots_to_reconcile(target))
        plan.apply_phase(ctx, 1)
        if reconcile:
            propagation.plan_inherited_changes(ctx)
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
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _touched(operation_id: int) -> Subquery:
    """The (account, user, role) triples the operation opened or closed a row of."""
    return (
        select(Assignment.account_id, Assignment.user_id, Assignment.role)
        .where(
            (Assignment.operation_id == operation_id)
            | (Assignment.ended_operation_id == operation_id)
        )
        .distinct()
        .subquery()
    )


def _same_triple(row: Any, triple: Subquery) -> ColumnElement[bool]:
    return and_(
        triple.c.account_id == row.account_id,
        triple.c.user_id == row.user_id,
        triple.c.role == row.role,
    )


def _refuse_conflicts(session: Session, operation_id: int) -> None:
    """Raise Conflict naming the later operations that changed what this one changed.

    "Later" is the account's version chain (the order changes were applied under lock), not
    the operation id. A later operation that was undone by an undo also later is no conflict:
    together they changed nothing.
    """
    mine = (
        select(OwnershipChange.account_id, OwnershipChange.version)
        .where(OwnershipChange.operation_id == operation_id)
        .subquery()
    )
    later = (
        select(OwnershipChange.operation_id)
        .join(
            mine,
            and_(
                OwnershipChange.account_id == mine.c.account_id,
                OwnershipChange.version > mine.c.version,
            ),
        )
        .distinct()
    )
    # Usually nothing changed these accounts since: then there is nothing to match against
    # the operation's (account, user, role) triples, a join over all its rows.
    later_ids = list(session.scalars(later))
    if not later_ids:
        return
    triple = _touched(operation_id)
    touching = (
        select(Assignment.operation_id)
        .join(triple, _same_triple(Assignment, triple))
        .where(Assignment.operation_id.in_(later_ids))
        .union(
            select(Assignment.ended_operation_id)
            .join(triple, _same_triple(Assignment, triple))
            .where(Assignment.ended_operation_id.in_(later_ids))
        )
    )
    rows = session.execute(
        select(Operation.id, Operation.kind, Operation.undoes_id, Operation.undone_by_id)
        .where(Operation.id.in_(touching))
        .order_by(Operation.id.desc())
    ).all()
    ids = {row.id for row in rows}
    conflicts = [
        (row.id, row.kind)
        for row in rows
        if row.undone_by_id not in ids and row.undoes_id not in ids
    ]
    if conflicts:
        listed = ", ".join(f"#{op_id} ({kind})" for op_id, kind in conflicts[:20])
        raise Conflict(
            f"cannot undo operation {operation_id}: later operations changed the same "
            f"accounts and owners: {listed}. Undo those first (newest first).",
            details={"conflicts": [op_id for op_id, _ in conflicts]},
        )


def _plan_undo(ctx: OperationContext, operation_id: int) -> None:
    """Per touched triple: open if it was open before and is not now; close the reverse.

    It was open before the operation exactly when the operation closed a row of it.
    """
    closed_by_it = _CLOSED_BY_IT_ASSIGNMENT
    opened_by_it = _OPENED_BY_IT_ASSIGNMENT
    current = _CURRENT_ASSIGNMENT
    was_closed = exists().where(
        closed_by_it.ended_operation_id == operation_id,
        closed_by_it.account_id == current.account_id,
        closed_by_it.user_id == current.user_id,
        closed_by_it.role == current.role,
    )
    # The open rows of the triples it opened, found from its own rows (an index range) and
    # the open-row index: asking every open row "did the operation open you?" read the
    # whole table (750,000 open rows at 1M accounts) to undo a few thousand.
    reopened = _REOPENED_ASSIGNMENT
    opened_now = (
        select(reopened.id)
        .select_from(opened_by_it)
        .join(
            reopened,
            and_(
                reopened.account_id == opened_by_it.account_id,
                reopened.user_id == opened_by_it.user_id,
                reopened.role == opened_by_it.role,
                reopened.ended_at.is_(None),
            ),
        )
        .where(opened_by_it.operation_id == operation_id)
    )
    closes = plan.close_rows(ctx, current, phase=1, source="undo").where(
        current.id.in_(opened_now), ~was_closed
    )
    plan.insert_plan(ctx, closes)
    still = _STILL_ASSIGNMENT
    # A row that followed a parent is re-opened as what it is, inherited; the undo is still
    # the operation that opened it.
    source = case((Assignment.source == "inherited", "inherited"), else_="undo")
    opens = plan.plan_rows(
        ctx,
        action="open",
        phase=1,
        account_id=Assignment.account_id,
        user_id=Assignment.user_id,
        role=Assignment.role,
        source=source,
        is_primary=Assignment.is_primary,
    ).where(
        Assignment.ended_operation_id == operation_id,
        ~exists().where(
            still.account_id == Assignment.account_id,
            still.user_id == Assignment.user_id,
            still.role == Assignment.role,
            still.ended_at.is_(None),
        ),
    )
    plan.insert_plan(ctx, opens)


def _restore_policies(ctx: OperationContext, operation_id: int) -> int:
    session = ctx.session
    before = _BEFORE_POLICYCHANGE
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
            set_parent(
                session,
                account=account,
                parent=parent,
                actor=ctx.actor,
                operation_id=ctx.op_id,
                source="undo",
                now=ctx.now,
            )
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
