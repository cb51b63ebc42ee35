"""What an operation reports back: per-id outcomes in request order and a sample of changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.orm import aliased

from bookwise.assignments.plan import SAMPLE_SIZE, OperationContext, inherits
from bookwise.models import (
    Account,
    Assignment,
    PlanRow,
    RequestItem,
    TargetRow,
    User,
)

# Aliases are built once: building one per call costs more than the SQL it makes.
_ACCOUNT = aliased(Account, name="account")
_OWNER_USER = aliased(User, name="owner")


def sample_changes(ctx: OperationContext, limit: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """The first changes of the plan (by account), joined to names for display."""
    rows = ctx.session.execute(
        select(
            PlanRow.account_id,
            Account.external_id,
            Account.name,
            User.email,
            PlanRow.role,
            PlanRow.action,
            PlanRow.source,
        )
        .join(Account, Account.id == PlanRow.account_id)
        .join(User, User.id == PlanRow.user_id)
        .where(PlanRow.operation_id == ctx.op_id)
        .order_by(PlanRow.phase, PlanRow.account_id, PlanRow.action, User.email_fold)
        .limit(limit)
    ).all()
    keys = ("account_id", "external_id", "name", "user", "role", "action", "source")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def planned(
    ctx: OperationContext, *, action: str, user_id: Any, phase: int | None = None
) -> ColumnElement[bool]:
    """SQL: the plan has ``action`` for (the request item's account, ``user_id``), in
    ``phase`` or either (phase 2: the account followed its parent)."""
    return exists().where(
        PlanRow.operation_id == ctx.op_id,
        PlanRow.phase == phase if phase is not None else true(),
        PlanRow.action == action,
        PlanRow.account_id == RequestItem.account_id,
        PlanRow.user_id == user_id,
    )


def still_to_change(
    *, account_id: Any, user_id: Any, role: str, action: str
) -> ColumnElement[bool]:
    """SQL, after the operation applied: (account, user, role) is not as ``action`` wanted it
    (an open still missing, a close still open): what an inheriting account refused."""
    owns = exists().where(
        Assignment.account_id == account_id,
        Assignment.user_id == user_id,
        Assignment.role == role,
        Assignment.ended_at.is_(None),
    )
    return ~owns if action == "open" else owns


def request_outcomes(
    ctx: OperationContext,
    *,
    user_ids: list[int],
    role: str,
    done: str,
    action: str,
    otherwise: str,
    check_inherits: bool,
) -> list[tuple[int, str, int | None, int, str, bool]]:
    """Per requested id × user: (position, ref, account id, user id, outcome, whether it
    followed its parent), in order.

    An inheriting account is ``refused_inherits`` only where the operation would have
    changed it: it followed its parent instead (``done``), or needed nothing (``otherwise``).
    """
    account = _ACCOUNT
    owner = _OWNER_USER
    whens: list[tuple[ColumnElement[bool], str]] = [
        (RequestItem.account_id.is_(None), "not_found"),
        (planned(ctx, action=action, user_id=owner.id), done),
    ]
    if check_inherits:
        refused = and_(
            inherits(account, ctx.default_policy),
            still_to_change(account_id=account.id, user_id=owner.id, role=role, action=action),
        )
        whens.append((refused, "refused_inherits"))
    outcome = case(*whens, else_=otherwise)
    followed = planned(ctx, action=action, user_id=owner.id, phase=2)
    rows = ctx.session.execute(
        select(
            RequestItem.position,
            RequestItem.ref,
            RequestItem.account_id,
            owner.id,
            outcome,
            followed,
        )
        .outerjoin(account, account.id == RequestItem.account_id)
        .join(owner, owner.id.in_(user_ids) if user_ids else true())
        .where(RequestItem.operation_id == ctx.op_id)
        .order_by(RequestItem.position, owner.id)
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def refused_inherits_count(
    ctx: OperationContext, *, user_ids: list[int], role: str, action: str
) -> int:
    """Selected inheriting accounts (× user) the operation would have changed, and did not."""
    if not user_ids:
        return 0
    account = _ACCOUNT
    owner = _OWNER_USER
    count = ctx.session.scalar(
        select(func.count())
        .select_from(TargetRow)
        .join(account, account.id == TargetRow.account_id)
        .join(owner, owner.id.in_(user_ids))
        .where(
            TargetRow.operation_id == ctx.op_id,
            TargetRow.follower.is_(False),
            inherits(account, ctx.default_policy),
            still_to_change(account_id=account.id, user_id=owner.id, role=role, action=action),
        )
    )
    return int(count or 0)
