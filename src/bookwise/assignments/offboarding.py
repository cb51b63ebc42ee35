"""Deactivating a CSM: their book moves to a colleague, or stays flagged (--keep)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.assignments import plan, propagation
from bookwise.assignments.operation import (
    Extra,
    get_role,
    refusal,
    refusal_message,
    run_operation,
)
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import OperationResult
from bookwise.errors import InvalidInput, Refused
from bookwise.models import (
    Assignment,
    User,
)
from bookwise.users.service import set_active

# --- deactivation ----------------------------------------------------------------------------


def deactivate_user(
    session: Session,
    *,
    user: User,
    actor: User,
    transfer_to: User | None = None,
    keep: bool = False,
    dry_run: bool = False,
) -> OperationResult | None:
    """Deactivate a user; their open accounts move to ``transfer_to`` or stay (``keep``)."""
    roles = list(
        session.scalars(
            select(Assignment.role)
            .where(Assignment.user_id == user.id, plan.is_open())
            .distinct()
            .order_by(Assignment.role)
        )
    )
    owned = session.scalar(
        select(func.count(func.distinct(Assignment.account_id))).where(
            Assignment.user_id == user.id, plan.is_open()
        )
    )
    if owned and transfer_to is None and not keep:
        raise Refused(
            f"{user.email} still owns {owned:,} accounts; move them with --transfer-to EMAIL "
            "(API: transfer_to), or leave them with --keep (API: keep): they will show under "
            "no-one, owner inactive"
        )
    if transfer_to is not None and (why := refusal(transfer_to)):
        raise Refused(refusal_message(transfer_to, why))
    if transfer_to is not None and transfer_to.id == user.id:
        raise InvalidInput("cannot transfer a user's accounts to themselves")
    result: OperationResult | None = None
    savepoint = session.begin_nested() if dry_run else None
    try:
        if transfer_to is not None and roles:
            target = transfer_to

            def body(ctx: OperationContext) -> Extra:
                book = select(Assignment.account_id).where(
                    Assignment.user_id == user.id, plan.is_open()
                )
                targets = plan.lock_targets(ctx, book)
                inheritable = False
                for role in roles:
                    role_row = get_role(session, role)
                    inheritable = inheritable or role_row.inheritable
                    plan.plan_closes(
                        ctx,
                        account_ids=targets,
                        user_id=user.id,
                        role=role,
                        skip_inheriting=role_row.inheritable,
                    )
                    plan.plan_replacements(ctx, user_id=target.id, role=role, source="manual")
                if inheritable:  # locked before the first write, as in operation.propagate
                    roots = propagation.phase_one_accounts(ctx)
                    propagation.scope_inheritance(ctx, roots=roots)
                plan.apply_phase(ctx, 1)
                if inheritable:
                    propagation.plan_inherited_changes(ctx)
                    plan.apply_phase(ctx, 2)
                return Extra()

            result = run_operation(
                session,
                kind="deactivate",
                actor=actor,
                parameters={"user": user.email, "transfer_to": target.email, "roles": roles},
                reason=f"{user.email} deactivated",
                dry_run=False,
                expected_fingerprint=None,
                body=body,
            )
        set_active(session, user=user, active=False, actor=actor)
    except BaseException:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise
    if savepoint is not None:
        savepoint.rollback()
        if result is not None:
            result.dry_run = True
            result.operation_id = None
    return result
