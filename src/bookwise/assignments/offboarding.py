"""Deactivating a CSM: their book moves to a colleague, or stays flagged (--keep)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.assignments import plan
from bookwise.assignments.operation import (
    Extra,
    get_role,
    propagate,
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
    expected_fingerprint: str | None = None,
) -> OperationResult | None:
    """Deactivate a user; their open accounts move to ``transfer_to`` or stay (``keep``).

    With ``transfer_to`` it is one ``deactivate`` operation (preview, fingerprint, undo of
    the ownership part): every open row the user holds is replaced, role by role, by the
    same row for ``transfer_to``. Without a book to move, nothing is returned.
    """
    roles = list(
        session.scalars(
            select(Assignment.role)
            .where(Assignment.user_id == user.id, plan.is_open())
            .distinct()
            .order_by(Assignment.role)
        )
    )
    if roles and transfer_to is None and not keep:
        owned = session.scalar(
            select(func.count(func.distinct(Assignment.account_id))).where(
                Assignment.user_id == user.id, plan.is_open()
            )
        )
        raise Refused(
            f"{user.email} still owns {owned:,} accounts; move them with --transfer-to EMAIL "
            "(API: transfer_to), or leave them with --keep (API: keep): they will show under "
            "no-one, owner inactive"
        )
    if transfer_to is not None and (why := refusal(transfer_to)):
        raise Refused(refusal_message(transfer_to, why))
    if transfer_to is not None and transfer_to.id == user.id:
        raise InvalidInput("cannot transfer a user's accounts to themselves")
    if transfer_to is None or not roles:
        if not dry_run:
            set_active(session, user=user, active=False, actor=actor)
        return None
    target = transfer_to

    def body(ctx: OperationContext) -> Extra:
        book = select(Assignment.account_id).where(Assignment.user_id == user.id, plan.is_open())
        targets = plan.lock_targets(ctx, book)
        role_rows = [get_role(session, role) for role in roles]
        for role_row in role_rows:
            plan.plan_closes(
                ctx,
                account_ids=targets,
                user_id=user.id,
                role=role_row.name,
                skip_inheriting=role_row.inheritable,
            )
            plan.plan_replacements(ctx, user_id=target.id, role=role_row.name, source="manual")
        inheritable = any(role_row.inheritable for role_row in role_rows)
        propagate(ctx, inheritable=inheritable, roots_own=len(role_rows) == 1)
        set_active(session, user=user, active=False, actor=actor)
        return Extra(keep_if_unchanged=True)

    return run_operation(
        session,
        kind="deactivate",
        actor=actor,
        parameters={"user": user.email, "transfer_to": target.email, "roles": roles},
        reason=f"{user.email} deactivated",
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )
