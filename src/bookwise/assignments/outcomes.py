"""What an operation reports back: per-id outcomes in request order and a sample of changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    case,
    exists,
    select,
    true,
)
from sqlalchemy.orm import aliased

from bookwise.assignments.plan import SAMPLE_SIZE, OperationContext, inherits
from bookwise.models import (
    Account,
    PlanRow,
    RequestItem,
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


def planned(ctx: OperationContext, *, action: str, user_id: Any) -> ColumnElement[bool]:
    """SQL: the plan has ``action`` for (the request item's account, ``user_id``) in phase 1."""
    return exists().where(
        PlanRow.operation_id == ctx.op_id,
        PlanRow.phase == 1,
        PlanRow.action == action,
        PlanRow.account_id == RequestItem.account_id,
        PlanRow.user_id == user_id,
    )


def request_outcomes(
    ctx: OperationContext,
    *,
    user_ids: list[int],
    done: str,
    action: str,
    otherwise: str,
    check_inherits: bool,
) -> list[tuple[int, str, int | None, int, str]]:
    """Per requested id × user: (position, ref, account id, user id, outcome), in order."""
    account = _ACCOUNT
    owner = _OWNER_USER
    whens: list[tuple[ColumnElement[bool], str]] = [(RequestItem.account_id.is_(None), "not_found")]
    if check_inherits:
        whens.append((inherits(account, ctx.default_policy), "refused_inherits"))
    whens.append((planned(ctx, action=action, user_id=owner.id), done))
    outcome = case(*whens, else_=otherwise)
    rows = ctx.session.execute(
        select(RequestItem.position, RequestItem.ref, RequestItem.account_id, owner.id, outcome)
        .outerjoin(account, account.id == RequestItem.account_id)
        .join(owner, owner.id.in_(user_ids) if user_ids else true())
        .where(RequestItem.operation_id == ctx.op_id)
        .order_by(RequestItem.position, owner.id)
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
